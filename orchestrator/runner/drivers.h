#pragma once
// The side effects the experiment runner needs, as interfaces: the lab (libvirt), a
// shell on the scanner node (libssh) and the packet capture (libpcap). The real
// implementations adapt lab::Lab, remote::SshSession and capture::LiveCapture
// (runner/real_drivers.cc); tests substitute fakes (tests/runner/fakes.h).
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"

namespace testbed::runner {

/// What the runner needs to know about a lab that is up.
struct LabFacts {
  std::string name;             ///< libvirt-level lab name
  std::string scanner_node;     ///< node that runs the scanner
  std::string scanner_address;  ///< its address on the scan network
  std::string scan_interface;   ///< its interface on the scan network (named after it)
  std::string router_mac;       ///< the router's MAC on the scan network (masscan, ZMap)
  std::vector<std::string> target_nodes;
  std::vector<std::string> target_subnets;  ///< CIDRs of the targets network(s): the scan scope
  std::string capture_interface;            ///< host-side device of the router's scan interface
  /// Set when that device is on a remote lab host: the capture runs there over SSH.
  std::optional<remote::SshTarget> capture_host;
  nlohmann::json provenance;  ///< libvirt/kernel versions, topology hash, ...
};

/// A shell on the scanner node.
class ScannerShell {
 public:
  virtual ~ScannerShell() = default;
  /// Runs argv (never through a shell on our side; quoted for the remote shell), on a
  /// PTY, delivering each output line as it arrives. Returns the exit status.
  virtual util::Result<int> run_streaming(const std::vector<std::string>& argv,
                                          const std::function<void(std::string_view)>& on_line,
                                          std::chrono::milliseconds timeout) = 0;
  /// Runs argv and returns its standard output (non-zero exit is an error).
  virtual util::Result<std::string> output_of(const std::vector<std::string>& argv) = 0;
  /// Copies a file from the node.
  virtual util::Status fetch(const std::string& remote_path, const std::string& local_path) = 0;
};

/// The lab an experiment runs in. Single-threaded use, except down(), which may be
/// called from a signal-watching thread to abort a scan in progress.
class LabDriver {
 public:
  virtual ~LabDriver() = default;
  /// Builds and starts the lab; afterwards facts() is valid.
  virtual util::Status up() = 0;
  virtual const LabFacts& facts() const = 0;
  /// (Re)starts the scanner node on `image` with a pristine root and waits until ready.
  virtual util::Status prepare_scanner(const std::string& image) = 0;
  /// Resets every target to its pristine image and waits for its health checks.
  virtual util::Status reset_targets() = 0;
  /// Before a run: resets the targets (when `targets`) and starts the scanner node on
  /// `image`, recording how each node was reset into `resets` and naming in `stage` the
  /// runner stage a failure belongs to. This default does one after the other; a lab that
  /// can overlaps them (the VM resets restore in parallel).
  virtual util::Status reset_for_run(bool targets, const std::string& image,
                                     nlohmann::json* resets, std::string* stage) {
    if (targets) {
      *stage = "reset-targets";
      if (auto st = reset_targets(); !st) return st;
      resets->update(last_resets());
    }
    *stage = "start-scanner";
    if (auto st = prepare_scanner(image); !st) return st;
    resets->update(last_resets());
    return {};
  }
  /// Checks that every target still runs and passes its health checks. Called after each
  /// scan: a target that died or lost a service mid-scan leaves a capture that is not a
  /// scan of the lab as specified, so the run must not be marked complete.
  virtual util::Status check_targets() = 0;
  /// The manifest of the image a node currently runs (provenance).
  virtual util::Result<nlohmann::json> image_manifest(const std::string& node) = 0;
  virtual util::Result<std::unique_ptr<ScannerShell>> scanner_shell() = 0;
  /// Hands the scanner node one frame that only it sees (capture/wake_frame.h): for a
  /// scanner whose tracker says it is lingering (analysis::ConsoleTracker::lingering).
  virtual util::Status wake_scanner() { return util::fail("this lab cannot wake its scanner"); }
  /// How the nodes of the last prepare_scanner / reset_targets call were reset, node ->
  /// record (lab::to_json(NodeReset)); the run manifest's "resets".
  virtual nlohmann::json last_resets() const { return nlohmann::json::object(); }
  /// Takes the lab down; idempotent.
  virtual util::Status down() = 0;
  /// Whether the host the lab runs on still answers (libvirt and SSH for a remote lab
  /// host): asked after a failed run, so a run that failed because its host died is
  /// placed on another host instead of being recorded as failed.
  virtual util::Status host_alive() { return {}; }
};

struct CaptureSettings {
  std::string interface;
  std::optional<remote::SshTarget> host;  ///< remote lab host (LabFacts::capture_host)
  std::string output_path;
  int snaplen = 262144;
  int buffer_bytes = 64 << 20;
  double grace_seconds = 2.0;
};

struct CaptureCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t kernel_dropped = 0;
  uint64_t interface_dropped = 0;
};

class ActiveCapture {
 public:
  virtual ~ActiveCapture() = default;
  virtual uint64_t packets_so_far() const = 0;
  /// Waits the grace period, stops, finalises the file; fails on any write error.
  virtual util::Result<CaptureCounters> stop() = 0;
};

class CaptureDriver {
 public:
  virtual ~CaptureDriver() = default;
  virtual util::Result<std::unique_ptr<ActiveCapture>> start(const CaptureSettings& s) = 0;
};

/// An IDS sensor listening beside the capture for one run (cli wires ids/live.h in).
class RunSensor {
 public:
  virtual ~RunSensor() = default;  ///< stops the sensor if stop() was not called
  /// Stops it; returns the run manifest's "ids" object.
  virtual util::Result<nlohmann::json> stop() = 0;
};

/// Wall clock in seconds since the Unix epoch — the clock pcap timestamps use.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual double now() const = 0;
};

}  // namespace testbed::runner
