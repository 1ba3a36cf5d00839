// write_report over a results directory the test builds itself (results_builder.h).
#include "orchestrator/report/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestrator/report/compare.h"
#include "orchestrator/report/results.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed::report {
namespace {

using namespace testing;

const char* kXss = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

/// 7.80 and 7.93 with two complete runs each; 7.93 scans two more ports and sends one more
/// (markup-laden) request; 7.80/2 pings one more address (run-to-run noise); 7.95 failed once
/// and left one run incomplete.
fs::path build_results(const fs::path& root) {
  fs::path r = root / "unit" / "20261126T000000Z";
  write_report_fixture(r, kXss);
  write_text(
      r / "7.95" / "1" / "failure.json",
      R"({"status":"failed","stage":"scan","error":"nmap exited with status 1 <b>boom</b>"})");
  write_text(r / "7.95" / "2" / "nmap.log", "1700000000.0 Starting Nmap\n");
  return r;
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("report-test");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    dir_ = build_results(tmp_->path());
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path dir_;
};

TEST_F(ReportTest, LoadsRunsWithTheirState) {
  auto r = load_results(dir_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->experiment, "unit");
  EXPECT_EQ(r->versions, (std::vector<std::string>{"7.80", "7.93", "7.95"}));
  ASSERT_EQ(r->runs.size(), 6u);
  EXPECT_EQ(r->runs[4].status, "failed");
  EXPECT_EQ(r->runs[4].stage, "scan");
  EXPECT_EQ(r->runs[5].status, "incomplete");
  ASSERT_TRUE(r->options.scanner.has_value());
  EXPECT_EQ(r->options.scanner->str(), "172.24.0.10");  // the lab's, from the manifests
  EXPECT_EQ(r->options_source, "experiment.yaml");      // its topology path need not resolve
}

// SIGINT/SIGTERM during `testbed run`'s or `testbed report`'s report (ReportOptions::cancel):
// it stops before writing anything, so no half-made set of report files is left.
TEST_F(ReportTest, CancelledReportWritesNothing) {
  std::atomic<bool> cancel{true};
  ReportOptions o;
  o.cancel = &cancel;
  auto out = write_report(dir_, o);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("interrupted"), std::string::npos) << out.error().message;
  for (const char* f : {"report.html", "report.md", "report.json", "csv"})
    EXPECT_FALSE(fs::exists(dir_ / f)) << f;
}

TEST_F(ReportTest, WritesEscapedHtmlTablesChartsJsonCsv) {
  auto out = write_report(dir_, ReportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_FALSE(out->drift);
  std::string html = read_all(out->html);
  for (const char* s : {"Table 1", "Table 2", "<table", "<svg", "study 7.60", "Unique packets",
                        "Noise floor", "Phase timeline", "Provenance", "cafef00d",
                        "scanner-nmap-7.93@0123456789abcdef", "Nmap version 7.93"})
    EXPECT_NE(html.find(s), std::string::npos) << s;
  // Payload markup only ever appears escaped; the page has no script and no img at all.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<b>boom"), std::string::npos);
  EXPECT_NE(
      html.find(
          "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"),
      std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;boom"), std::string::npos);
  // Two SVG charts for port usage and one timeline.
  size_t svgs = 0;
  for (size_t p = 0; (p = html.find("<svg", p)) != std::string::npos; ++p) ++svgs;
  EXPECT_EQ(svgs, 3u);

  auto j = nlohmann::json::parse(read_all(out->json));
  EXPECT_EQ(j["format"], "testbed-report");
  EXPECT_EQ(j["versions"], (nlohmann::json{"7.80", "7.93"}));
  // Incomplete and failed runs are listed, not analysed.
  std::map<std::string, std::string> status;
  for (const auto& r : j["runs"])
    status[r["version"].get<std::string>() + "/" + std::to_string(r["rep"].get<int>())] =
        r["status"];
  EXPECT_EQ(status["7.95/1"], "failed");
  EXPECT_EQ(status["7.95/2"], "incomplete");
  EXPECT_EQ(j["analysis"]["captures"].size(), 2u);

  // Table 2 (fine): 7.93 has the two extra ports in the port scan and one extra request.
  std::map<std::string, nlohmann::json> fine;
  for (const auto& row : j["analysis"]["table2_fine"]["rows"]) fine[row["phase"]] = row["inputs"];
  ASSERT_TRUE(fine.count("port-scan")) << j["analysis"].dump().substr(0, 2000);
  EXPECT_EQ(fine["port-scan"]["7.93"]["unique"], 2);
  EXPECT_EQ(fine["port-scan"]["7.80"]["unique"], 0);
  EXPECT_EQ(fine["service"]["7.93"]["unique"], 1);
  EXPECT_EQ(fine["discovery"]["7.80"]["unique"], 0);  // the primary run of 7.80 is rep 1

  // Noise floor: 7.80's runs differ by one discovery packet, 7.93's not at all.
  const auto& nf = j["noise_floor"]["fine"];
  EXPECT_TRUE(nf["available"]);
  for (const auto& row : nf["rows"]) {
    if (row["phase"] == "discovery") {
      EXPECT_EQ(row["versions"]["7.80"]["max"], 1);
    }
    if (row["phase"] == "port-scan") {
      EXPECT_EQ(row["versions"]["7.93"]["max"], 0);
    }
    EXPECT_EQ(row["versions"]["7.93"]["pairs"], 1);
  }
  // Leave-one-out classifier: every run recognised.
  EXPECT_TRUE(j["classifier"]["available"]);
  EXPECT_EQ(j["classifier"]["correct"], 4);
  EXPECT_EQ(j["classifier"]["total"], 4);

  for (const char* f : {"table1.csv", "table2.csv", "port_usage.csv", "unique_packets.csv",
                        "runs.csv", "noise_floor.csv", "classifier.csv", "similarity.csv"})
    EXPECT_TRUE(fs::exists(dir_ / "csv" / f)) << f;
  std::string md = read_all(out->markdown);
  EXPECT_NE(md.find("Noise floor"), std::string::npos);
  EXPECT_NE(md.find("7.95/2 | incomplete"), std::string::npos);
}

TEST_F(ReportTest, OneRepetitionShowsPairwiseSimilarityInstead) {
  fs::path r = tmp_->path() / "one";
  write_plan(r, {"7.80", "7.93"}, 1);
  write_run(r, {"7.80", 1});
  ScanSpec s{"7.93", 1};
  s.extra_ports = {4444};
  write_run(r, s);
  auto out = write_report(r, ReportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  auto j = nlohmann::json::parse(read_all(out->json));
  EXPECT_FALSE(j["classifier"]["available"]);
  EXPECT_NE(j["classifier"]["reason"].get<std::string>().find("at least 2 runs"),
            std::string::npos);
  EXPECT_EQ(j["classifier"]["pairwise_similarity"]["matrix"].size(), 2u);
  EXPECT_FALSE(j["noise_floor"]["three_phase"]["available"]);
  std::string html = read_all(out->html);
  EXPECT_NE(html.find("repetitions ≥ 2"), std::string::npos);
  EXPECT_NE(html.find("pairwise similarity"), std::string::npos);
  // The Markdown's pairwise table: an empty corner cell, one right-aligned column a run.
  std::string md = read_all(out->markdown);
  size_t table = md.find("in the other run:\n\n| | ");
  ASSERT_NE(table, std::string::npos) << md;
  EXPECT_EQ(md.find(" |\n|---|---:|---:|\n| ", table), md.find(" |\n", table)) << md;
}

// An experiment across tools (experiments/scanners.yaml) is titled and asked about as
// scanners; one of Nmap versions keeps the study's words (the goldens hold those).
TEST_F(ReportTest, AcrossToolsTheReportSpeaksOfScanners) {
  fs::path r = tmp_->path() / "tools";
  write_plan(r, {"nmap-7.93", "masscan"}, 1);
  write_run(r, {"nmap-7.93", 1, {}, "", false, "nmap"});
  write_run(r, {"masscan", 1, {4444}, "", false, "masscan"});
  write_text(r / "masscan" / "1" / "masscan.out", "#masscan\n# end\n");
  auto out = write_report(r, ReportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  std::string html = read_all(out->html), md = read_all(out->markdown);
  EXPECT_NE(html.find("<h1>Scanner traffic: nmap, masscan — "), std::string::npos);
  EXPECT_EQ(html.find("Nmap traffic by version"), std::string::npos);
  EXPECT_NE(html.find(">Which scanner produced a capture?</h2>"), std::string::npos);
  EXPECT_NE(md.find("## Which scanner produced a capture?"), std::string::npos);
  auto nmap_only = write_report(dir_, ReportOptions{});
  ASSERT_TRUE(nmap_only.ok()) << nmap_only.error().message;
  EXPECT_NE(read_all(nmap_only->html).find("<h1>Nmap traffic by version — "), std::string::npos);
  EXPECT_NE(read_all(nmap_only->markdown).find("## Which version produced a capture?"),
            std::string::npos);
}

// A section another module adds (the IDS section) gets its link in the navigation bar.
TEST_F(ReportTest, ExtraSectionsAreInTheNavigation) {
  ReportOptions o;
  o.sections.push_back([](const AnalysedResults&) {
    ExtraSection x;
    x.id = "ids";
    x.title = "Can an IDS tell them apart?";
    x.html = "<p>body</p>";
    return x;
  });
  auto out = write_report(dir_, o);
  ASSERT_TRUE(out.ok()) << out.error().message;
  std::string html = read_all(out->html);
  size_t nav = html.find("<nav>"), nav_end = html.find("</nav>");
  ASSERT_NE(nav, std::string::npos);
  EXPECT_LT(html.find("<a href=\"#ids\">Can an IDS tell them apart?</a>", nav), nav_end);
  EXPECT_NE(html.find("<h2 id=\"ids\">"), std::string::npos);
}

TEST_F(ReportTest, BaselineIdenticalCopyIsNoDriftRealChangeIsDrift) {
  fs::path copy = tmp_->path() / "copy";
  fs::copy(dir_, copy, fs::copy_options::recursive);
  ReportOptions o;
  o.baseline = dir_;
  auto same = write_report(copy, o);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_FALSE(same->drift);

  // 7.80 now scans an extra port in both runs: beyond its port-scan noise floor (0).
  fs::path changed = tmp_->path() / "changed";
  write_plan(changed, {"7.80", "7.93"}, 2);
  for (int rep : {1, 2}) {
    ScanSpec a{"7.80", rep};
    a.extra_ports = {7777};
    a.extra_discovery = rep == 2;
    write_run(changed, a);
    ScanSpec b{"7.93", rep};
    b.extra_ports = {31337, 8888};
    b.extra_payload = kXss;
    write_run(changed, b);
  }
  auto drift = write_report(changed, o);
  ASSERT_TRUE(drift.ok()) << drift.error().message;
  EXPECT_TRUE(drift->drift);
  auto j = nlohmann::json::parse(read_all(drift->json));
  EXPECT_TRUE(j["drift"]);
  bool strobe_780 = false;
  for (const auto& c : j["baseline"]["cells"]) {
    if (c["version"] == "7.80" && c["phase"] == "strobe") {
      strobe_780 = true;
      EXPECT_TRUE(c["drift"]);
      EXPECT_EQ(c["b_only"], 1);
    } else {
      EXPECT_FALSE(c["drift"]) << c.dump();  // 7.80 horizontal: 1 within its noise floor of 1
    }
  }
  EXPECT_TRUE(strobe_780);
  EXPECT_EQ(j["baseline"]["only_in_a"], nlohmann::json::array());
  EXPECT_NE(read_all(drift->html).find("DRIFT"), std::string::npos);
}

TEST_F(ReportTest, ToleranceAbsorbsSmallChanges) {
  fs::path changed = tmp_->path() / "changed";
  write_plan(changed, {"7.80"}, 1);
  ScanSpec a{"7.80", 1};
  a.extra_ports = {7777};
  write_run(changed, a);
  ReportOptions o;
  o.baseline = dir_;
  o.drift_tolerance = 1;
  o.allow_missing = true;  // `changed` has no 7.93: that alone is drift (next test)
  auto out = write_report(changed, o);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_FALSE(out->drift);
  o.allow_missing = false;
  auto strict = write_report(changed, o);
  ASSERT_TRUE(strict.ok()) << strict.error().message;
  EXPECT_TRUE(strict->drift) << "7.93 is missing from `changed`";
}

/// `dir` with every run of `version` replaced by a failed run (as a broken night leaves it).
void fail_version(const fs::path& dir, const std::string& version) {
  for (const auto& e : fs::directory_iterator(dir / version)) {
    for (const char* f : {"manifest.json", "capture.pcap", "phases.json", "nmap.xml", "nmap.log"})
      fs::remove(e.path() / f);
    write_text(e.path() / "failure.json",
               R"({"status":"failed","stage":"scan","error":"nmap exited with status 1"})");
  }
}

// Issue 19: a version whose runs all failed on one side was "not compared" and the result
// "no drift". A nightly check would have passed a broken night.
TEST_F(ReportTest, VersionFailedOnOneSideIsDriftUnlessAllowed) {
  fs::path night = tmp_->path() / "night";
  fs::copy(dir_, night, fs::copy_options::recursive);
  fail_version(night, "7.93");
  ReportOptions o;
  o.baseline = dir_;
  auto out = write_report(night, o);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->drift);
  EXPECT_NE(out->drift_reason.find("7.93: 7.93/1 failed at scan: nmap exited with status 1"),
            std::string::npos)
      << out->drift_reason;
  auto j = nlohmann::json::parse(read_all(out->json));
  EXPECT_EQ(j["baseline"]["only_in_a"], nlohmann::json::array({"7.93"}));
  EXPECT_TRUE(j["baseline"]["missing_drift"]);
  for (const auto& c : j["baseline"]["cells"]) EXPECT_FALSE(c["drift"]) << c.dump();
  EXPECT_NE(read_all(out->markdown).find("Result: drift: a version has runs on one side only"),
            std::string::npos);

  o.allow_missing = true;
  auto allowed = write_report(night, o);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  EXPECT_FALSE(allowed->drift);
  EXPECT_NE(read_all(allowed->markdown).find("allowed by --allow-missing"), std::string::npos);

  // The other direction: the baseline lacks a version the new results have.
  o.allow_missing = false;
  o.baseline = night;
  auto reverse = write_report(dir_, o);
  ASSERT_TRUE(reverse.ok()) << reverse.error().message;
  EXPECT_TRUE(reverse->drift);
  auto rj = nlohmann::json::parse(read_all(reverse->json));
  EXPECT_EQ(rj["baseline"]["only_in_b"], nlohmann::json::array({"7.93"}));
}

TEST(CompareRuns, VersionOnOneSideOnly) {
  analysis::PayloadStore store;
  analysis::RunPhaseSets a1{"7.80", "7.80/1", {{}, {}, {}, {}}};
  analysis::RunPhaseSets b1 = a1;
  analysis::RunPhaseSets a2{"7.93", "7.93/1", {{}, {}, {}, {}}};
  auto d = compare_runs({&a1, &a2}, {&b1}, store, {});
  EXPECT_TRUE(d.drift);
  EXPECT_TRUE(d.missing_drift);
  EXPECT_EQ(d.only_in_a, std::vector<std::string>{"7.93"});
  auto allowed = compare_runs({&a1, &a2}, {&b1}, store, {}, 0, /*allow_missing=*/true);
  EXPECT_FALSE(allowed.drift);
  EXPECT_FALSE(allowed.missing_drift);
  auto same = compare_runs({&a1}, {&b1}, store, {});
  EXPECT_FALSE(same.drift);
}

TEST_F(ReportTest, RefusesWhatIsNotAResultsDirectory) {
  fs::path empty = tmp_->path() / "empty";
  fs::create_directories(empty);
  auto r = write_report(empty, ReportOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a results directory"), std::string::npos);
  EXPECT_FALSE(write_report(tmp_->path() / "nope", ReportOptions{}).ok());

  fs::path failed = tmp_->path() / "failed";
  write_plan(failed, {"7.80"}, 1);
  write_text(failed / "7.80" / "1" / "failure.json",
             R"({"status":"failed","stage":"scan","error":"x"})");
  auto f = write_report(failed, ReportOptions{});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("no complete"), std::string::npos);
}

TEST_F(ReportTest, BadAnalysisSettingsAreNamed) {
  write_text(dir_ / "experiment.yaml", "name: unit\nanalysis:\n  key_fields: [ttl, colour]\n");
  auto r = load_results(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("experiment.yaml:3"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("colour"), std::string::npos);
  write_text(dir_ / "experiment.yaml", "name: unit\nanalysis:\n  key_fields: [ttl, tcp_options]\n");
  auto ok = load_results(dir_);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->options.key_fields, uint32_t(analysis::kKeyTtl | analysis::kKeyTcpOptions));
}

TEST_F(ReportTest, UnreadableCaptureIsListedNotFatal) {
  write_text(dir_ / "7.80" / "2" / "capture.pcap", "not a pcap");
  auto out = write_report(dir_, ReportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  auto j = nlohmann::json::parse(read_all(out->json));
  bool listed = false;
  for (const auto& r : j["runs"])
    if (r["version"] == "7.80" && r["rep"] == 2) {
      listed = true;
      EXPECT_EQ(r["status"], "unreadable");
    }
  EXPECT_TRUE(listed);
  EXPECT_FALSE(j["classifier"]["available"]);  // 7.80 has one analysable run left
}

}  // namespace
}  // namespace testbed::report

namespace testbed::report {
namespace {

// The CLI verbs over the same directories (exit codes from cli/commands.h). Needs the
// testbed binary of this build tree (built by `make`).
TEST_F(ReportTest, DiffAndReportCommandsExitCodes) {
  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  ASSERT_TRUE(fs::exists(bin)) << bin << " is not built: build the `testbed` target (make)";
  fs::path copy = tmp_->path() / "copy";
  fs::copy(dir_, copy, fs::copy_options::recursive);
  fs::path changed = tmp_->path() / "changed";
  write_plan(changed, {"7.80"}, 1);
  ScanSpec a{"7.80", 1};
  a.extra_ports = {7777};
  write_run(changed, a);
  auto same = util::run_process({bin.string(), "diff", dir_.string(), copy.string()});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->exit_code, 0) << same->out << same->err;
  EXPECT_NE(same->out.find("no drift"), std::string::npos);
  auto drift = util::run_process({bin.string(), "diff", "--json", dir_.string(), changed.string()});
  ASSERT_TRUE(drift.ok());
  EXPECT_EQ(drift->exit_code, 3) << drift->out << drift->err;
  EXPECT_TRUE(nlohmann::json::parse(drift->out)["drift"].get<bool>());
  auto rep =
      util::run_process({bin.string(), "report", changed.string(), "--baseline", dir_.string()});
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->exit_code, 3) << rep->err;
  EXPECT_TRUE(fs::exists(changed / "report.html"));
  // Not a results directory. (tmp_ itself holds results directories: `report` would take
  // the newest complete one of them, as for results/<experiment>.)
  fs::create_directories(tmp_->path() / "empty");
  auto bad = util::run_process({bin.string(), "report", (tmp_->path() / "empty").string()});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->exit_code, 2) << bad->err;
}

// `testbed diff A B` with a version that failed in B: exit 3, the version and its failure
// named; --allow-missing: exit 0. The same for `report --baseline`.
TEST_F(ReportTest, DiffMissingVersionExits3UnlessAllowed) {
  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  if (!fs::exists(bin)) GTEST_SKIP() << bin << " not built";
  fs::path night = tmp_->path() / "night";
  fs::copy(dir_, night, fs::copy_options::recursive);
  fail_version(night, "7.93");
  auto d = util::run_process({bin.string(), "diff", dir_.string(), night.string()});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->exit_code, 3) << d->out << d->err;
  EXPECT_NE(d->out.find("- 7.93: in B 7.93/1 failed at scan"), std::string::npos) << d->out;
  EXPECT_NE(d->out.find("Result: drift"), std::string::npos) << d->out;
  EXPECT_NE(d->err.find("7.93"), std::string::npos) << d->err;
  auto allowed =
      util::run_process({bin.string(), "diff", "--allow-missing", dir_.string(), night.string()});
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->exit_code, 0) << allowed->out << allowed->err;
  EXPECT_NE(allowed->out.find("no drift"), std::string::npos) << allowed->out;
  auto j = util::run_process({bin.string(), "diff", "--json", night.string(), dir_.string()});
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->exit_code, 3);
  EXPECT_EQ(nlohmann::json::parse(j->out)["only_in_b"], nlohmann::json::array({"7.93"}));

  auto rep =
      util::run_process({bin.string(), "report", night.string(), "--baseline", dir_.string()});
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->exit_code, 3) << rep->err;
  auto rep_ok = util::run_process(
      {bin.string(), "report", night.string(), "--baseline", dir_.string(), "--allow-missing"});
  ASSERT_TRUE(rep_ok.ok());
  EXPECT_EQ(rep_ok->exit_code, 0) << rep_ok->err;
}

}  // namespace
}  // namespace testbed::report
