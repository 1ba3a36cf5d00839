// The VM backend end to end (label e2e): `testbed run experiments/ci-vm.yaml` brings up
// router, scanner and target as QEMU guests under TCG, scans once with Nmap 7.80,
// captures on the router's scan tap, writes the run directory and the report, and takes
// the lab down. Then SIGINT mid-scan on a VM lab, and `testbed gc`: nothing may be left
// (domains, networks, taps, node disks, QEMU processes, state).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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
  ASSERT_EQ(rep["analysis"]["captures"].size(), 1u);
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

TEST(VmEndToEnd, SigintMidScanThenGcLeavesNothing) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (libvirt QEMU, capture)";
  auto out = util::TempDir::create("testbed-e2e-vm-int", "/var/tmp");
  ASSERT_TRUE(out.ok());
  bool sent = false;
  auto l = launch({"run", kExperiment, "--output", out->path().string(), "--lab-name", "e2evmint"},
                  [&](const std::string& line, pid_t pid) {
                    if (sent || line.find("nmap: phase") == std::string::npos) return;
                    sent = true;
                    std::thread([pid] {
                      std::this_thread::sleep_for(std::chrono::seconds(3));
                      ::kill(pid, SIGINT);
                    }).detach();
                  });
  ASSERT_TRUE(sent) << "the scan never started:\n" << l.log;
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
