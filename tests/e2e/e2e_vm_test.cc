// The VM backend end to end (label e2e): `testbed run experiments/ci-vm.yaml` brings up
// router, scanner and target as QEMU guests under TCG, scans twice with Nmap 7.80, each
// run from restored saved states (snapshot resets), captures on the router's scan tap,
// writes the run directories and the report, and takes the lab down. The two restored
// runs must differ where two booted runs do (the scanner's random source port and initial
// sequence numbers), and each restored guest's clock must be within 50 ms of the host's.
// Then SIGINT while a node is being restored, and `testbed gc`: nothing may be left
// (domains, networks, taps, node disks, saved states, QEMU processes, state).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/support/testbed_cli.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;
using test_support::launch;
using test_support::tshark_counts;

const std::string kTestbed = std::string(TESTBED_BINARY_DIR) + "/testbed";
const std::string kExperiment = std::string(TESTBED_SOURCE_DIR) + "/experiments/ci-vm.yaml";

// Everything of a VM lab named `lab` still on this host.
std::vector<std::string> vm_leftovers(const std::string& lab, const fs::path& state_root) {
  std::vector<std::string> out = test_support::libvirt_objects_of("qemu:///system", lab);
  const std::string prefix = "tb-" + lab + "-";
  auto q = util::run_process({"pgrep", "-af", "qemu-system.*guest=" + prefix});
  if (q && !q->out.empty()) out.push_back("QEMU process: " + q->out);
  if (fs::exists(state_root / lab)) out.push_back("state dir " + (state_root / lab).string());
  return out;
}

TEST(VmEndToEnd, CiVmExperimentUnderTcg) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (libvirt QEMU, capture)";
  auto out = util::TempDir::create("testbed-e2e-vm", "/var/tmp");
  ASSERT_TRUE(out.ok());
  auto l = launch({"run", kExperiment, "--output", out->path().string(), "--lab-name", "e2evm"},
                  nullptr);
  ASSERT_EQ(l.exit_code, 0) << l.log;

  fs::path results = test_support::run_results_dir(out->path() / "ci-vm");
  ASSERT_FALSE(results.empty());
  // Both runs started from restored states, each reset recorded with its state and the
  // guest clock's correction.
  std::vector<std::string> first_syn;
  for (const char* rep : {"1", "2"}) {
    SCOPED_TRACE(std::string("run ") + rep);
    auto mj = nlohmann::json::parse(*util::read_file(results / "7.80" / rep / "manifest.json"));
    ASSERT_TRUE(mj.contains("resets")) << mj.dump(2);
    for (const char* node : {"scanner", "target1"}) {
      SCOPED_TRACE(node);
      const auto& r = mj["resets"][node];
      EXPECT_EQ(r["method"], "snapshot") << r.dump(2);
      EXPECT_EQ(r["state_sha256"].get<std::string>().size(), 64u) << r.dump(2);
      EXPECT_GT(r["state_taken"].get<int64_t>(), 1700000000) << r.dump(2);
      EXPECT_EQ(r["reseeded"], true) << r.dump(2);
      EXPECT_EQ(r["other_tcp_connections"], 0) << r.dump(2);
      EXPECT_LT(std::abs(r["clock_offset_ms"]["after_correction"].get<double>()), 50.0)
          << r.dump(2);
    }
    EXPECT_EQ(mj["lab"]["reset"], "snapshot") << mj["lab"].dump(2);
    // The scanner's SYN probes: source port and sequence number of the first one.
    auto syn = util::run_checked(
        {"tshark", "-r", (results / "7.80" / rep / "capture.pcap").string(), "-n", "-Y",
         "ip.src==172.24.0.10 && tcp.flags.syn==1 && tcp.flags.ack==0", "-T", "fields", "-e",
         "tcp.srcport", "-e", "tcp.seq_raw"});
    ASSERT_TRUE(syn.ok()) << syn.error().message;
    first_syn.push_back(syn->out.substr(0, syn->out.find('\n')));
    EXPECT_FALSE(first_syn.back().empty()) << "no SYN probe in run " << rep;
  }
  // Two runs restored from one saved state still draw their own random numbers.
  EXPECT_NE(first_syn[0], first_syn[1]) << "the first SYN probe repeats: " << first_syn[0];
  fs::path run = results / "7.80" / "1";
  for (const char* f : {"capture.pcap", "nmap.xml", "nmap.log", "phases.json", "manifest.json"})
    EXPECT_TRUE(fs::exists(run / f)) << f;
  auto m = nlohmann::json::parse(*util::read_file(run / "manifest.json"));
  EXPECT_EQ(m["status"], "complete");
  EXPECT_EQ(m["lab"]["backend"], "vm");
  EXPECT_EQ(m["lab"]["accel"], "tcg") << m["lab"].dump(2);
  EXPECT_EQ(m["lab"]["uri"], "qemu:///system");
  EXPECT_EQ(m["capture"]["kernel_dropped"], 0);
  EXPECT_EQ(m["capture"]["interface_dropped"], 0);
  EXPECT_NE(m["scanner_version"].get<std::string>().find("Nmap version 7.80"), std::string::npos);
  EXPECT_GT(m["capture"]["packets"].get<uint64_t>(), 1000u);

  // Table 1 equals tshark's counts on the capture.
  auto rep = nlohmann::json::parse(*util::read_file(results / "report.json"));
  ASSERT_EQ(rep["analysis"]["captures"].size(), 1u);  // Table 1: each version's first run
  const auto& c = rep["analysis"]["captures"][0];
  EXPECT_EQ(c["scanner"], "172.24.0.10");
  auto [sent, recv] = tshark_counts(c["pcap"].get<std::string>(), "172.24.0.10");
  EXPECT_GT(sent.tcp, 1000u);
  for (auto [dir, counts] : {std::pair{"sent", sent}, std::pair{"received", recv}}) {
    SCOPED_TRACE(dir);
    EXPECT_EQ(c[dir]["packets"].get<uint64_t>(), counts.packets);
    EXPECT_EQ(c[dir]["bytes"].get<uint64_t>(), counts.bytes);
    EXPECT_EQ(c[dir]["icmp"].get<uint64_t>(), counts.icmp);
    EXPECT_EQ(c[dir]["tcp"].get<uint64_t>(), counts.tcp);
    EXPECT_EQ(c[dir]["udp"].get<uint64_t>(), counts.udp);
  }
  // The report says what ran and that TCG durations do not compare.
  std::string html = *util::read_file(results / "report.html");
  EXPECT_NE(html.find("TCG"), std::string::npos);
  EXPECT_NE(html.find("not comparable"), std::string::npos);
  // Nothing left after the lab came down.
  auto left = vm_leftovers("e2evm", "/var/lib/testbed/labs");
  EXPECT_TRUE(left.empty()) << left.front();
}

TEST(VmEndToEnd, SigintMidRestoreThenGcLeavesNothing) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (libvirt QEMU, capture)";
  auto out = util::TempDir::create("testbed-e2e-vm-int", "/var/tmp");
  ASSERT_TRUE(out.ok());
  bool sent = false;
  auto l = launch({"run", kExperiment, "--output", out->path().string(), "--lab-name", "e2evmint"},
                  [&](const std::string& line, pid_t pid) {
                    if (sent || line.find("restoring its saved state") == std::string::npos)
                      return;
                    sent = true;
                    ::kill(pid, SIGINT);  // while libvirt restores the guest
                  });
  ASSERT_TRUE(sent) << "no node was restored:\n" << l.log;
  EXPECT_EQ(l.exit_code, 130) << l.log;
  fs::path results = test_support::run_results_dir(out->path() / "ci-vm");
  ASSERT_FALSE(results.empty());
  EXPECT_FALSE(fs::exists(results / "7.80" / "1" / "manifest.json")) << "never complete";
  auto f = nlohmann::json::parse(*util::read_file(results / "7.80" / "1" / "failure.json"));
  EXPECT_EQ(f["status"], "interrupted");
  auto gc = util::run_process({kTestbed, "gc"});
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->exit_code, 0) << gc->out << gc->err;
  auto left = vm_leftovers("e2evmint", "/var/lib/testbed/labs");
  EXPECT_TRUE(left.empty()) << left.front();
}

}  // namespace
}  // namespace testbed
