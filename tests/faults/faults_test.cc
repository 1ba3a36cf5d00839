// Faults injected into real `testbed run`s (label faults; root, libvirtd, built images):
// SIGINT mid-scan, SIGTERM during lab up, kill -9 mid-scan. After each: no libvirt domain
// or network, host interface, overlay mount or state directory of the lab remains (after
// `testbed gc` for kill -9), no run is passed off as complete, and `--resume` completes
// the interrupted experiment. Prints a table of faults injected / survived / leftovers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/virt/naming.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

const std::string kTestbed = std::string(TESTBED_BINARY_DIR) + "/testbed";
const std::string kLab = "tbfault";
const fs::path kStateRoot = "/var/lib/testbed/labs";

struct Row {
  std::string fault;
  bool survived = false;
  std::vector<std::string> leftovers;
};
std::vector<Row>& table() {
  static std::vector<Row> rows;
  return rows;
}

/// Everything of lab kLab still on the host.
std::vector<std::string> leftovers() {
  std::vector<std::string> out;
  const std::string prefix = "tb-" + kLab + "-";
  for (const char* what : {"list", "net-list"}) {
    auto r = util::run_process({"virsh", "-q", "-c", "lxc:///system", what, "--all", "--name"});
    if (!r || r->exit_code != 0) {
      out.push_back(std::string("virsh ") + what + " failed");
      continue;
    }
    std::istringstream in(r->out);
    for (std::string l; std::getline(in, l);)
      if (l.rfind(prefix, 0) == 0) out.push_back(std::string(what) + ": " + l);
  }
  auto links = util::run_process({"ip", "-o", "link", "show"});
  const std::string tag = "tb" + virt::lab_tag(kLab);
  if (links && links->out.find(": " + tag) != std::string::npos)
    out.push_back("host interface " + tag + "*");
  for (const auto& m : virt::mounts_under(kStateRoot / kLab)) out.push_back("mount " + m);
  if (fs::exists(kStateRoot / kLab)) out.push_back("state dir " + (kStateRoot / kLab).string());
  return out;
}

struct Launch {
  int exit_code = -1;
  std::string log;  ///< stderr + stdout lines
};

/// Runs testbed with argv; `on_line` sees each output line with the child's PID and may
/// signal it. Returns when the child exits.
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

class Faults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (libvirt LXC, capture)";
    if (!fs::exists("/var/lib/testbed/images/scanner-nmap-7.80/current"))
      GTEST_SKIP() << "images not built (fixture testbed_images)";
    auto d = util::TempDir::create("testbed-faults", "/var/tmp");
    ASSERT_TRUE(d.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*d));
    // One scanner, one target: the smallest real experiment.
    exp_ = tmp_->path() / "fault.yaml";
    std::ofstream(exp_) << "name: fault\n"
                        << "topology: " << TESTBED_SOURCE_DIR << "/topology/two-subnet-small.yaml\n"
                        << "scanners:\n  - {label: \"7.80\", image: scanner-nmap-7.80}\n"
                        << "command: [nmap, -T4, -A, -v, -oX, \"{xml}\", \"{targets}\"]\n";
    util::run_process({kTestbed, "gc"});  // leftovers of an earlier crashed test, if any
  }
  void TearDown() override {
    if (tmp_) util::run_process({kTestbed, "lab", "down", kLab});
  }
  std::vector<std::string> run_args() const {
    return {"run", exp_.string(), "--output", (tmp_->path() / "out").string(), "--lab-name", kLab};
  }
  fs::path results_dir() const {
    for (auto& e : fs::directory_iterator(tmp_->path() / "out" / "fault")) return e.path();
    return {};
  }
  void record(const std::string& fault, bool survived) {
    table().push_back({fault, survived && !::testing::Test::HasFailure(), leftovers()});
    EXPECT_TRUE(table().back().leftovers.empty())
        << fault << ": " << fmt_list(table().back().leftovers);
  }
  static std::string fmt_list(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path exp_;
};

/// Sends `sig` `delay` after the first line containing `marker` (once).
std::function<void(const std::string&, pid_t)> signal_after(const std::string& marker, int sig,
                                                            std::chrono::milliseconds delay) {
  auto sent = std::make_shared<bool>(false);
  return [=](const std::string& line, pid_t pid) {
    if (*sent || line.find(marker) == std::string::npos) return;
    *sent = true;
    std::thread([=] {
      std::this_thread::sleep_for(delay);
      ::kill(pid, sig);
    }).detach();
  };
}

TEST_F(Faults, SigintMidScanThenResume) {
  auto l = launch(run_args(), signal_after("nmap: phase", SIGINT, std::chrono::seconds(4)));
  EXPECT_EQ(l.exit_code, 130) << "interrupted runs exit 130";
  fs::path run = results_dir() / "7.80" / "1";
  EXPECT_FALSE(fs::exists(run / "manifest.json")) << "an interrupted run is never complete";
  auto failure = util::read_file(run / "failure.json");
  ASSERT_TRUE(failure.ok()) << "failure.json says why the run is incomplete";
  EXPECT_EQ(nlohmann::json::parse(*failure)["status"], "interrupted");
  EXPECT_NE(l.log.find("--resume"), std::string::npos) << "tells how to continue";
  record("SIGINT mid-scan", l.exit_code == 130);

  auto r = launch({"run", exp_.string(), "--resume", results_dir().string(), "--lab-name", kLab},
                  nullptr);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(fs::exists(run / "manifest.json"));
  EXPECT_TRUE(fs::exists(results_dir() / "report.html"));
  record("--resume after SIGINT", r.exit_code == 0);
}

TEST_F(Faults, SigtermDuringLabUp) {
  auto l = launch(run_args(),
                  signal_after("bringing the lab up", SIGTERM, std::chrono::milliseconds(300)));
  EXPECT_EQ(l.exit_code, 130);
  EXPECT_FALSE(fs::exists(results_dir() / "7.80" / "1" / "manifest.json"));
  record("SIGTERM during lab up", l.exit_code == 130);
}

TEST_F(Faults, Kill9MidScanThenGc) {
  auto l = launch(run_args(), signal_after("nmap: phase", SIGKILL, std::chrono::seconds(3)));
  EXPECT_EQ(l.exit_code, 128 + SIGKILL);
  EXPECT_FALSE(leftovers().empty()) << "kill -9 leaves the lab for gc";
  EXPECT_FALSE(fs::exists(results_dir() / "7.80" / "1" / "manifest.json"));
  auto gc = util::run_process({kTestbed, "gc"});
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->exit_code, 0) << gc->err;
  EXPECT_NE(gc->out.find("removed: "), std::string::npos) << gc->out;
  auto gc2 = util::run_process({kTestbed, "gc"});
  ASSERT_TRUE(gc2.ok());
  EXPECT_NE(gc2->out.find("nothing to remove"), std::string::npos) << gc2->out;
  record("kill -9 mid-scan, then gc", gc->exit_code == 0);
}

/// Destroys lab node `node` (as if it crashed) `delay` after the scan starts.
std::function<void(const std::string&, pid_t)> kill_node_after_scan_start(
    const std::string& node, std::chrono::milliseconds delay) {
  auto sent = std::make_shared<bool>(false);
  return [=](const std::string& line, pid_t) {
    if (*sent || line.find("nmap: phase") == std::string::npos) return;
    *sent = true;
    std::thread([=] {
      std::this_thread::sleep_for(delay);
      util::run_process(
          {"virsh", "-q", "-c", "lxc:///system", "destroy", "tb-" + kLab + "-" + node});
    }).detach();
  };
}

TEST_F(Faults, TargetKilledMidScanFailsTheRun) {
  auto l = launch(run_args(), kill_node_after_scan_start("target1", std::chrono::seconds(4)));
  EXPECT_EQ(l.exit_code, 1) << "a failed run exits 1";
  fs::path run = results_dir() / "7.80" / "1";
  EXPECT_FALSE(fs::exists(run / "manifest.json")) << "a scan of a dead target is not complete";
  auto failure = util::read_file(run / "failure.json");
  ASSERT_TRUE(failure.ok());
  auto f = nlohmann::json::parse(*failure);
  EXPECT_EQ(f["status"], "failed");
  EXPECT_NE(f["error"].get<std::string>().find("target1"), std::string::npos) << f.dump();
  record("target killed mid-scan", l.exit_code == 1);
}

TEST_F(Faults, ScannerKilledMidScanFailsTheRun) {
  auto l = launch(run_args(), kill_node_after_scan_start("scanner", std::chrono::seconds(4)));
  EXPECT_EQ(l.exit_code, 1);
  fs::path run = results_dir() / "7.80" / "1";
  EXPECT_FALSE(fs::exists(run / "manifest.json"));
  auto failure = util::read_file(run / "failure.json");
  ASSERT_TRUE(failure.ok());
  EXPECT_EQ(nlohmann::json::parse(*failure)["stage"], "scan") << *failure;
  record("scanner killed mid-scan", l.exit_code == 1);
}

class TablePrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    if (table().empty()) return;
    size_t survived = 0, left = 0;
    std::fprintf(stderr, "\n%-28s %-9s %s\n", "fault", "survived", "leftovers");
    for (const auto& r : table()) {
      survived += r.survived;
      left += r.leftovers.size();
      std::fprintf(stderr, "%-28s %-9s %zu\n", r.fault.c_str(), r.survived ? "yes" : "NO",
                   r.leftovers.size());
    }
    std::fprintf(stderr, "faults injected: %zu, survived: %zu, leftovers: %zu\n", table().size(),
                 survived, left);
  }
};
const auto* const kPrinter = ::testing::AddGlobalTestEnvironment(new TablePrinter);

}  // namespace
}  // namespace testbed
