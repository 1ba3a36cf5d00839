// Faults injected into real `testbed run`s and image builds (label faults; root, libvirtd,
// built images): SIGINT/SIGTERM during an image build (`image build` and the build `run`
// does), during lab up, mid-scan, while fetching the Nmap XML and during the report;
// kill -9 mid-scan; a target or the scanner node killed; libvirtd restarted mid-scan
// (suite LibvirtdRestart, its own ctest test, RUN_SERIAL). After each: no libvirt domain
// or network, host interface, overlay mount or state directory of the lab remains (after
// `testbed gc` for kill -9), no process the build started, temporary or partial image
// directory or mount of the image cache remains, no run is passed off as complete, and
// `--resume` completes the interrupted experiment. Builds go to a temporary image cache,
// never /var/lib/testbed/images. Prints a table of faults injected / survived / leftovers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/virt/naming.h"
#include "tests/support/testbed_cli.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

const std::string kTestbed = std::string(TESTBED_BINARY_DIR) + "/testbed";
using test_support::Launch;
using test_support::launch;
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

/// Everything of lab `lab` still on the host.
std::vector<std::string> leftovers(const std::string& lab = kLab) {
  std::vector<std::string> out = test_support::libvirt_objects_of("lxc:///system", lab);
  auto links = util::run_process({"ip", "-o", "link", "show"});
  const std::string tag = "tb" + virt::lab_tag(lab);
  if (links && links->out.find(": " + tag) != std::string::npos)
    out.push_back("host interface " + tag + "*");
  for (const auto& m : virt::mounts_under(kStateRoot / lab)) out.push_back("mount " + m);
  if (fs::exists(kStateRoot / lab)) out.push_back("state dir " + (kStateRoot / lab).string());
  return out;
}

/// A process, told apart from a later one with the same PID by its start time.
struct Proc {
  pid_t pid = 0;
  std::string start;  ///< field 22 of /proc/PID/stat
  std::string cmd;
};

/// Fields of /proc/PID/stat after the command: [0] = state, [1] = ppid, ..., [19] = start.
std::vector<std::string> stat_fields(pid_t pid) {
  auto stat = util::read_file("/proc/" + std::to_string(pid) + "/stat");
  std::vector<std::string> f;
  if (!stat) return f;
  auto p = stat->rfind(')');
  if (p == std::string::npos) return f;
  std::istringstream in(stat->substr(p + 2));
  for (std::string x; in >> x;) f.push_back(x);
  return f;
}

/// Every living descendant of `root` (children, their children, ...).
std::vector<Proc> descendants(pid_t root) {
  std::map<pid_t, std::vector<pid_t>> children;
  for (const auto& e : fs::directory_iterator("/proc")) {
    pid_t pid = std::atoi(e.path().filename().c_str());
    if (pid <= 0) continue;
    auto f = stat_fields(pid);
    if (f.size() > 1) children[std::atoi(f[1].c_str())].push_back(pid);
  }
  std::vector<Proc> out;
  std::vector<pid_t> todo = {root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    for (pid_t c : children[p]) {
      auto f = stat_fields(c);
      if (f.size() < 20 || f[0] == "Z") continue;
      auto cmd = util::read_file("/proc/" + std::to_string(c) + "/cmdline");
      std::string cl = cmd ? *cmd : "";
      std::replace(cl.begin(), cl.end(), '\0', ' ');
      out.push_back({c, f[19], cl.substr(0, 80)});
      todo.push_back(c);
    }
  }
  return out;
}

/// Those of `procs` still running (zombies count as gone).
std::vector<std::string> still_running(const std::vector<Proc>& procs) {
  std::vector<std::string> out;
  for (const auto& p : procs) {
    auto f = stat_fields(p.pid);
    if (f.size() >= 20 && f[0] != "Z" && f[19] == p.start)
      out.push_back("process " + std::to_string(p.pid) + " " + p.cmd);
  }
  return out;
}

/// What an interrupted build may have left in the image cache at `root`: anything in
/// .tmp/, a key directory without its manifest, a `current` that does not lead to a
/// complete image, a mount below the cache.
std::vector<std::string> cache_leftovers(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root / ".tmp", ec))
    out.push_back("temp " + e.path().string());
  for (const auto& n : fs::directory_iterator(root, ec)) {
    if (n.path().filename().string()[0] == '.' || !n.is_directory()) continue;
    for (const auto& k : fs::directory_iterator(n.path(), ec)) {
      std::string key = k.path().filename().string();
      if (key == ".lock") continue;
      if (key == "current") {
        if (!fs::exists(k.path() / "manifest.json")) out.push_back("dangling " + k.path().string());
        continue;
      }
      if (!fs::exists(k.path() / "manifest.json")) out.push_back("partial " + k.path().string());
    }
  }
  for (const auto& m : virt::mounts_under(root)) out.push_back("mount " + m);
  return out;
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
    write_experiment("-A");
    util::run_process({kTestbed, "gc"}).ok();  // leftovers of an earlier crashed test, if any
  }
  void TearDown() override {
    if (!tmp_) return;
    util::run_process({kTestbed, "lab", "down", "--ignore-missing", lab_})
        .ok();  // usually down already
    // Never let the temporary directory's removal walk into a mount a failed build left.
    for (const auto& m : virt::mounts_under(tmp_->path()))
      util::run_process({"umount", "--lazy", "--", m}).ok();
  }
  void write_experiment(const std::string& scan_option) {
    std::ofstream(exp_) << "name: fault\n"
                        << "topology: " << TESTBED_SOURCE_DIR << "/topology/two-subnet-small.yaml\n"
                        << "scanners:\n  - {label: \"7.80\", image: scanner-nmap-7.80}\n"
                        << "command: [nmap, -T4, " << scan_option
                        << ", -v, -oX, \"{xml}\", \"{targets}\"]\n";
  }
  /// Every TCP port of the target instead of -A: a shorter scan (~14 s against ~37 s) with
  /// a larger capture (~130k packets), so the report's analysis lasts ~0.5 s instead of a
  /// few ms and a signal sent when it starts lands inside it; the SFTP fetch of the XML
  /// takes ~40 ms either way.
  void use_all_ports_scan() { write_experiment("-p-"); }
  std::vector<std::string> run_args() const {
    return {"run", exp_.string(), "--output", (tmp_->path() / "out").string(), "--lab-name", lab_};
  }
  std::vector<std::string> resume_args() const {
    return {"run", exp_.string(), "--resume", results_dir().string(), "--lab-name", lab_};
  }
  fs::path results_dir() const {
    std::error_code ec;
    for (auto& e : fs::directory_iterator(tmp_->path() / "out" / "fault", ec))
      if (!e.is_symlink()) return e.path();  // not latest/latest-good
    return {};
  }
  /// The failure.json of a run that must not be complete (it has no manifest); an empty
  /// object when it is missing (a failed expectation).
  nlohmann::json failure_of(const fs::path& run) const {
    EXPECT_FALSE(fs::exists(run / "manifest.json")) << run << " is never complete";
    auto text = util::read_file(run / "failure.json");
    EXPECT_TRUE(text.ok()) << "failure.json says why " << run << " is incomplete";
    return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json::object();
  }
  /// `run --resume` finishes the experiment: exit 0, `run` complete, the report written.
  Launch resume_and_record(const std::string& fault, const fs::path& run) {
    auto r = launch(resume_args(), nullptr);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(fs::exists(run / "manifest.json"));
    EXPECT_TRUE(fs::exists(results_dir() / "report.html"));
    record(fault, r.exit_code == 0);
    return r;
  }
  /// A table row; `more` are leftovers beyond the lab's (processes, image cache).
  void record(const std::string& fault, bool survived, std::vector<std::string> more = {}) {
    auto left = leftovers(lab_);
    left.insert(left.end(), more.begin(), more.end());
    table().push_back({fault, survived && !::testing::Test::HasFailure(), left});
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
  std::string lab_ = kLab;
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
  EXPECT_EQ(failure_of(run)["status"], "interrupted");
  EXPECT_NE(l.log.find("--resume"), std::string::npos) << "tells how to continue";
  fs::path pointers = tmp_->path() / "out" / "fault";
  for (const char* p : {"latest", "latest-good"})
    EXPECT_FALSE(fs::is_symlink(pointers / p)) << p << " never names an interrupted run";
  record("SIGINT mid-scan", l.exit_code == 130);
  resume_and_record("--resume after SIGINT", run);
  for (const char* p : {"latest", "latest-good"})
    EXPECT_EQ(fs::read_symlink(pointers / p), results_dir().filename()) << p << ": now complete";
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
          {"virsh", "-q", "-c", "lxc:///system", "destroy", "tb-" + kLab + "-" + node})
          .ok();
    }).detach();
  };
}

TEST_F(Faults, TargetKilledMidScanFailsTheRun) {
  auto l = launch(run_args(), kill_node_after_scan_start("target1", std::chrono::seconds(4)));
  EXPECT_EQ(l.exit_code, 1) << "a failed run exits 1";
  auto f = failure_of(results_dir() / "7.80" / "1");  // a scan of a dead target
  EXPECT_EQ(f["status"], "failed");
  EXPECT_NE(f.value("error", "").find("target1"), std::string::npos) << f.dump();
  record("target killed mid-scan", l.exit_code == 1);
}

TEST_F(Faults, ScannerKilledMidScanFailsTheRun) {
  auto l = launch(run_args(), kill_node_after_scan_start("scanner", std::chrono::seconds(4)));
  EXPECT_EQ(l.exit_code, 1);
  auto f = failure_of(results_dir() / "7.80" / "1");
  EXPECT_EQ(f["stage"], "scan") << f.dump();
  record("scanner killed mid-scan", l.exit_code == 1);
}

/// What was under way when a build was signalled.
struct BuildSnapshot {
  std::vector<Proc> procs;          ///< every process below testbed
  std::vector<std::string> mounts;  ///< mounts below the image cache
  double seconds = 0;               ///< since the marker line
};

/// After the first line containing `marker`, waits until a mount appears below `cache`
/// (mmdebstrap has /proc, /sys, /dev of the new root mounted while it installs packages
/// in the chroot) or `at_most` passed, notes what runs and is mounted, then sends `sig`.
std::function<void(const std::string&, pid_t)> signal_build(const std::string& marker, int sig,
                                                            const fs::path& cache,
                                                            std::chrono::milliseconds at_most,
                                                            std::shared_ptr<BuildSnapshot> snap) {
  auto sent = std::make_shared<bool>(false);
  return [=](const std::string& line, pid_t pid) {
    if (*sent || line.find(marker) == std::string::npos) return;
    *sent = true;
    std::thread([=] {
      auto t0 = std::chrono::steady_clock::now();
      while (std::chrono::steady_clock::now() - t0 < at_most && virt::mounts_under(cache).empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      snap->procs = descendants(pid);
      snap->mounts = virt::mounts_under(cache);
      snap->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ::kill(pid, sig);
    }).detach();
  };
}

/// Names of the processes in `procs` (for the log: what the signal interrupted).
std::string proc_names(const std::vector<Proc>& procs) {
  std::map<std::string, int> n;
  for (const auto& p : procs) n[p.cmd.substr(0, p.cmd.find(' '))]++;
  std::string s;
  for (const auto& [k, c] : n) s += (s.empty() ? "" : ", ") + k + " x" + std::to_string(c);
  return s;
}

/// Everything an interrupted build left: processes it started, cache leftovers.
std::vector<std::string> build_leftovers(const BuildSnapshot& snap, const fs::path& cache) {
  auto left = still_running(snap.procs);
  auto c = cache_leftovers(cache);
  left.insert(left.end(), c.begin(), c.end());
  return left;
}

// A cold build of the small router image (mmdebstrap, ~15-30 s) into a temporary cache,
// SIGINT once mmdebstrap has mounted /proc, /sys and /dev in the new root (installing
// packages in the chroot, ~12 s in): every process it started stops, no mount, temporary
// or partial directory remains (only the lock file), exit 130.
TEST_F(Faults, SigintDuringImageBuild) {
  const fs::path cache = tmp_->path() / "images";
  auto snap = std::make_shared<BuildSnapshot>();
  auto l = launch({"image", "build", "router", "--cache", cache.string()},
                  signal_build("image build (", SIGINT, cache, std::chrono::seconds(90), snap));
  std::fprintf(stderr, "signalled %.1f s in, %zu processes below testbed (%s), %zu mounts\n",
               snap->seconds, snap->procs.size(), proc_names(snap->procs).c_str(),
               snap->mounts.size());
  EXPECT_EQ(l.exit_code, 130) << "an interrupted build exits 130";
  EXPECT_NE(l.log.find("interrupted by SIGINT"), std::string::npos) << "says what happened";
  EXPECT_NE(snap->procs.size(), 0u) << "the build was running when the signal came";
  EXPECT_NE(snap->mounts.size(), 0u) << "the build was in the chroot stage";
  auto list = util::run_process({kTestbed, "image", "list", "--cache", cache.string()});
  ASSERT_TRUE(list.ok());
  EXPECT_NE(list->out.find("no images"), std::string::npos) << list->out;
  record("SIGINT during image build", l.exit_code == 130, build_leftovers(*snap, cache));
}

// `testbed run` on a machine without images builds them first (here: into an empty
// temporary cache via TESTBED_IMAGE_DIR, two images at a time); SIGTERM 5 s in (apt
// downloading), an earlier stage than above.
TEST_F(Faults, SigtermDuringRunsImageBuild) {
  const fs::path cache = tmp_->path() / "images";
  auto snap = std::make_shared<BuildSnapshot>();
  // A mount already 5 s in would signal earlier: fine, either stage must be clean.
  auto l = launch(run_args(),
                  signal_build("image build (", SIGTERM, cache, std::chrono::seconds(5), snap),
                  {{"TESTBED_IMAGE_DIR", cache.string()}});
  std::fprintf(stderr, "signalled %.1f s in, %zu processes below testbed (%s), %zu mounts\n",
               snap->seconds, snap->procs.size(), proc_names(snap->procs).c_str(),
               snap->mounts.size());
  EXPECT_EQ(l.exit_code, 130);
  EXPECT_NE(l.log.find("interrupted while building the experiment's images"), std::string::npos);
  EXPECT_NE(snap->procs.size(), 0u);
  EXPECT_TRUE(results_dir().empty()) << "nothing was run: no results directory";
  record("SIGTERM during run's image build", l.exit_code == 130, build_leftovers(*snap, cache));
}

/// Sends `sig` as soon as a line containing `marker` appears (for short stages).
std::function<void(const std::string&, pid_t)> signal_at(const std::string& marker, int sig) {
  auto sent = std::make_shared<bool>(false);
  return [=](const std::string& line, pid_t pid) {
    if (*sent || line.find(marker) == std::string::npos) return;
    *sent = true;
    ::kill(pid, sig);
  };
}

// The runner logs "fetching <xml>" right before it copies Nmap's XML off the scanner (an
// SFTP session and transfer, ~40 ms here); the signal, sent the moment the line appears,
// lands while it runs, before the run is judged: the run must be marked interrupted at
// fetch-xml, never complete, and --resume redoes it.
TEST_F(Faults, SigintWhileFetchingResultsThenResume) {
  use_all_ports_scan();
  auto l = launch(run_args(), signal_at("fetching /root/testbed-", SIGINT));
  EXPECT_EQ(l.exit_code, 130);
  fs::path run = results_dir() / "7.80" / "1";
  auto f = failure_of(run);
  EXPECT_EQ(f["status"], "interrupted");
  EXPECT_EQ(f["stage"], "fetch-xml") << f.dump();
  EXPECT_FALSE(fs::exists(results_dir() / "report.html"));
  record("SIGINT while fetching nmap.xml", l.exit_code == 130);
  resume_and_record("--resume after it (run completed)", run);
}

// The report starts after the lab is down; "analysing 7.80/1" marks its first capture
// (~0.5 s of analysis for the ~130k packets of a -p- scan). The signal stops it before
// anything is written; the run stays complete, and --resume (nothing left to scan, so no
// lab) writes the report.
TEST_F(Faults, SigintDuringReportThenResume) {
  use_all_ports_scan();
  auto l = launch(run_args(), signal_at("analysing 7.80/1", SIGINT));
  EXPECT_EQ(l.exit_code, 130);
  fs::path run = results_dir() / "7.80" / "1";
  EXPECT_TRUE(fs::exists(run / "manifest.json")) << "the scan itself had completed";
  for (const char* f : {"report.html", "report.md", "report.json", "csv"})
    EXPECT_FALSE(fs::exists(results_dir() / f)) << f << ": nothing of the report is written";
  EXPECT_NE(l.log.find("--resume"), std::string::npos);
  record("SIGINT during analysis/report", l.exit_code == 130);

  auto r = resume_and_record("--resume after it (report written)", run);
  EXPECT_NE(r.log.find("0 run(s) to do"), std::string::npos) << "the run was kept";
}

// ---------------------------------------------------------------------------------------
// libvirtd restarted mid-scan. The daemon is shared by everything on this host, so this
// suite runs as its own ctest test with RUN_SERIAL (tests/faults/CMakeLists.txt), waits
// for other labs to go first, and brings libvirtd back in TearDown whatever happened.

/// Where libvirtd keeps its PID when orchestrator/host/setup-host.sh started it (`libvirtd
/// -d`, no systemd).
const fs::path kLibvirtdPidFile = "/run/libvirtd.pid";

bool libvirtd_answers() {
  auto r = util::run_process({"virsh", "-q", "-c", "lxc:///system", "uri"});
  return r.ok() && r->exit_code == 0;
}

bool libvirtd_process_exists() {
  auto r = util::run_process({"pgrep", "-x", "libvirtd"});
  return r.ok() && r->exit_code == 0;
}

/// Starts libvirtd as the host setup does (the script itself: idempotent, waits until the
/// daemon answers).
std::string start_libvirtd() {
  auto r = util::run_process(
      {"bash", std::string(TESTBED_SOURCE_DIR) + "/orchestrator/host/setup-host.sh"});
  if (!r.ok()) return r.error().message;
  return r->exit_code == 0 ? ""
                           : "setup-host.sh exited " + std::to_string(r->exit_code) + ": " + r->err;
}

/// Stops libvirtd by the PID in its pid file (SIGTERM: its LXC containers keep running)
/// and waits until it is gone.
std::string stop_libvirtd() {
  auto text = util::read_file(kLibvirtdPidFile);
  if (!text.ok()) return "no " + kLibvirtdPidFile.string();
  pid_t pid = std::atoi(text->c_str());
  auto comm = util::read_file("/proc/" + std::to_string(pid) + "/comm");
  if (pid <= 1 || !comm.ok() || *comm != "libvirtd\n")
    return kLibvirtdPidFile.string() + " names PID " + std::to_string(pid) + ", not libvirtd";
  if (::kill(pid, SIGTERM) != 0) return std::string("kill: ") + std::strerror(errno);
  for (int i = 0; i < 300 && libvirtd_process_exists(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return libvirtd_process_exists() ? "libvirtd still runs 30 s after SIGTERM" : "";
}

/// A systemd host: libvirtd is the unit libvirtd.service, restarted through systemctl.
bool systemd_host() { return fs::exists("/run/systemd/system"); }

/// `systemctl ARGS… libvirtd.service`, then waits up to 30 s for the daemon to answer
/// (when `want_up`). "" on success, else what failed.
std::string systemctl_libvirtd(const std::string& verb, bool want_up) {
  auto r = util::run_process({"systemctl", verb, "libvirtd.service"});
  if (!r.ok()) return r.error().message;
  if (r->exit_code != 0)
    return "systemctl " + verb + " libvirtd.service exited " + std::to_string(r->exit_code) +
           ": " + r->err;
  for (int i = 0; want_up && i < 300 && !libvirtd_answers(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return !want_up || libvirtd_answers() ? "" : "libvirtd does not answer 30 s after systemctl " + verb;
}

class LibvirtdRestart : public Faults {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    // On systemd hosts libvirtd is the service's and is restarted through systemctl; on
    // others it is the daemon setup-host.sh started, stopped by its PID file's PID.
    if (systemd_host()) {
      auto active = util::run_process({"systemctl", "is-active", "--quiet", "libvirtd.service"});
      if (!active.ok() || active->exit_code != 0)
        GTEST_SKIP() << "systemd host without an active libvirtd.service";
      ASSERT_TRUE(libvirtd_answers()) << "libvirtd.service is active but does not answer";
    } else if (!fs::exists(kLibvirtdPidFile) || !libvirtd_answers()) {
      GTEST_SKIP() << "no libvirtd started by setup-host.sh (" << kLibvirtdPidFile << ")";
    }
    lab_ = "tbfault-lvd";
    Faults::SetUp();
    if (IsSkipped()) return;
    // Anyone else's domain would lose its libvirt connection too: let it finish first.
    for (int i = 0;; ++i) {
      auto r = util::run_process({"virsh", "-q", "-c", "lxc:///system", "list", "--all", "--name"});
      ASSERT_TRUE(r.ok());
      std::string others;
      std::istringstream in(r->out);
      for (std::string l; std::getline(in, l);)
        if (!l.empty()) others += " " + l;
      if (others.empty()) break;
      if (i == 120) GTEST_SKIP() << "other domains keep running on this libvirtd:" << others;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  void TearDown() override {
    if (!IsSkipped() && !libvirtd_answers()) {
      std::string err = systemd_host() ? systemctl_libvirtd("start", true) : start_libvirtd();
      EXPECT_EQ(err, "") << "libvirtd could not be started again";
    }
    Faults::TearDown();
  }

  /// Runs the experiment with `extra` arguments and restarts libvirtd 2 s into the first
  /// scan. Returns the launch; `restart_error` says why the restart failed ("" if not).
  Launch run_with_restart(const std::vector<std::string>& extra, std::string& restart_error,
                          double& restart_seconds) {
    std::thread restarter;
    bool started = false;
    auto args = run_args();
    args.insert(args.end(), extra.begin(), extra.end());
    auto l = launch(args, [&](const std::string& line, pid_t) {
      if (started || line.find("nmap: phase") == std::string::npos) return;
      started = true;
      restarter = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::seconds(2));
        auto t0 = std::chrono::steady_clock::now();
        if (systemd_host()) {
          restart_error = systemctl_libvirtd("restart", true);
        } else {
          restart_error = stop_libvirtd();
          if (restart_error.empty()) restart_error = start_libvirtd();
        }
        restart_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "libvirtd restarted in %.1f s%s%s\n", restart_seconds,
                     restart_error.empty() ? "" : ": ", restart_error.c_str());
      });
    });
    if (restarter.joinable()) restarter.join();
    EXPECT_TRUE(started) << "the scan never started";
    return l;
  }
};

// The run scanning while libvirtd restarts fails (check-targets: the libvirt call finds the
// connection closed, and the error names libvirtd); the next run reconnects and completes;
// the lab comes down over a fresh connection.
TEST_F(LibvirtdRestart, MidScanFailsTheRunAndTheExperimentGoesOn) {
  use_all_ports_scan();
  std::string restart_error;
  double restart_seconds = 0;
  auto l = run_with_restart({"--repeat", "2"}, restart_error, restart_seconds);
  ASSERT_EQ(restart_error, "");
  EXPECT_EQ(l.exit_code, 1) << "a failed run exits 1";
  fs::path run2 = results_dir() / "7.80" / "2";
  auto f = failure_of(results_dir() / "7.80" / "1");
  EXPECT_EQ(f["status"], "failed");
  EXPECT_NE(f.value("error", "").find("libvirtd"), std::string::npos) << f.dump();
  EXPECT_TRUE(fs::exists(run2 / "manifest.json")) << "the experiment went on";
  EXPECT_NE(l.log.find("reconnected"), std::string::npos);
  EXPECT_TRUE(fs::exists(results_dir() / "report.html"));
  record("libvirtd restarted mid-scan", l.exit_code == 1 && fs::exists(run2 / "manifest.json"));
}

// The same with --stop-on-failure: no second run, the lab still comes down.
TEST_F(LibvirtdRestart, MidScanWithStopOnFailure) {
  use_all_ports_scan();
  std::string restart_error;
  double restart_seconds = 0;
  auto l = run_with_restart({"--repeat", "2", "--stop-on-failure"}, restart_error, restart_seconds);
  ASSERT_EQ(restart_error, "");
  EXPECT_EQ(l.exit_code, 1);
  auto f = failure_of(results_dir() / "7.80" / "1");
  EXPECT_NE(f.value("error", "").find("libvirtd"), std::string::npos) << f.dump();
  EXPECT_FALSE(fs::exists(results_dir() / "7.80" / "2")) << "--stop-on-failure: no second run";
  record("libvirtd restarted, --stop-on-failure", l.exit_code == 1);
}

class TablePrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    if (table().empty()) return;
    size_t survived = 0, left = 0;
    std::fprintf(stderr, "\n%-40s %-9s %s\n", "fault", "survived", "leftovers");
    for (const auto& r : table()) {
      survived += r.survived;
      left += r.leftovers.size();
      std::fprintf(stderr, "%-40s %-9s %zu\n", r.fault.c_str(), r.survived ? "yes" : "NO",
                   r.leftovers.size());
    }
    std::fprintf(stderr, "faults injected: %zu, survived: %zu, leftovers: %zu\n", table().size(),
                 survived, left);
  }
};
const auto* const kPrinter = ::testing::AddGlobalTestEnvironment(new TablePrinter);

}  // namespace
}  // namespace testbed
