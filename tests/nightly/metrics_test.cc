// --metrics FILE (run, report, diff; `nightly install --metrics-dir`: schedule_test.cc): the Prometheus
// text format validated by promtool (Debian's `prometheus` package, installed by
// orchestrator/host/setup-host.sh), every value equal to the report's own CSV figures.
#include "orchestrator/nightly/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "orchestrator/nightly/after_run.h"
#include "orchestrator/nightly/pointers.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/nightly/fixtures.h"

namespace testbed::nightly {
namespace {
using namespace testing;

/// "name{labels}" -> value, from the exposition text (comments skipped).
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

/// Rows of a CSV the report wrote (no quoted commas in the columns used here).
std::vector<std::map<std::string, std::string>> csv(const fs::path& file) {
  std::istringstream in(read_all(file));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> head;
  std::stringstream hs(line);
  for (std::string c; std::getline(hs, c, ',');) head.push_back(c);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::stringstream ls(line);
    std::map<std::string, std::string> row;
    size_t i = 0;
    for (std::string c; std::getline(ls, c, ',') && i < head.size(); ++i) row[head[i]] = c;
    rows.push_back(row);
  }
  return rows;
}

/// promtool's verdict on `file`: its exit status and what it printed.
std::pair<int, std::string> promtool(const fs::path& file) {
  util::ProcessOptions po;
  po.stdin_data = read_all(file);
  auto r = util::run_process({"promtool", "check", "metrics"}, po);
  if (!r) return {-1, r.error().message};
  return {r->exit_code, r->out + r->err};
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("metrics-test");
    ASSERT_TRUE(t.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    exp_ = tmp_->path() / "unit";
    a_ = complete_results(exp_, "20261201T020000Z", 2);
    b_ = complete_results(exp_, "20261202T020000Z", 2, {7777});  // 7.80 drifts
    // Drops in one run of B, so the drops series is not all zeros.
    fs::path m = b_ / "7.93/2/manifest.json";
    auto j = nlohmann::json::parse(read_all(m));
    j["capture"]["kernel_dropped"] = 3;
    j["capture"]["interface_dropped"] = 2;
    write_text(m, j.dump(2));
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path exp_, a_, b_;
};

TEST_F(MetricsTest, ReportMetricsPassPromtoolAndEqualTheReportsFigures) {
  if (!util::run_process({"promtool", "--version"}).ok())
    GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
  ASSERT_TRUE(set_pointer(exp_, kLatestGood, a_.filename().string()).ok());
  fs::path prom = tmp_->path() / "textfile" / "testbed-unit.prom";
  fs::create_directories(prom.parent_path());
  auto r = util::run_process({kTestbed.string(), "report", b_.string(), "--baseline", a_.string(),
                              "--metrics", prom.string()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 3) << r->err;  // drift, and the metrics are still written
  auto [rc, said] = promtool(prom);
  EXPECT_EQ(rc, 0) << said << "\n" << read_all(prom);
  // Atomic: nothing but the file in the collector's directory (no temporary left).
  EXPECT_EQ(std::distance(fs::directory_iterator(prom.parent_path()), fs::directory_iterator()), 1);

  auto s = samples(read_all(prom));
  auto key = [](const std::string& name, const std::string& labels) {
    return name + "{experiment=\"unit\"" + labels + "}";
  };
  // Packets sent per version and study phase = phases.csv summed by group.
  std::map<std::pair<std::string, std::string>, double> sent;
  for (const auto& row : csv(b_ / "csv/phases.csv"))
    sent[{row.at("label"), row.at("group")}] += std::stod(row.at("packets_sent"));
  ASSERT_FALSE(sent.empty());
  for (const auto& [vp, n] : sent) {
    std::string labels = ",version=\"" + vp.first + "\",phase=\"" + vp.second + "\"";
    ASSERT_TRUE(s.count(key("testbed_packets_sent", labels))) << labels;
    EXPECT_EQ(s[key("testbed_packets_sent", labels)], n) << labels;
  }
  // Unique packets = table2.csv (three-phase); noise floor = noise_floor.csv's max.
  int compared = 0;
  for (const auto& row : csv(b_ / "csv/table2.csv")) {
    if (row.at("grouping") != "three-phase") continue;
    std::string labels = ",version=\"" + row.at("label") + "\",phase=\"" + row.at("phase") + "\"";
    EXPECT_EQ(s[key("testbed_unique_packets", labels)], std::stod(row.at("unique"))) << labels;
    ++compared;
  }
  EXPECT_EQ(compared, 8);
  EXPECT_EQ(s[key("testbed_unique_packets", ",version=\"7.93\",phase=\"strobe\"")], 2)
      << "7.93 alone scans 8888 and 31337";
  for (const auto& row : csv(b_ / "csv/noise_floor.csv")) {
    if (row.at("grouping") != "three-phase") continue;
    std::string labels = ",version=\"" + row.at("version") + "\",phase=\"" + row.at("phase") + "\"";
    EXPECT_EQ(s[key("testbed_noise_floor_packets", labels)], std::stod(row.at("max"))) << labels;
  }
  // Duration = table1.csv; drops = runs.csv summed per version.
  for (const auto& row : csv(b_ / "csv/table1.csv"))
    EXPECT_NEAR(s[key("testbed_scan_duration_seconds", ",version=\"" + row.at("label") + "\"")],
                std::stod(row.at("duration_s")), 0.001);
  std::map<std::string, double> drops;
  for (const auto& row : csv(b_ / "csv/runs.csv"))
    drops[row.at("version")] +=
        std::stod(row.at("kernel_dropped")) + std::stod(row.at("interface_dropped"));
  EXPECT_EQ(drops["7.93"], 5);
  for (const auto& [v, n] : drops)
    EXPECT_EQ(s[key("testbed_capture_dropped_packets", ",version=\"" + v + "\"")], n) << v;
  EXPECT_EQ(s[key("testbed_runs", ",version=\"7.80\",status=\"complete\"")], 2);
  EXPECT_EQ(s[key("testbed_runs", ",version=\"7.80\",status=\"failed\"")], 0);
  EXPECT_EQ(s[key("testbed_run_success", "")], 1);
  EXPECT_EQ(s[key("testbed_baseline_compared", "")], 1);
  EXPECT_EQ(s[key("testbed_drift", "")], 1);
  // The last good night is latest-good's (A), not this drifted one: its runs' end.
  EXPECT_EQ(s[key("testbed_last_success_timestamp_seconds", "")], kT0 + 5);
  EXPECT_GT(s[key("testbed_metrics_timestamp_seconds", "")], 1.7e9);
}

TEST_F(MetricsTest, DiffAndRunWriteThemToo) {
  if (!util::run_process({"promtool", "--version"}).ok())
    GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
  // diff: B's figures judged by the comparison diff made.
  ASSERT_TRUE(util::run_process({kTestbed.string(), "report", b_.string()}).ok());
  fs::path d = tmp_->path() / "diff.prom";
  auto r = util::run_process(
      {kTestbed.string(), "diff", a_.string(), b_.string(), "--metrics", d.string()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 3) << r->err;
  EXPECT_EQ(promtool(d).first, 0) << promtool(d).second;
  auto s = samples(read_all(d));
  EXPECT_EQ(s["testbed_drift{experiment=\"unit\"}"], 1);
  EXPECT_EQ(s["testbed_baseline_compared{experiment=\"unit\"}"], 1);
  EXPECT_TRUE(s.count("testbed_unique_packets{experiment=\"unit\",version=\"7.93\",phase=\"strobe\"}"));

  // run: after_run writes them once the pointers moved (A complete, no drift: it is the
  // last success itself).
  ASSERT_TRUE(util::run_process({kTestbed.string(), "report", a_.string()}).ok());
  AfterRun after;
  after.results_dir = a_;
  after.metrics = (tmp_->path() / "run.prom").string();
  ASSERT_TRUE(after_run(after).ok());
  EXPECT_EQ(promtool(after.metrics).first, 0);
  auto ra = samples(read_all(after.metrics));
  EXPECT_EQ(ra["testbed_drift{experiment=\"unit\"}"], 0);
  EXPECT_EQ(ra["testbed_last_success_timestamp_seconds{experiment=\"unit\"}"], kT0 + 5);
  EXPECT_EQ(ra["testbed_unique_packets{experiment=\"unit\",version=\"7.93\",phase=\"strobe\"}"], 2);

  // A failed run: success 0, the state counted; label values escaped; still valid.
  interrupt_run(a_, "7.93");
  auto in = metrics_input(a_);
  ASSERT_TRUE(in.ok()) << in.error().message;
  in->results.experiment = "odd\"name\\with\nnewline";
  fs::path odd = tmp_->path() / "odd.prom";
  write_text(odd, metrics_text(*in));
  EXPECT_EQ(promtool(odd).first, 0) << promtool(odd).second << read_all(odd);
  auto so = samples(read_all(odd));
  const std::string e = "experiment=\"odd\\\"name\\\\with\\nnewline\"";
  EXPECT_EQ(so["testbed_run_success{" + e + "}"], 0);
  EXPECT_EQ(so["testbed_runs{" + e + ",version=\"7.93\",status=\"interrupted\"}"], 1);
}

}  // namespace
}  // namespace testbed::nightly
