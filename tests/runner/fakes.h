#pragma once
// Fakes of the runner's side effects: a lab that records what was asked of it, a
// scanner shell that replays a scripted console output, and a capture that writes a
// small valid pcap.
#include <fmt/format.h>
#include <pcap/pcap.h>

#include <fstream>
#include <map>

#include "orchestrator/runner/drivers.h"
#include "orchestrator/util/files.h"

namespace testbed::runner::testing {

class FakeClock : public Clock {
 public:
  double now() const override { return t_ += 0.5; }
  mutable double t_ = 1764193000.0;
};

struct FakeLabScript {
  std::vector<std::string> scan_lines = {
      "Starting Nmap 7.80 ( https://nmap.org ) at 2026-11-26 21:50 UTC",
      "Initiating Ping Scan at 21:50",
      "Scanning 256 hosts [4 ports/host]",
      "Completed Ping Scan at 21:50, 2.01s elapsed (256 total hosts)",
      "Initiating SYN Stealth Scan at 21:50",
      "Completed SYN Stealth Scan at 21:50, 1.10s elapsed (1000 total ports)",
      "Initiating Service scan at 21:50",
      "Completed Service scan at 21:51, 6.02s elapsed (5 services on 1 host)",
      "Nmap done: 256 IP addresses (1 host up) scanned in 12.00 seconds"};
  int exit_status = 0;
  /// The exit statuses of the first scans (not `date`), in order (then exit_status): 134 is a scanner
  /// that died of SIGABRT, as ssh reports it.
  std::vector<int> exit_statuses;
  mutable size_t scans = 0;
  std::string fail_prepare_for_image;  ///< prepare_scanner fails for this image
  /// prepare_scanner fails from its (n+1)-th call on (the lab broke after n runs)
  int fail_prepare_after = -1;
  bool fail_up = false;
  bool target_dies = false;  ///< check_targets fails (a target died mid-scan)
  bool host_dies = false;    ///< host_alive fails (the whole lab host went away)
  /// When set, `date +%s.%N` prints this clock's next reading minus line_latency (the
  /// node shares the host clock, as LXC nodes do); otherwise `date` prints the scan lines.
  const FakeClock* clock = nullptr;
  double line_latency = 0.0004;
};

class FakeShell : public ScannerShell {
 public:
  FakeShell(const FakeLabScript& s, std::vector<std::string>* log) : s_(s), log_(log) {}
  util::Result<int> run_streaming(const std::vector<std::string>& argv,
                                  const std::function<void(std::string_view)>& on_line,
                                  std::chrono::milliseconds) override {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    log_->push_back("run " + cmd);
    if (argv[0] == "date" && s_.clock) {
      on_line(fmt::format("{:.6f}\r", s_.clock->t_ + 0.5 - s_.line_latency));
      return 0;
    }
    for (const auto& l : s_.scan_lines) on_line(l + "\r");
    if (argv[0] != "date" && s_.scans < s_.exit_statuses.size())
      return s_.exit_statuses[s_.scans++];
    return s_.exit_status;
  }
  util::Result<std::string> output_of(const std::vector<std::string>& argv) override {
    log_->push_back("output_of " + argv[0] + " " + argv[1]);
    return std::string("Nmap version 7.80 ( https://nmap.org )\n");
  }
  util::Status fetch(const std::string& remote, const std::string& local) override {
    log_->push_back("fetch " + remote);
    return util::write_file_atomic(local, "<?xml version=\"1.0\"?><nmaprun/>\n");
  }

 private:
  const FakeLabScript& s_;
  std::vector<std::string>* log_;
};

class FakeLab : public LabDriver {
 public:
  explicit FakeLab(FakeLabScript s = {}) : s_(std::move(s)) {
    facts_.name = "fake";
    facts_.scanner_node = "scanner";
    facts_.scanner_address = "172.24.0.10";
    facts_.target_nodes = {"target1"};
    facts_.target_subnets = {"172.24.1.0/24"};
    facts_.capture_interface = "tbfake-r0";
  }
  util::Status up() override {
    calls.push_back("up");
    if (s_.fail_up) return util::fail("no libvirtd");
    return {};
  }
  const LabFacts& facts() const override { return facts_; }
  util::Status prepare_scanner(const std::string& image) override {
    calls.push_back("prepare " + image);
    if (image == s_.fail_prepare_for_image) return util::fail("image {} is not built", image);
    if (s_.fail_prepare_after >= 0 && prepares_++ >= s_.fail_prepare_after)
      return util::fail("cannot start the scanner node: connection to libvirtd lost");
    return {};
  }
  util::Status reset_targets() override {
    calls.push_back("reset");
    return {};
  }
  util::Status check_targets() override {
    calls.push_back("check-targets");
    if (s_.target_dies) return util::fail("target target1 stopped during the scan");
    return {};
  }
  util::Status host_alive() override {
    calls.push_back("host-alive");
    if (s_.host_dies) return util::fail("no route to host");
    return {};
  }
  util::Result<nlohmann::json> image_manifest(const std::string& node) override {
    return nlohmann::json{{"node", node}};
  }
  util::Result<std::unique_ptr<ScannerShell>> scanner_shell() override {
    return std::unique_ptr<ScannerShell>(new FakeShell(s_, &calls));
  }
  util::Status wake_scanner() override {
    calls.push_back("wake");
    return {};
  }
  util::Status down() override {
    calls.push_back("down");
    return {};
  }
  std::vector<std::string> calls;
  LabFacts facts_;

 private:
  FakeLabScript s_;
  int prepares_ = 0;
};

/// A LabDriver that forwards to a FakeLab the test owns, so the test can read the
/// fake's calls after the runner has destroyed the driver.
class BorrowedLab : public LabDriver {
 public:
  explicit BorrowedLab(FakeLab& lab) : lab_(lab) {}
  util::Status up() override { return lab_.up(); }
  const LabFacts& facts() const override { return lab_.facts(); }
  util::Status prepare_scanner(const std::string& image) override {
    return lab_.prepare_scanner(image);
  }
  util::Status reset_targets() override { return lab_.reset_targets(); }
  util::Status check_targets() override { return lab_.check_targets(); }
  util::Status host_alive() override { return lab_.host_alive(); }
  util::Result<nlohmann::json> image_manifest(const std::string& node) override {
    return lab_.image_manifest(node);
  }
  util::Result<std::unique_ptr<ScannerShell>> scanner_shell() override {
    return lab_.scanner_shell();
  }
  util::Status wake_scanner() override { return lab_.wake_scanner(); }
  util::Status down() override { return lab_.down(); }

 private:
  FakeLab& lab_;
};

/// Writes a pcap with `packets` tiny Ethernet frames when stopped.
class FakeCapture : public CaptureDriver {
 public:
  class Active : public ActiveCapture {
   public:
    explicit Active(std::string path) : path_(std::move(path)) {}
    uint64_t packets_so_far() const override { return 0; }
    util::Result<CaptureCounters> stop() override {
      pcap_t* p = pcap_open_dead(DLT_EN10MB, 65535);
      pcap_dumper_t* d = pcap_dump_open(p, path_.c_str());
      if (!d) return util::fail("cannot write {}", path_);
      pcap_dump_close(d);
      pcap_close(p);
      return CaptureCounters{0, 0, 0, 0};
    }

   private:
    std::string path_;
  };
  util::Result<std::unique_ptr<ActiveCapture>> start(const CaptureSettings& s) override {
    started.push_back(s);
    return std::unique_ptr<ActiveCapture>(new Active(s.output_path));
  }
  std::vector<CaptureSettings> started;
};

}  // namespace testbed::runner::testing
