// The nightly job: systemd units verified by systemd-analyze, the cron file installed into
// a directory the test owns, its command run once by hand as cron would run it (with a
// stand-in testbed that records its arguments), then removed. Never the host's crontab.
#include "orchestrator/nightly/schedule.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <sstream>

#include "tests/nightly/fixtures.h"

namespace testbed::nightly {
namespace {

using namespace testing;

const fs::path kExperiment = fs::path(TESTBED_SOURCE_DIR) / "experiments/ci-smoke.yaml";
const fs::path kShipped = fs::path(TESTBED_SOURCE_DIR) / "orchestrator/host/nightly";

/// The example job the shipped files show (README "Nightly jobs").
NightlyJob example_job() {
  NightlyJob j;
  j.name = "nmap7";
  j.testbed = "/usr/local/bin/testbed";
  j.experiment = "/srv/testbed/experiments/nmap7.yaml";
  j.output = "/srv/results";
  j.workdir = "/srv/testbed";
  j.hour = 2;
  j.minute = 30;
  j.keep_results = 14;
  return j;
}

TEST(Schedule, ShippedExamplesAreWhatTheGeneratorWrites) {
  NightlyJob j = example_job();
  const std::pair<std::string, std::string> files[] = {
      {"testbed-nightly-nmap7.service", service_unit(j)},
      {"testbed-nightly-nmap7.timer", timer_unit(j)},
      {"testbed-nightly-nmap7.cron", cron_file(j)}};
  for (const auto& [name, text] : files) {
    if (std::getenv("TESTBED_REGENERATE")) write_text(kShipped / name, text);
    EXPECT_EQ(read_all(kShipped / name), text) << name << " (TESTBED_REGENERATE=1 rewrites it)";
  }
}

// `nightly install --metrics-dir DIR`: the job also writes DIR/testbed-<experiment>.prom.
TEST(Schedule, MetricsDirAddsTheMetricsOption) {
  NightlyJob j = example_job();
  auto plain = j.argv();
  EXPECT_EQ(std::find(plain.begin(), plain.end(), "--metrics"), plain.end());
  j.metrics_dir = "/var/lib/prometheus/node-exporter";
  auto a = j.argv();
  auto it = std::find(a.begin(), a.end(), "--metrics");
  ASSERT_NE(it, a.end());
  EXPECT_EQ(*(it + 1), "/var/lib/prometheus/node-exporter/testbed-nmap7.prom");
  EXPECT_NE(service_unit(j).find("--metrics /var/lib/prometheus/node-exporter/testbed-nmap7.prom"),
            std::string::npos);
  EXPECT_TRUE(check_job(j).ok());
  j.metrics_dir = "/var/lib/prom$etheus";
  EXPECT_FALSE(check_job(j).ok());
}

TEST(Schedule, TimesAndPathsAreChecked) {
  NightlyJob j = example_job();
  EXPECT_TRUE(parse_time_of_day("07:05", j).ok());
  EXPECT_EQ(j.hour, 7);
  EXPECT_EQ(j.minute, 5);
  for (const char* bad : {"24:00", "7", "07:5", "07:60", "ab:cd", "", "-1:30", "07:30:00"})
    EXPECT_FALSE(parse_time_of_day(bad, j).ok()) << bad;
  EXPECT_TRUE(check_job(j).ok());
  j.output = "/srv/re%sults";
  EXPECT_FALSE(check_job(j).ok()) << "% is a specifier in units and a newline in cron";
  j.output = "/srv/$HOME";
  EXPECT_FALSE(check_job(j).ok());
  j.output = "relative/results";
  EXPECT_FALSE(check_job(j).ok());
  EXPECT_EQ(cron_file_name("ci.smoke"), "testbed-nightly-ci_smoke") << "cron skips dotted names";
}

class NightlyCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kTestbed)) << kTestbed << " is not built";
    auto t = util::TempDir::create("nightly-test");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    work_ = tmp_->path() / "work dir";  // a space: quoting is exercised
    out_ = tmp_->path() / "results root";
    fs::create_directories(work_);
  }
  util::Result<util::ProcessResult> testbed(std::vector<std::string> args) {
    args.insert(args.begin(), kTestbed.string());
    util::ProcessOptions o;
    o.cwd = work_.string();
    return util::run_process(args, o);
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path work_, out_;
};

TEST_F(NightlyCommand, SystemdUnitsVerify) {
  if (!util::have_program("systemd-analyze")) GTEST_SKIP() << "systemd-analyze not installed";
  fs::path units = tmp_->path() / "units";
  fs::create_directories(units);
  auto r = testbed({"nightly", "install", kExperiment.string(), "--at", "03:15", "--via",
                    "systemd", "--unit-dir", units.string(), "--output", out_.string()});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->out.find("not enabled"), std::string::npos) << "not the host's unit directory";
  fs::path service = units / "testbed-nightly-ci-smoke.service";
  fs::path timer = units / "testbed-nightly-ci-smoke.timer";
  std::string text = read_all(service);
  EXPECT_NE(text.find("ExecStart=" + kTestbed.string() + " --timestamps run " +
                      kExperiment.string() + " --output '" + out_.string() +
                      "' --baseline latest-good --keep-results 14 --junit '" +
                      (out_ / "ci-smoke" / "junit.xml").string() + "'\n"),
            std::string::npos)
      << text;
  EXPECT_NE(read_all(timer).find("OnCalendar=*-*-* 03:15:00\n"), std::string::npos);
  auto v = util::run_process({"systemd-analyze", "verify", timer.string(), service.string()});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->exit_code, 0) << v->err;
  EXPECT_EQ(v->err, "") << "no warning either (unknown keys only warn)";

  auto st = testbed({"nightly", "status", "ci-smoke", "--unit-dir", units.string(), "--cron-dir",
                     (tmp_->path() / "none").string()});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->exit_code, 0) << st->err;
  EXPECT_NE(st->out.find("OnCalendar=*-*-* 03:15:00"), std::string::npos) << st->out;
  EXPECT_NE(st->out.find("latest-good -> (none yet)"), std::string::npos) << st->out;
  auto rm = testbed({"nightly", "remove", kExperiment.string(), "--unit-dir", units.string(),
                     "--cron-dir", (tmp_->path() / "none").string()});
  ASSERT_TRUE(rm.ok());
  EXPECT_EQ(rm->exit_code, 0) << rm->err;
  EXPECT_FALSE(fs::exists(service));
  EXPECT_FALSE(fs::exists(timer));
}

TEST_F(NightlyCommand, CronLineInstalledRunByHandRemoved) {
  // A stand-in testbed: records its arguments and working directory, prints a line.
  fs::path fake = tmp_->path() / "fake-testbed";
  fs::path record = tmp_->path() / "argv.txt";
  write_text(fake, "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + record.string() +
                       "'\npwd >> '" + record.string() + "'\necho \"fake run: PATH=$PATH\"\n");
  fs::permissions(fake, fs::perms::owner_all);
  fs::path cron = tmp_->path() / "cron.d";
  fs::create_directories(cron);
  auto r = testbed({"nightly", "install", kExperiment.string(), "--at", "23:59", "--via", "cron",
                    "--cron-dir", cron.string(), "--output", out_.string(), "--keep-results", "3",
                    "--testbed", fake.string()});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  fs::path file = cron / "testbed-nightly-ci-smoke";
  ASSERT_TRUE(fs::exists(file)) << r->out;
  struct stat sb {};
  ASSERT_EQ(::stat(file.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 07777, 0644u) << "cron ignores group/other-writable files";

  // The job line as cron reads it: minute hour dom month dow user command.
  std::istringstream in(read_all(file));
  std::string line, path_env, command;
  while (std::getline(in, line)) {
    if (line.rfind("PATH=", 0) == 0) path_env = line;
    if (line.rfind("59 23 * * * root ", 0) == 0) command = line.substr(17);
  }
  ASSERT_FALSE(command.empty()) << read_all(file);
  ASSERT_FALSE(path_env.empty());
  // Run it once by hand the way cron does: /bin/sh -c with the file's PATH, nothing else.
  auto run = util::run_process({"env", "-i", path_env, "SHELL=/bin/sh", "/bin/sh", "-c", command});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 0) << run->err;
  std::string argv = read_all(record);
  EXPECT_EQ(argv, "--timestamps\nrun\n" + kExperiment.string() + "\n--output\n" + out_.string() +
                      "\n--baseline\nlatest-good\n--keep-results\n3\n--junit\n" +
                      (out_ / "ci-smoke" / "junit.xml").string() + "\n" + work_.string() + "\n");
  std::string log = read_all(out_ / "ci-smoke" / "nightly.log");
  EXPECT_NE(log.find("fake run: PATH=/usr/local/sbin:"), std::string::npos) << log;

  auto st = testbed({"nightly", "status", kExperiment.string(), "--cron-dir", cron.string(),
                     "--unit-dir", (tmp_->path() / "none").string()});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->exit_code, 0) << st->err;
  EXPECT_NE(st->out.find("59 23 * * * root"), std::string::npos) << st->out;

  auto rm = testbed({"nightly", "remove", "ci-smoke", "--cron-dir", cron.string(), "--unit-dir",
                     (tmp_->path() / "none").string()});
  ASSERT_TRUE(rm.ok());
  EXPECT_EQ(rm->exit_code, 0) << rm->err;
  EXPECT_FALSE(fs::exists(file));
  auto again = testbed({"nightly", "remove", "ci-smoke", "--cron-dir", cron.string(), "--unit-dir",
                        (tmp_->path() / "none").string()});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->exit_code, 2) << "nothing to remove";
  auto bad = testbed({"nightly", "install", kExperiment.string(), "--at", "25:00", "--via", "cron",
                      "--cron-dir", cron.string()});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->exit_code, 2);
  EXPECT_TRUE(fs::is_empty(cron)) << "nothing written on bad input";
}

}  // namespace
}  // namespace testbed::nightly
