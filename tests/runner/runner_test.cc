#include "orchestrator/runner/runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "orchestrator/results/layout.h"
#include "orchestrator/results/manifest.h"
#include "orchestrator/runner/real_drivers.h"
#include "orchestrator/util/files.h"
#include "tests/runner/fakes.h"

namespace testbed::runner {
namespace {
namespace fs = std::filesystem;
using testing::BorrowedLab;
using testing::FakeCapture;
using testing::FakeClock;
using testing::FakeLab;
using testing::FakeLabScript;

config::Experiment make_experiment(const fs::path& out) {
  config::Experiment e;
  e.file = "exp.yaml";
  e.name = "unit";
  e.scanners = {{"7.80", "scanner-nmap-7.80"}, {"7.95", "scanner-nmap-7.95"}};
  e.command = {"nmap", "-T4", "-A", "-v", "-oX", "{xml}", "{targets}"};
  e.repetitions = 2;
  e.output = out;
  return e;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = util::TempDir::create("testbed-runner");
    ASSERT_TRUE(d.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*d));
  }
  std::unique_ptr<util::TempDir> tmp_;
  FakeClock clock_;
  FakeCapture capture_;
};

TEST_F(RunnerTest, PlanInterleavesRepetitions) {
  auto e = make_experiment(tmp_->path());
  auto slots = plan_runs(e, 2, "/r");
  ASSERT_EQ(slots.size(), 4u);
  EXPECT_EQ(slots[0].dir, fs::path("/r/7.80/1"));
  EXPECT_EQ(slots[1].dir, fs::path("/r/7.95/1"));
  EXPECT_EQ(slots[2].dir, fs::path("/r/7.80/2"));
  EXPECT_EQ(results_timestamp(1764193740.0), "20251126T214900Z");
}

TEST_F(RunnerTest, CompleteRunsHaveEveryFileAndManifestLast) {
  auto e = make_experiment(tmp_->path());
  FakeLab lab;
  RunOptions o;
  o.command_line = "testbed run exp.yaml";
  auto s = run_experiment(e, lab, capture_, clock_, o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->complete, 4);
  EXPECT_EQ(s->failed, 0);
  for (const char* d : {"7.80/1", "7.95/1", "7.80/2", "7.95/2"}) {
    fs::path dir = s->results_dir / d;
    for (const char* f : {"capture.pcap", "nmap.xml", "nmap.log", "phases.json", "manifest.json"})
      EXPECT_TRUE(fs::exists(dir / f)) << dir / f;
    auto m = nlohmann::json::parse(*util::read_file(dir / "manifest.json"));
    EXPECT_EQ(m["status"], "complete");
    EXPECT_EQ(m["experiment"]["name"], "unit");
    EXPECT_EQ(m["scanner_command"].back(), "172.24.1.0/24");
    EXPECT_EQ(m["capture"]["interface"], "tbfake-r0");
    EXPECT_NE(m["scanner_version"].get<std::string>().find("7.80"), std::string::npos);
  }
  // The scan argv is passed as a vector and the targets are the lab's target subnet.
  EXPECT_NE(std::find(lab.calls.begin(), lab.calls.end(),
                      "run nmap -T4 -A -v -oX /root/testbed-7.95-1.xml 172.24.1.0/24"),
            lab.calls.end());
  EXPECT_EQ(lab.calls.front(), "up");
  EXPECT_EQ(lab.calls.back(), "down");
  EXPECT_EQ(std::count(lab.calls.begin(), lab.calls.end(), "reset"), 4);
  // The log keeps every line with a timestamp; \r from the PTY is stripped.
  auto log = util::read_file(s->results_dir / "7.80/1/nmap.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find(" Initiating Ping Scan at 21:50\n"), std::string::npos) << *log;
  EXPECT_EQ(log->find('\r'), std::string::npos);
  // Nmap exits by itself: nothing is woken, and the manifest says so by omission.
  EXPECT_EQ(std::count(lab.calls.begin(), lab.calls.end(), "wake"), 0);
  auto m = nlohmann::json::parse(*util::read_file(s->results_dir / "7.80/1/manifest.json"));
  EXPECT_FALSE(m["scan"].contains("wake_frames"));
}

/// One masscan run against a fake lab whose scanner counts its --wait down from `from` to
/// `to` seconds and then ends. Returns the lab's calls and the run's manifest.
std::pair<std::vector<std::string>, nlohmann::json> run_masscan(const fs::path& out,
                                                                const FakeClock& clock,
                                                                FakeCapture& capture, int from,
                                                                int to) {
  config::Experiment e = make_experiment(out);
  e.scanners = {{"masscan", "scanner-masscan"}};
  e.command = {"masscan", "--adapter", "{scan_interface}", "--router-mac", "{router_mac}",
               "-p",      "80",        "--wait",           "2",            "-oL",
               "{output}", "{targets}"};
  e.repetitions = 1;
  FakeLabScript script;
  script.scan_lines = {"Starting masscan 1.3.2 (http://bit.ly/14GZzcT) at x GMT",
                       "Initiating SYN Stealth Scan", "Scanning 1 hosts [1 port/host]"};
  for (int left = from; left >= to; --left)
    script.scan_lines.push_back(
        fmt::format("rate:  0.00-kpps, 100.00% done, waiting {}-secs, found=1", left));
  FakeLab lab(script);
  lab.facts_.router_mac = "02:7b:00:00:00:01";
  lab.facts_.scan_interface = "scan";
  auto s = run_experiment(e, lab, capture, clock, {});
  EXPECT_TRUE(s.ok()) << s.error().message;
  if (!s.ok()) return {lab.calls, nullptr};
  EXPECT_EQ(s->complete, 1);
  auto m = util::read_file(s->results_dir / "masscan/1/manifest.json");
  return {lab.calls, m.ok() ? nlohmann::json::parse(*m) : nlohmann::json()};
}

// masscan 1.3.2 may count its --wait down below zero and never exit (its receive thread
// waits for a packet). Two seconds below zero the runner wakes it, at most every 2 s and
// 5 times, and the manifest records when.
TEST_F(RunnerTest, ALingeringMasscanIsWokenAndTheManifestSaysWhen) {
  auto [calls, m] = run_masscan(tmp_->path(), clock_, capture_, 2, -20);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "wake"), 5);
  ASSERT_TRUE(m.is_object());
  auto times = m["scan"]["wake_frames"].get<std::vector<double>>();
  ASSERT_EQ(times.size(), 5u);
  for (size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 1], 2.0);
  EXPECT_GT(times.front(), m["scan"]["started"].get<double>());
  EXPECT_EQ(m["scanner_kind"], "masscan");
}

TEST_F(RunnerTest, AMasscanWithinItsCountdownIsNotWoken) {
  auto [calls, m] = run_masscan(tmp_->path(), clock_, capture_, 2, -1);
  EXPECT_EQ(std::count(calls.begin(), calls.end(), "wake"), 0);
  ASSERT_TRUE(m.is_object());
  EXPECT_FALSE(m["scan"].contains("wake_frames"));
}

/// Records what the runner asks of the IDS sensor hook.
class FakeSensor : public RunSensor {
 public:
  explicit FakeSensor(std::vector<std::string>* log) : log_(log) {}
  util::Result<nlohmann::json> stop() override {
    log_->push_back("stop");
    return nlohmann::json{{"suricata_version", "7.0.10"}, {"kernel_drops", 0}};
  }

 private:
  std::vector<std::string>* log_;
};

TEST_F(RunnerTest, TheIdsSensorListensOnTheCaptureDeviceAndLandsInTheManifest) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 1;
  FakeLab lab;
  RunOptions o;
  std::vector<std::string> log;
  o.sensor = [&](const std::string& device, const fs::path& dir)
      -> util::Result<std::unique_ptr<RunSensor>> {
    log.push_back("start " + device + " " + dir.filename().string());
    return std::unique_ptr<RunSensor>(new FakeSensor(&log));
  };
  auto s = run_experiment(e, lab, capture_, clock_, o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->complete, 2);
  EXPECT_EQ(log, (std::vector<std::string>{"start tbfake-r0 1", "stop", "start tbfake-r0 1", "stop"}));
  auto m = nlohmann::json::parse(*util::read_file(s->results_dir / "7.95/1/manifest.json"));
  EXPECT_EQ(m["ids"]["suricata_version"], "7.0.10");

  // A sensor that does not start fails the run (never a run without its sensor).
  FakeLab lab2;
  o.sensor = [](const std::string&, const fs::path&) -> util::Result<std::unique_ptr<RunSensor>> {
    return util::fail("no suricata");
  };
  e.output = tmp_->path() / "second";
  auto f = run_experiment(e, lab2, capture_, clock_, o);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->failed, 2);
  EXPECT_FALSE(fs::exists(f->results_dir / "7.80/1/manifest.json"));
}

TEST_F(RunnerTest, PhaseTimesAreCorrectedByTheMeasuredLineLatency) {
  auto e = make_experiment(tmp_->path());
  e.scanners.resize(1);
  e.repetitions = 1;
  FakeLabScript script;
  script.clock = &clock_;
  script.line_latency = 0.0004;
  FakeLab lab(script);
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_TRUE(s.ok()) << s.error().message;
  fs::path run = s->results_dir / "7.80" / "1";
  auto m = nlohmann::json::parse(*util::read_file(run / "manifest.json"));
  EXPECT_NEAR(m["scan_line_latency_s"].get<double>(), 0.0004, 1e-6);
  // FakeClock readings are multiples of 0.5 s; every logged time is one minus 0.4 ms.
  auto log = util::read_file(run / "nmap.log");
  ASSERT_TRUE(log.ok());
  double t = std::stod(log->substr(0, log->find(' ')));
  EXPECT_NEAR(std::fmod(t, 0.5), 0.5 - 0.0004, 1e-6);
  auto ph = nlohmann::json::parse(*util::read_file(run / "phases.json"));
  EXPECT_NE(ph["source"].get<std::string>().find("0.40 ms"), std::string::npos) << ph["source"];
}

TEST_F(RunnerTest, WithoutASharedClockPhaseTimesStayUncorrected) {
  auto e = make_experiment(tmp_->path());
  e.scanners.resize(1);
  e.repetitions = 1;
  FakeLab lab;  // `date` prints no time
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto m = nlohmann::json::parse(*util::read_file(s->results_dir / "7.80/1/manifest.json"));
  EXPECT_TRUE(m["scan_line_latency_s"].is_null());
}

TEST_F(RunnerTest, TargetDeadAfterTheScanFailsTheRun) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 1;
  FakeLabScript script;
  script.target_dies = true;
  FakeLab lab(script);
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->complete, 0);
  EXPECT_EQ(s->failed, 2);
  fs::path run = s->results_dir / "7.80" / "1";
  EXPECT_FALSE(fs::exists(run / results::files::kManifest));
  auto f = nlohmann::json::parse(*util::read_file(run / results::files::kFailure));
  EXPECT_EQ(f["stage"], "check-targets");
  EXPECT_NE(f["error"].get<std::string>().find("target1"), std::string::npos);
  EXPECT_TRUE(fs::exists(run / "capture.pcap")) << "the evidence is kept";
}

TEST_F(RunnerTest, FailedRunIsNeverMarkedComplete) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 1;
  FakeLabScript script;
  script.fail_prepare_for_image = "scanner-nmap-7.95";
  FakeLab lab(script);
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->complete, 1);
  EXPECT_EQ(s->failed, 1);
  ASSERT_EQ(s->failures.size(), 1u);
  EXPECT_NE(s->failures[0].find("image scanner-nmap-7.95 is not built"), std::string::npos);
  EXPECT_FALSE(run_is_complete(s->results_dir / "7.95/1"));
  auto f = nlohmann::json::parse(*util::read_file(s->results_dir / "7.95/1/failure.json"));
  EXPECT_EQ(f["stage"], "start-scanner");
  EXPECT_EQ(lab.calls.back(), "down");
}

TEST_F(RunnerTest, NonZeroScannerExitFailsTheRun) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 1;
  FakeLabScript script;
  script.exit_status = 1;
  FakeLab lab(script);
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->failed, 2);
  EXPECT_FALSE(run_is_complete(s->results_dir / "7.80/1"));
  // The evidence is kept for a person to read.
  EXPECT_TRUE(fs::exists(s->results_dir / "7.80/1/nmap.log"));
  EXPECT_TRUE(fs::exists(s->results_dir / "7.80/1/capture.pcap"));
}

// The retry policy (experiment `retries:`, default 1): a scanner that dies of a signal
// (ZMap 2.1.1's assertion is SIGABRT, exit 134 through ssh) gets its run done again, and
// the manifest of the attempt that completed records the discarded one and why.
TEST_F(RunnerTest, ScannerKilledBySignalIsRetriedAndRecorded) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 1;
  ASSERT_EQ(e.retries, 1);  // the default
  FakeLabScript script;
  script.exit_statuses = {134};  // the first scan (7.80/1) aborts
  script.scan_lines.back() = "zmap: constraint.c:231: Assertion `index < con->root->count' failed.";
  FakeLab lab(script);
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->failed, 0);
  EXPECT_EQ(s->complete, 2);
  EXPECT_EQ(std::count(lab.calls.begin(), lab.calls.end(), "prepare scanner-nmap-7.80"), 2);
  auto m = results::read_manifest(s->results_dir / "7.80/1/manifest.json");
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_EQ(m->retries.size(), 1u);
  EXPECT_EQ(m->retries[0].attempt, 1);
  EXPECT_EQ(m->retries[0].stage, "scan");
  EXPECT_NE(m->retries[0].reason.find("nmap killed by signal 6 (SIGABRT)"), std::string::npos)
      << m->retries[0].reason;
  EXPECT_NE(m->retries[0].reason.find("Assertion `index < con->root->count' failed"),
            std::string::npos)
      << m->retries[0].reason;
  EXPECT_FALSE(fs::exists(s->results_dir / "7.80/1/failure.json"));
  auto other = results::read_manifest(s->results_dir / "7.95/1/manifest.json");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->retries.empty());
}

TEST_F(RunnerTest, RetriesAreBoundedAndOnlyForSignals) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 1;
  e.scanners.resize(1);
  {  // a crash that recurs fails the run after `retries` retries, and says so
    FakeLabScript script;
    script.exit_statuses = {139, 139};
    FakeLab lab(script);
    auto s = run_experiment(e, lab, capture_, clock_, {});
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->failed, 1);
    EXPECT_EQ(std::count(lab.calls.begin(), lab.calls.end(), "prepare scanner-nmap-7.80"), 2);
    auto f = nlohmann::json::parse(*util::read_file(s->results_dir / "7.80/1/failure.json"));
    EXPECT_NE(f["error"].get<std::string>().find("attempt 2; retried before: nmap killed by "
                                                 "signal 11 (SIGSEGV)"),
              std::string::npos)
        << f.dump();
  }
  {  // retries: 0 keeps the first failure
    e.retries = 0;
    FakeLabScript script;
    script.exit_statuses = {134};
    FakeLab lab(script);
    auto s = run_experiment(e, lab, capture_, clock_, {});
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->failed, 1);
    EXPECT_EQ(std::count(lab.calls.begin(), lab.calls.end(), "prepare scanner-nmap-7.80"), 1);
  }
  {  // an ordinary non-zero exit is the scanner's answer, not a crash: not retried
    e.retries = 3;
    FakeLabScript script;
    script.exit_status = 1;
    FakeLab lab(script);
    auto s = run_experiment(e, lab, capture_, clock_, {});
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->failed, 1);
    EXPECT_EQ(std::count(lab.calls.begin(), lab.calls.end(), "prepare scanner-nmap-7.80"), 1);
  }
}

TEST_F(RunnerTest, ResumeRedoesOnlyIncompleteRuns) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 1;
  FakeLab lab1;
  auto first = run_experiment(e, lab1, capture_, clock_, {});
  ASSERT_TRUE(first.ok());
  fs::remove(first->results_dir / "7.95/1/manifest.json");  // as if killed before the end
  FakeLab lab2;
  RunOptions o;
  o.resume_dir = first->results_dir;
  auto second = run_experiment(e, lab2, capture_, clock_, o);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->kept, 1);
  EXPECT_EQ(second->complete, 1);
  EXPECT_EQ(std::count(lab2.calls.begin(), lab2.calls.end(), "prepare scanner-nmap-7.95"), 1);
  EXPECT_EQ(std::count(lab2.calls.begin(), lab2.calls.end(), "prepare scanner-nmap-7.80"), 0);
  // Nothing to do: the lab is not even brought up.
  FakeLab lab3;
  auto third = run_experiment(e, lab3, capture_, clock_, o);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->kept, 2);
  EXPECT_TRUE(lab3.calls.empty());
}

TEST_F(RunnerTest, TargetsOutsideTheLabAreRefusedBeforeAnyScan) {
  auto e = make_experiment(tmp_->path());
  e.targets = {"10.0.0.0/8"};
  FakeLab lab;
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("outside the lab"), std::string::npos) << s.error().message;
  EXPECT_TRUE(capture_.started.empty());
  EXPECT_EQ(lab.calls.back(), "down");
}

TEST_F(RunnerTest, LiteralTargetInCommandOutsideLabRefused) {
  auto e = make_experiment(tmp_->path());
  e.command = {"nmap", "-oX", "{xml}", "192.168.1.1", "{targets}"};
  FakeLab lab;
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("192.168.1.1"), std::string::npos);
}

TEST_F(RunnerTest, InterruptionStopsAndTakesLabDown) {
  auto e = make_experiment(tmp_->path());
  FakeLab lab;
  std::atomic<bool> stop{true};
  RunOptions o;
  o.interrupted = &stop;
  auto s = run_experiment(e, lab, capture_, clock_, o);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->interrupted);
  EXPECT_EQ(s->complete, 0);
  EXPECT_EQ(lab.calls.back(), "down");
}

// SIGINT while the report is being made: the report gives up ("interrupted"), every run
// stays complete, and the experiment ends interrupted (exit 130, --resume writes the report)
// instead of failed.
TEST_F(RunnerTest, InterruptionDuringTheReportKeepsTheRuns) {
  auto e = make_experiment(tmp_->path());
  FakeLab lab;
  std::atomic<bool> stop{false};
  RunOptions o;
  o.interrupted = &stop;
  o.after_runs = [&](const fs::path&) -> util::Status {
    stop = true;
    return util::fail("interrupted before the report was written (nothing written)");
  };
  auto s = run_experiment(e, lab, capture_, clock_, o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->interrupted);
  EXPECT_EQ(s->complete, 4);
  EXPECT_EQ(s->failed, 0);
}

TEST_F(RunnerTest, LabUpFailureIsReported) {
  auto e = make_experiment(tmp_->path());
  FakeLabScript script;
  script.fail_up = true;
  FakeLab lab(script);
  auto s = run_experiment(e, lab, capture_, clock_, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no libvirtd"), std::string::npos);
}

// ---- several lab hosts (run_experiment_on_hosts) ----

/// Three hosts, each a FakeLab the test keeps; the factory hands the runner a driver
/// borrowing it. A host in `unreachable` cannot be opened (no connection).
class MultiHostTest : public RunnerTest {
 protected:
  void SetUp() override {
    RunnerTest::SetUp();
    for (const char* h :
         {"qemu+ssh://lab1/system", "qemu+ssh://lab2/system", "qemu+ssh://lab3/system"})
      hosts_.push_back({h, 1});
  }
  void script(const std::string& uri, FakeLabScript s) { labs_.emplace(uri, std::move(s)); }
  HostDriverFactory factory() {
    return [this](const runner::LabHost& h, size_t index) -> util::Result<HostDrivers> {
      opened_.push_back(fmt::format("{}#{}", h.uri, index));
      if (unreachable_.count(h.uri)) return util::fail("cannot connect to {}", h.uri);
      auto it = labs_.try_emplace(h.uri).first;
      it->second.facts_.name = fmt::format("unit-h{}", index + 1);
      return HostDrivers{std::make_unique<BorrowedLab>(it->second),
                         std::make_unique<FakeCapture>()};
    };
  }
  util::Result<RunSummary> run(const config::Experiment& e, const RunOptions& o = {}) {
    return run_experiment_on_hosts(e, hosts_, factory(), sys_clock_, o);
  }
  std::vector<runner::LabHost> hosts_;
  std::map<std::string, FakeLab> labs_;
  std::set<std::string> unreachable_;
  std::vector<std::string> opened_;
  SystemClock sys_clock_;  // thread-safe, unlike FakeClock
};

TEST_F(MultiHostTest, RunsSpreadOverHostsIntoOneResultsDirectory) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 3;  // 6 runs over 3 hosts
  int reports = 0;
  RunOptions o;
  o.after_runs = [&](const fs::path& dir) -> util::Status {
    ++reports;
    EXPECT_TRUE(fs::exists(dir / "plan.json"));
    return {};
  };
  auto s = run(e, o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->complete, 6);
  EXPECT_EQ(s->failed, 0);
  EXPECT_EQ(reports, 1);  // one report over every host's runs
  ASSERT_EQ(s->ran_on.size(), 6u);
  std::map<std::string, int> per_host;
  for (const auto& [id, uri] : s->ran_on) {
    ++per_host[uri];
    auto m = nlohmann::json::parse(*util::read_file(s->results_dir / id / results::files::kManifest));
    EXPECT_EQ(m["status"], "complete");
    EXPECT_EQ(m["lab"]["host"], uri) << id;  // provenance names the host it ran on
    EXPECT_EQ(m["lab"]["name"], labs_.at(uri).facts_.name);
    // Read back through the typed manifest: the runner writes the current schema.
    auto typed = results::read_manifest(s->results_dir / id / results::files::kManifest);
    ASSERT_TRUE(typed.ok()) << typed.error().message;
    EXPECT_EQ(typed->schema_version, results::kManifestSchema);
    EXPECT_EQ(typed->lab.host, uri);
    EXPECT_EQ(typed->run.label + "/" + std::to_string(typed->run.repetition), id);
    EXPECT_TRUE(typed->capture && typed->scan && typed->wall_seconds);
  }
  for (const auto& h : hosts_) EXPECT_EQ(per_host[h.uri], 2) << h.uri;
  // Every lab came up once, was taken down once, last.
  for (auto& [uri, lab] : labs_) {
    EXPECT_EQ(std::count(lab.calls.begin(), lab.calls.end(), "up"), 1) << uri;
    EXPECT_EQ(lab.calls.back(), "down") << uri;
  }
  // Lab names are per host index.
  EXPECT_EQ(std::set<std::string>(opened_.begin(), opened_.end()),
            (std::set<std::string>{"qemu+ssh://lab1/system#0", "qemu+ssh://lab2/system#1",
                                   "qemu+ssh://lab3/system#2"}));
}

TEST_F(MultiHostTest, HostBreakingMidExperimentLosesNoRun) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 3;
  FakeLabScript broken;
  broken.fail_prepare_after = 1;  // lab2 does one run, then cannot start the scanner
  script("qemu+ssh://lab2/system", broken);
  auto s = run(e);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->complete, 6);  // the run lab2 failed on, and its queue, ran elsewhere
  EXPECT_EQ(s->failed, 0);
  ASSERT_EQ(s->dead_hosts.size(), 1u);
  EXPECT_NE(s->dead_hosts.at("qemu+ssh://lab2/system").find("libvirtd lost"), std::string::npos);
  int on_lab2 = 0;
  for (const auto& [id, uri] : s->ran_on) {
    on_lab2 += uri == "qemu+ssh://lab2/system";
    EXPECT_TRUE(run_is_complete(s->results_dir / id)) << id;
    // The failure.json of the attempt on lab2 is gone: the run directory was redone.
    EXPECT_FALSE(fs::exists(s->results_dir / id / results::files::kFailure)) << id;
  }
  EXPECT_EQ(on_lab2, 1);
  auto& calls = labs_.at("qemu+ssh://lab2/system").calls;
  EXPECT_EQ(calls.back(), "down");  // the broken host's lab is still taken down
}

TEST_F(MultiHostTest, RunFailingBecauseItsHostDiedRunsElsewhere) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 3;
  FakeLabScript gone;
  gone.target_dies = true;  // the scan's targets vanished with their host...
  gone.host_dies = true;    // ...which no longer answers: not the run's failure
  script("qemu+ssh://lab2/system", gone);
  auto s = run(e);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->complete, 6);
  EXPECT_EQ(s->failed, 0);
  ASSERT_EQ(s->dead_hosts.count("qemu+ssh://lab2/system"), 1u);
  EXPECT_NE(s->dead_hosts.at("qemu+ssh://lab2/system").find("no route to host"),
            std::string::npos);
  for (const auto& [id, uri] : s->ran_on) EXPECT_NE(uri, "qemu+ssh://lab2/system") << id;
  // A host that still answers keeps a failed run as failed (asked, and it answered).
  FakeLabScript alive;
  alive.target_dies = true;
  labs_.clear();
  script("qemu+ssh://lab2/system", alive);
  e.output = tmp_->path() / "second";
  auto t = run(e);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->dead_hosts.count("qemu+ssh://lab2/system"), 0u);
  EXPECT_EQ(t->failed, 2);
  const auto& calls = labs_.at("qemu+ssh://lab2/system").calls;
  EXPECT_NE(std::find(calls.begin(), calls.end(), "host-alive"), calls.end());
}

TEST_F(MultiHostTest, UnreachableHostAndScanFailure) {
  auto e = make_experiment(tmp_->path());
  unreachable_.insert("qemu+ssh://lab1/system");
  FakeLabScript scan_fails;
  scan_fails.exit_status = 1;  // a failed scan is the run's failure, not the host's
  script("qemu+ssh://lab3/system", scan_fails);
  auto s = run(e);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->dead_hosts.count("qemu+ssh://lab1/system"), 1u);
  EXPECT_EQ(s->complete + s->failed, 4);
  EXPECT_GE(s->failed, 1);
  for (const auto& [id, uri] : s->ran_on) EXPECT_EQ(uri, "qemu+ssh://lab2/system");
  for (const auto& f : s->failures) EXPECT_NE(f.find("scan failed"), std::string::npos) << f;
  // lab3 was not given up after a failed scan: every run placed on it was scanned there.
  EXPECT_EQ(s->dead_hosts.count("qemu+ssh://lab3/system"), 0u);
  const auto& calls3 = labs_.at("qemu+ssh://lab3/system").calls;
  EXPECT_EQ(std::count_if(calls3.begin(), calls3.end(),
                          [](const std::string& c) { return c.rfind("run nmap ", 0) == 0; }),
            s->failed);
  EXPECT_EQ(calls3.back(), "down");
}

TEST_F(MultiHostTest, EveryHostFailingLeavesRunsNotRunAndNoReport) {
  auto e = make_experiment(tmp_->path());
  for (const auto& h : hosts_) unreachable_.insert(h.uri);
  int reports = 0;
  RunOptions o;
  o.after_runs = [&](const fs::path&) -> util::Status {
    ++reports;
    return {};
  };
  auto s = run(e, o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->complete, 0);
  EXPECT_EQ(s->failed, 4);
  EXPECT_EQ(s->dead_hosts.size(), 3u);
  EXPECT_EQ(reports, 0);
  for (const auto& f : s->failures) EXPECT_NE(f.find("every lab host failed"), std::string::npos);
}

TEST_F(MultiHostTest, InterruptionStopsEveryHost) {
  auto e = make_experiment(tmp_->path());
  e.repetitions = 3;
  std::atomic<bool> interrupted{true};
  RunOptions o;
  o.interrupted = &interrupted;
  auto s = run(e, o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->interrupted);
  EXPECT_EQ(s->complete, 0);
  EXPECT_EQ(s->failed, 0);
  for (auto& [uri, lab] : labs_) EXPECT_EQ(lab.calls.back(), "down") << uri;
}

}  // namespace
}  // namespace testbed::runner
