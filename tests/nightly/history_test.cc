// `testbed history` on the committed fixtures (history_fixtures.h): three nights, one with
// drift explained by a package change, one failed. Checked for its marks (the drift night
// with its provenance change and report link, the failed night with its failed run, the
// retry), as JSON, and rendered in headless Chromium with no element wider than the page.
#include "orchestrator/nightly/history.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/nightly/history_fixtures.h"
#include "tests/support/chromium.h"

namespace testbed::nightly {
namespace {
using namespace testing;

// The committed fixtures read as the code writes them today (TESTBED_REGENERATE=1 writes
// them again into the source tree after a change of the report format; then commit).
TEST(HistoryFixtures, CommittedCopyIsWhatTheCodeWrites) {
  if (std::getenv("TESTBED_REGENERATE")) make_history_fixtures(kHistoryFixtures);
  auto tmp = util::TempDir::create("history-fixtures");
  ASSERT_TRUE(tmp.ok());
  make_history_fixtures(tmp->path() / "unit");
  auto fresh = load_history(tmp->path() / "unit");
  auto committed = load_history(kHistoryFixtures);
  ASSERT_TRUE(fresh.ok() && committed.ok());
  auto a = history_json(*fresh), b = history_json(*committed);
  a.erase("dir");
  b.erase("dir");
  EXPECT_EQ(a.dump(1), b.dump(1)) << "TESTBED_REGENERATE=1 rewrites the fixtures";
}

TEST(History, LoadsEveryNightWithItsFiguresAndState) {
  auto h = load_history(kHistoryFixtures);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->experiment, "unit");
  ASSERT_EQ(h->nights.size(), 3u);
  EXPECT_EQ(h->versions, (std::vector<std::string>{"7.80", "7.93"}));
  const Night &n1 = h->nights[0], &n2 = h->nights[1], &n3 = h->nights[2];
  EXPECT_EQ(n1.name, "20261201T020000Z");
  EXPECT_EQ(n1.status, "complete");
  EXPECT_FALSE(n1.drift());
  ASSERT_TRUE(n1.figures);
  EXPECT_FALSE(n1.figures->compared);
  // 7.93 scans two more ports than 7.80: two unique strobe packets, no noise between its runs.
  const auto* strobe = n1.figures->version("7.93")->phase("strobe");
  ASSERT_NE(strobe, nullptr);
  EXPECT_EQ(strobe->unique, 2u);
  ASSERT_TRUE(strobe->noise_floor);
  EXPECT_EQ(*strobe->noise_floor, 0u);
  EXPECT_GT(strobe->packets_sent, 40u);

  EXPECT_EQ(n2.status, "complete");
  EXPECT_TRUE(n2.drift());
  EXPECT_EQ(n2.figures->baseline_dir, "results/unit/20261201T020000Z");
  EXPECT_EQ(n2.figures->drift_cells, (std::vector<std::string>{"7.80 strobe"}));
  EXPECT_EQ(n2.figures->provenance_changes,
            (std::vector<std::string>{"scanner image (7.80): nmap-common 7.80+dfsg1-2 → 7.80+dfsg1-3"}));
  // One more SYN (port 7777) than the first night.
  EXPECT_EQ(n2.figures->version("7.80")->phase("strobe")->packets_sent,
            n1.figures->version("7.80")->phase("strobe")->packets_sent + 1);
  ASSERT_EQ(n2.retries.size(), 1u);
  EXPECT_NE(n2.retries[0].find("7.80/1: attempt 1 retried (nmap killed by signal 6 (SIGABRT)"),
            std::string::npos)
      << n2.retries[0];

  EXPECT_EQ(n3.status, "failed");
  EXPECT_EQ(n3.complete_runs, 3);
  EXPECT_EQ(n3.runs, 4);
  ASSERT_EQ(n3.problems.size(), 1u);
  EXPECT_EQ(n3.problems[0], "7.93/2 failed at scan: nmap exited with status 1");
  EXPECT_FALSE(n3.drift());
}

TEST(History, JsonCarriesTheSameFigures) {
  auto h = load_history(kHistoryFixtures);
  ASSERT_TRUE(h.ok());
  auto j = history_json(*h);
  EXPECT_EQ(j["format"], "testbed-history");
  ASSERT_EQ(j["nights"].size(), 3u);
  EXPECT_EQ(j["nights"][1]["drift"], true);
  EXPECT_EQ(j["nights"][1]["report"], "20261202T020000Z/report.html");
  EXPECT_EQ(j["nights"][2]["status"], "failed");
  EXPECT_EQ(j["nights"][0]["versions"]["7.93"]["phases"]["strobe"]["unique"], 2);
  EXPECT_EQ(j["nights"][0]["versions"]["7.93"]["phases"]["strobe"]["noise_floor"], 0);
}

TEST(History, PageMarksDriftFailuresAndLinksReports) {
  auto h = load_history(kHistoryFixtures);
  ASSERT_TRUE(h.ok());
  std::string html = history_html(*h);
  // The drift night: its row marked, its provenance change, the link to its report.
  auto row = html.find("<tr id=\"night-20261202T020000Z\" class=\"drift\">");
  ASSERT_NE(row, std::string::npos);
  std::string drift_row = html.substr(row, html.find("</tr>", row) - row);
  EXPECT_NE(drift_row.find("href=\"20261202T020000Z/report.html\""), std::string::npos);
  EXPECT_NE(drift_row.find("scanner image (7.80): nmap-common 7.80+dfsg1-2 → 7.80+dfsg1-3"),
            std::string::npos);
  EXPECT_NE(drift_row.find("7.80 strobe"), std::string::npos);
  EXPECT_NE(drift_row.find("attempt 1 retried"), std::string::npos);
  // The failed night, its failed run; the good night.
  auto failed = html.find("<tr id=\"night-20261203T020000Z\" class=\"failed\">");
  ASSERT_NE(failed, std::string::npos);
  EXPECT_NE(html.find("7.93/2 failed at scan: nmap exited with status 1", failed),
            std::string::npos);
  EXPECT_NE(html.find("<tr id=\"night-20261201T020000Z\" class=\"ok\">"), std::string::npos);
  // The charts mark the drift and failed nights, each mark a link to the night's row.
  EXPECT_NE(html.find("<a href=\"#night-20261202T020000Z\"><line"), std::string::npos);
  EXPECT_NE(html.find("class=\"mark-drift\""), std::string::npos);
  EXPECT_NE(html.find("<a href=\"#night-20261203T020000Z\"><line"), std::string::npos);
  EXPECT_NE(html.find("class=\"mark-failed\""), std::string::npos);
  EXPECT_NE(html.find("7.80: noise floor per phase"), std::string::npos);
  EXPECT_NE(html.find("3 nights"), std::string::npos);
  // Self-contained: nothing fetched from anywhere.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

// The report says a retry happened and why (runs table in HTML and Markdown, report.json).
TEST(History, ReportSaysARunWasRetried) {
  auto tmp = util::TempDir::create("history-retry");
  ASSERT_TRUE(tmp.ok());
  fs::path night = complete_results(tmp->path() / "unit", "20261202T020000Z", 1);
  fs::path m = night / "7.80/1/manifest.json";
  auto mj = nlohmann::json::parse(read_all(m));
  mj["retries"] = {{{"attempt", 1},
                    {"stage", "scan"},
                    {"reason", "zmap killed by signal 6 (SIGABRT): Assertion `index < "
                               "con->root->count' failed."},
                    {"at", 1764554400.5}}};
  write_text(m, mj.dump(2));
  auto r = report::write_report(night, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto j = nlohmann::json::parse(read_all(r->json));
  ASSERT_EQ(j["runs"][0]["version"], "7.80");
  ASSERT_EQ(j["runs"][0]["retries"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["retries"][0]["attempt"], 1);
  EXPECT_NE(j["runs"][0]["retries"][0]["reason"].get<std::string>().find("signal 6 (SIGABRT)"),
            std::string::npos);
  EXPECT_FALSE(j["runs"][1].contains("retries"));
  EXPECT_NE(read_all(r->html).find("retried after attempt 1 (zmap killed by signal 6 (SIGABRT): "
                                   "Assertion `index &lt; con-&gt;root-&gt;count&#39; failed."),
            std::string::npos);
  EXPECT_NE(read_all(r->markdown).find("retried after attempt 1 (zmap killed by signal 6"),
            std::string::npos);
}

TEST(History, RefusesWhatIsNotAnExperimentFolder) {
  auto one = load_history(kHistoryFixtures / "20261201T020000Z");
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.error().message.find("is one results directory"), std::string::npos);
  auto tmp = util::TempDir::create("history-empty");
  ASSERT_TRUE(tmp.ok());
  auto none = load_history(tmp->path());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("holds no results directory"), std::string::npos);
  // The CLI: exit 2, nothing written.
  auto r = util::run_process({kTestbed.string(), "history", tmp->path().string(), "-o",
                              (tmp->path() / "h.html").string()});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_FALSE(fs::exists(tmp->path() / "h.html"));
}

// Headless Chromium at 1280 px: every element's right edge within the page's width (a
// script appended to a copy of the page writes what overflows into the DOM it dumps).
TEST(History, RendersInChromiumWithNothingWiderThanThePage) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium is not installed";
  auto tmp = util::TempDir::create("history-chromium");
  ASSERT_TRUE(tmp.ok());
  fs::path page = tmp->path() / "history.html";
  auto r = util::run_process({kTestbed.string(), "history", kHistoryFixtures.string(), "-o",
                              page.string()});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  std::string html = read_all(page);
  const std::string probe = R"(<script>
addEventListener('load', () => {
  const w = document.documentElement.clientWidth, wide = [];
  for (const e of document.querySelectorAll('body *')) {
    const b = e.getBoundingClientRect();
    if (b.right > w + 0.5 || b.left < -0.5) wide.push(e.tagName + '.' + e.className.baseVal + e.className);
  }
  const p = document.createElement('pre');
  p.id = 'overflow';
  const sw = document.documentElement.scrollWidth;
  p.textContent = 'page ' + w + ' scroll ' + sw + (sw <= w ? ' fits' : ' overflows') + ' wide [' + wide.join(',') + ']';
  document.body.appendChild(p);
});
</script></body>)";
  html.replace(html.rfind("</body>"), 7, probe);
  fs::path probed = tmp->path() / "probed.html";
  write_text(probed, html);
  auto argv = test_support::chromium_argv(tmp->path() / "profile");
  argv.push_back("--window-size=1280,2000");
  argv.push_back("--dump-dom");
  argv.push_back("file://" + probed.string());
  util::ProcessOptions po;
  po.timeout = std::chrono::seconds(120);
  auto dom = util::run_process(argv, po);
  ASSERT_TRUE(dom.ok()) << dom.error().message;
  auto at = dom->out.find("<pre id=\"overflow\">");
  ASSERT_NE(at, std::string::npos) << dom->err;
  std::string verdict = dom->out.substr(at, dom->out.find("</pre>", at) - at);
  EXPECT_NE(verdict.find("wide []"), std::string::npos) << verdict;
  EXPECT_NE(verdict.find(" fits "), std::string::npos) << verdict;
  EXPECT_NE(dom->out.find("<polyline"), std::string::npos);
  EXPECT_NE(dom->out.find("nmap-common 7.80+dfsg1-2 → 7.80+dfsg1-3"), std::string::npos);
  // For a person to look at: TESTBED_KEEP_SCREENSHOT=/tmp/x.png.
  if (const char* keep = std::getenv("TESTBED_KEEP_SCREENSHOT")) {
    auto shot = test_support::chromium_argv(tmp->path() / "profile2");
    shot.push_back("--window-size=1280,2400");
    shot.push_back(std::string("--screenshot=") + keep);
    shot.push_back("file://" + page.string());
    (void)util::run_process(shot, po);
  }
}

}  // namespace
}  // namespace testbed::nightly
