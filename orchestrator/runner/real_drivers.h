#pragma once
// The real side effects behind runner/drivers.h: the libvirt lab (virt::Lab), SSH to
// the scanner (remote::SshSession) and libpcap capture on the router (capture::LiveCapture).
#include <memory>
#include <string>

#include "orchestrator/config/experiment.h"
#include "orchestrator/runner/drivers.h"

namespace testbed::runner {

struct LabDriverOptions {
  std::string lab_name;  ///< default: the experiment's name + a short unique suffix
  std::string uri;       ///< default: per backend (lxc:///system)
};

/// A lab for the experiment's topology on its backend. Loading the topology may fail.
util::Result<std::unique_ptr<LabDriver>> make_lab_driver(const config::Experiment& exp,
                                                         const LabDriverOptions& opts);
std::unique_ptr<CaptureDriver> make_capture_driver();

/// CLOCK_REALTIME in seconds: the clock libpcap stamps packets with on this host.
class SystemClock : public Clock {
 public:
  double now() const override;
};

}  // namespace testbed::runner
