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

namespace testbed {
namespace {
namespace fs = std::filesystem;

const std::string kTestbed = std::string(TESTBED_BINARY_DIR) + "/testbed";
const std::string kExperiment = std::string(TESTBED_SOURCE_DIR) + "/experiments/ci-vm.yaml";

fs::path only_subdir(const fs::path& p) {
  fs::path found;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(p, ec))
    if (e.is_directory()) found = e.path();
  return found;
}

struct Counts {
  uint64_t packets = 0, bytes = 0, icmp = 0, tcp = 0, udp = 0;
};

// Table 1's columns counted by tshark, independently of testbed (outer IPv4 header).
std::pair<Counts, Counts> tshark_counts(const fs::path& pcap, const std::string& scanner) {
  auto r = util::run_process({"tshark", "-n", "-r", pcap.string(), "-Y", "ip", "-T", "fields", "-E",
                              "occurrence=f", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.proto",
                              "-e", "frame.len"});
  EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.error().message);
  Counts sent, recv;
  std::istringstream in(r.ok() ? r->out : "");
  std::string src, dst;
  int proto = 0;
  uint64_t len = 0;
  while (in >> src >> dst >> proto >> len) {
    Counts* c = src == scanner ? &sent : dst == scanner ? &recv : nullptr;
    if (!c) continue;
    ++c->packets;
    c->bytes += len;
    if (proto == 1) ++c->icmp;
    if (proto == 6) ++c->tcp;
    if (proto == 17) ++c->udp;
  }
  return {sent, recv};
}

// Everything of a VM lab named `lab` still on this host.
std::vector<std::string> vm_leftovers(const std::string& lab, const fs::path& state_root) {
  std::vector<std::string> out;
  const std::string prefix = "tb-" + lab + "-";
  for (const char* what : {"list", "net-list"}) {
    auto r = util::run_process({"virsh", "-q", "-c", "qemu:///system", what, "--all", "--name"});
    if (!r || r->exit_code != 0) {
      out.push_back(std::string("virsh ") + what + " failed");
      continue;
    }
    std::istringstream in(r->out);
    for (std::string l; std::getline(in, l);)
      if (l.rfind(prefix, 0) == 0) out.push_back(std::string(what) + ": " + l);
  }
  auto q = util::run_process({"pgrep", "-af", "qemu-system.*guest=" + prefix});
  if (q && !q->out.empty()) out.push_back("QEMU process: " + q->out);
  if (fs::exists(state_root / lab)) out.push_back("state dir " + (state_root / lab).string());
  return out;
}

struct Launch {
  int exit_code = -1;
  std::string log;
};

// Runs testbed with args; `on_line` sees every output line with the child's PID.
Launch launch(const std::vector<std::string>& args,
              const std::function<void(const std::string&, pid_t)>& on_line) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(kTestbed.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(kTestbed.c_str(), argv.data());
    _exit(127);
  }
  ::close(fds[1]);
  Launch l;
  FILE* f = ::fdopen(fds[0], "r");
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f)) {
    std::string line(buf);
    l.log += line;
    std::fputs(line.c_str(), stderr);
    if (on_line) on_line(line, pid);
  }
  std::fclose(f);
  int status = 0;
  ::waitpid(pid, &status, 0);
  l.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return l;
}

TEST(VmEndToEnd, CiVmExperimentUnderTcg) {
  ASSERT_EQ(::geteuid(), 0u) << "needs root (libvirt QEMU, capture)";
  auto out = util::TempDir::create("testbed-e2e-vm", "/var/tmp");
  ASSERT_TRUE(out.ok());
  auto l = launch({"run", kExperiment, "--output", out->path().string(), "--lab-name", "e2evm"},
                  nullptr);
  ASSERT_EQ(l.exit_code, 0) << l.log;

  fs::path results = only_subdir(out->path() / "ci-vm");
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
  fs::path results = only_subdir(out->path() / "ci-vm");
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
