// Renders report.html in headless Chromium: it must render (tables and SVG in the DOM, a
// non-trivial screenshot), with no network. Skipped when /usr/bin/chromium is missing.
#include <gtest/gtest.h>

#include "orchestrator/report/report.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"
#include "tests/support/chromium.h"

namespace testbed::report {
namespace {

using namespace testing;

using test_support::chromium_argv;

TEST(ChromiumRender, ReportRendersWithTablesAndCharts) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium is not installed";
  auto tmp = util::TempDir::create("report-chromium");
  ASSERT_TRUE(tmp.ok()) << tmp.error().message;
  fs::path r = tmp->path() / "unit" / "20261126T000000Z";
  write_plan(r, {"7.80", "7.93"}, 2);
  for (int rep : {1, 2}) {
    ScanSpec a{"7.80", rep};
    a.extra_discovery = rep == 2;
    write_run(r, a);
    ScanSpec b{"7.93", rep};
    b.extra_ports = {31337, 8888};
    b.extra_payload = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";
    write_run(r, b);
  }
  auto out = write_report(r, ReportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  std::string url = "file://" + fs::absolute(out->html).string();

  fs::path png = tmp->path() / "report.png";
  auto argv = chromium_argv(tmp->path() / "profile1");
  argv.push_back("--screenshot=" + png.string());
  argv.push_back("--window-size=1280,2000");
  argv.push_back(url);
  util::ProcessOptions po;
  po.timeout = std::chrono::seconds(120);
  auto shot = util::run_process(argv, po);
  ASSERT_TRUE(shot.ok()) << shot.error().message;
  ASSERT_TRUE(fs::exists(png)) << shot->err;
  EXPECT_GT(fs::file_size(png), 20000u) << "screenshot suspiciously small";
  // For a person to look at: TESTBED_KEEP_SCREENSHOT=/tmp/x.png keeps x.png and x.png.html.
  if (const char* keep = std::getenv("TESTBED_KEEP_SCREENSHOT")) {
    fs::copy_file(png, keep, fs::copy_options::overwrite_existing);
    fs::copy_file(out->html, std::string(keep) + ".html", fs::copy_options::overwrite_existing);
  }

  auto dom_argv = chromium_argv(tmp->path() / "profile2");
  dom_argv.push_back("--dump-dom");
  dom_argv.push_back(url);
  auto dom = util::run_process(dom_argv, po);
  ASSERT_TRUE(dom.ok()) << dom.error().message;
  const std::string& d = dom->out;
  EXPECT_NE(d.find("<table"), std::string::npos);
  EXPECT_NE(d.find("<svg"), std::string::npos);
  EXPECT_NE(d.find("Table 1"), std::string::npos);
  EXPECT_NE(d.find("<rect"), std::string::npos);
  // The payload was parsed as text: no element came out of it.
  EXPECT_EQ(d.find("<img"), std::string::npos);
  EXPECT_EQ(d.find("<script"), std::string::npos);
  EXPECT_NE(d.find("&lt;script&gt;alert(1)"), std::string::npos);
}

}  // namespace
}  // namespace testbed::report
