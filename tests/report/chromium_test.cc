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

// At 1280 px (a laptop's window) no element of the report is wider than its column and no
// table is cut: a four-version report with repetitions, long decoded payloads, and the lab
// drawing of the largest committed topology (issue 27: the 1,209 pt drawing overflowed the
// 1,180 px column, "Capture and decoding" was cut). A copy of the page without its CSP
// measures itself in Chromium and writes what overflows into the DOM.
TEST(ChromiumRender, NothingWiderThanItsColumnAt1280) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium is not installed";
  if (!util::have_program("dot")) GTEST_SKIP() << "Graphviz's dot is not installed";
  auto tmp = util::TempDir::create("report-layout");
  ASSERT_TRUE(tmp.ok()) << tmp.error().message;
  fs::path r = tmp->path() / "nmap7" / "20261126T000000Z";
  const std::vector<std::string> versions = {"7.80", "7.93", "7.95", "7.991"};
  write_plan(r, versions, 2);
  for (int rep : {1, 2})
    for (size_t v = 0; v < versions.size(); ++v) {
      ScanSpec s{versions[v], rep};
      if (v >= 2) s.extra_ports = {5985, 5986};
      s.extra_payload = std::string(v, 'x') + "GET /" + std::string(300, 'a') +
                        " HTTP/1.1\r\nUser-Agent: Mozilla/5.0 (compatible; Nmap Scripting Engine; "
                        "https://nmap.org/book/nse.html)\r\n\r\n";
      write_run(r, s);
    }
  fs::copy_file(fs::path(TESTBED_SOURCE_DIR) / "topology/two-subnet.yaml", r / "topology.yaml");
  auto out = write_report(r, ReportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message;

  std::string html = read_all(out->html);
  const size_t csp = html.find("<meta http-equiv=\"Content-Security-Policy\"");
  ASSERT_NE(csp, std::string::npos);
  html.erase(csp, html.find('>', csp) + 1 - csp);
  const std::string probe = R"(<script>
addEventListener('load', () => {
  const main = document.querySelector('main');
  const cs = getComputedStyle(main);
  const right = main.getBoundingClientRect().right - parseFloat(cs.paddingRight) + 1;
  const bad = [];
  for (const el of document.querySelectorAll('main *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const name = el.tagName + (el.id ? '#' + el.id : '');
    if (r.right > right) bad.push(name + ' ends at ' + Math.round(r.right) + ' > ' + Math.round(right));
    if (['TABLE', 'DIV', 'PRE'].includes(el.tagName) && el.scrollWidth > el.clientWidth + 1)
      bad.push(name + ' cut: ' + el.scrollWidth + ' > ' + el.clientWidth);
  }
  const p = document.createElement('pre');
  p.id = 'layout';
  p.textContent = 'LAY' + 'OUT[' + bad.slice(0, 20).join(' | ') + ']' + 'END';
  document.body.appendChild(p);
});
</script>)";
  html.insert(html.find("</body>"), probe);
  const fs::path page = tmp->path() / "probe.html";
  write_text(page, html);

  auto argv = chromium_argv(tmp->path() / "profile");
  argv.insert(argv.end(), {"--window-size=1280,2000", "--virtual-time-budget=5000", "--dump-dom",
                           "file://" + page.string()});
  util::ProcessOptions po;
  po.timeout = std::chrono::seconds(120);
  auto dom = util::run_process(argv, po);
  ASSERT_TRUE(dom.ok()) << dom.error().message;
  const size_t a = dom->out.find("LAYOUT["), b = dom->out.find("]END", a);
  ASSERT_TRUE(a != std::string::npos && b != std::string::npos) << "the probe did not run: " << dom->err;
  EXPECT_EQ(dom->out.substr(a + 7, b - a - 7), "") << "wider than the column at 1280 px";
  EXPECT_NE(dom->out.find("<svg"), std::string::npos) << "the lab drawing is there";
  if (const char* keep = std::getenv("TESTBED_KEEP_SCREENSHOT")) {
    auto shot = chromium_argv(tmp->path() / "profile2");
    shot.insert(shot.end(), {"--window-size=1280,9000", std::string("--screenshot=") + keep,
                             "file://" + fs::absolute(out->html).string()});
    (void)util::run_process(shot, po);
    fs::copy_file(page, std::string(keep) + ".probe.html", fs::copy_options::overwrite_existing);
  }
}

}  // namespace
}  // namespace testbed::report
