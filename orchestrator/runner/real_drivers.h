#pragma once
// The real side effects behind runner/drivers.h: the libvirt lab (lab::Lab), SSH to
// the scanner (remote::SshSession) and libpcap capture on the router (capture::LiveCapture).
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/config/experiment.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/runner/drivers.h"
#include "orchestrator/runner/runner.h"

namespace testbed::runner {

struct LabDriverOptions {
  std::string lab_name;  ///< default: default_lab_name(experiment)
  std::string uri;       ///< default: config::lab_uris(experiment) (its `uri`, else per backend)
  bool keep = false;     ///< the lab outlives this process (`--keep`): gc leaves it alone
  /// When it becomes true, a command running on the scanner is ended (Ctrl-C).
  const std::atomic<bool>* cancel = nullptr;
};

/// The experiment's name as a lab name ([a-z][a-z0-9-]{0,23}).
std::string default_lab_name(const config::Experiment& exp);
/// Every image the experiment needs in its topology: the non-scanner nodes' images and
/// every scanner version's image, without duplicates.
std::vector<std::string> images_needed(const config::Experiment& exp, const config::Topology& topo);

/// A lab for the experiment's topology on its backend. Loading the topology may fail.
util::Result<std::unique_ptr<LabDriver>> make_lab_driver(const config::Experiment& exp,
                                                         const LabDriverOptions& opts);
std::unique_ptr<CaptureDriver> make_capture_driver();
/// Drivers for each of the experiment's `host_count` lab hosts (run_experiment_on_hosts):
/// a lab on the host's URI named runner::host_lab_name(lab name, index, host_count).
/// `exp` must outlive the factory.
HostDriverFactory make_host_driver_factory(const config::Experiment& exp,
                                           const LabDriverOptions& opts, size_t host_count);

/// CLOCK_REALTIME in seconds: the clock libpcap stamps packets with on this host.
class SystemClock : public Clock {
 public:
  double now() const override;
};

}  // namespace testbed::runner
