// `testbed lab graph` and the report's "The lab": a golden DOT file of a real topology,
// the SVG Graphviz makes of it rendered by headless Chromium (non-empty screenshot, every
// name in the page), and the same drawing inside report.html.
#include "orchestrator/report/lab_graph.h"

#include <gtest/gtest.h>

#include "orchestrator/report/report.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"
#include "tests/support/chromium.h"

namespace testbed::report {
namespace {

using namespace testing;

const fs::path kTopology = fs::path(TESTBED_SOURCE_DIR) / "topology/two-subnet-small.yaml";
const fs::path kGolden =
    fs::path(TESTBED_SOURCE_DIR) / "tests/report/golden/lab_graph_two_subnet_small.dot";
const fs::path kTestbed = fs::path(TESTBED_BINARY_DIR) / "testbed";

/// What the drawing must name: networks, subnets, nodes, images, addresses, the capture.
const char* kNames[] = {"mgmt",        "scan",           "targets",     "172.24.0.0/24",
                        "172.24.1.0/24", "router",       "scanner",     "target1",
                        "172.24.0.1",  "172.24.0.10",    "172.24.1.10", "10.250.0.1",
                        "this host",   "capture (every packet)", "target-lamp-ftp"};

TEST(LabGraph, GoldenDot) {
  auto topo = config::load_topology(kTopology.string());
  ASSERT_TRUE(topo.ok()) << topo.error().message;
  std::string dot = topology_dot(*topo);
  if (std::getenv("TESTBED_REGENERATE")) write_text(kGolden, dot);
  EXPECT_EQ(dot, read_all(kGolden)) << "TESTBED_REGENERATE=1 rewrites " << kGolden;
  // The CLI prints the same.
  ASSERT_TRUE(fs::exists(kTestbed)) << kTestbed << " is not built";
  auto r = util::run_process({kTestbed.string(), "lab", "graph", kTopology.string(), "--format", "dot"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out, dot);
  auto bad = util::run_process({kTestbed.string(), "lab", "graph", "/nonexistent.yaml"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->exit_code, 2);
}

TEST(LabGraph, SvgRendersInChromium) {
  if (!util::have_program("dot")) GTEST_SKIP() << "Graphviz's dot is not installed";
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium is not installed";
  auto tmp = util::TempDir::create("lab-graph");
  ASSERT_TRUE(tmp.ok());
  auto r = util::run_process({kTestbed.string(), "lab", "graph", kTopology.string()});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->exit_code, 0) << r->err;
  const std::string& svg = r->out;
  std::string text = svg;  // Graphviz writes '-' as a character reference
  for (size_t p; (p = text.find("&#45;")) != std::string::npos;) text.replace(p, 5, "-");
  for (const char* n : kNames) EXPECT_NE(text.find(n), std::string::npos) << n;
  fs::path file = tmp->path() / "lab.svg";
  write_text(file, svg);

  fs::path png = tmp->path() / "lab.png";
  auto argv = test_support::chromium_argv(tmp->path() / "profile1");
  argv.push_back("--screenshot=" + png.string());
  argv.push_back("--window-size=1400,700");
  argv.push_back("file://" + file.string());
  util::ProcessOptions po;
  po.timeout = std::chrono::seconds(120);
  auto shot = util::run_process(argv, po);
  ASSERT_TRUE(shot.ok()) << shot.error().message;
  ASSERT_TRUE(fs::exists(png)) << shot->err;
  EXPECT_GT(fs::file_size(png), 10000u) << "screenshot suspiciously small";
  if (const char* keep = std::getenv("TESTBED_KEEP_SCREENSHOT"))
    fs::copy_file(png, keep, fs::copy_options::overwrite_existing);
  auto dom_argv = test_support::chromium_argv(tmp->path() / "profile2");
  dom_argv.push_back("--dump-dom");
  dom_argv.push_back("file://" + file.string());
  auto dom = util::run_process(dom_argv, po);
  ASSERT_TRUE(dom.ok());
  for (const char* n : {"target1", "capture (every packet)", "172.24.0.0/24", "target-lamp-ftp"})
    EXPECT_NE(dom->out.find(n), std::string::npos) << n << " not in the rendered page";
}

TEST(LabGraph, ReportEmbedsTheDrawing) {
  if (!util::have_program("dot")) GTEST_SKIP() << "Graphviz's dot is not installed";
  auto tmp = util::TempDir::create("lab-graph-report");
  ASSERT_TRUE(tmp.ok());
  fs::path r = tmp->path() / "unit" / "20261126T000000Z";
  write_plan(r, {"7.80", "7.93"}, 1);
  write_run(r, {"7.80", 1});
  write_run(r, {"7.93", 1});
  auto without = write_report(r, ReportOptions{});
  ASSERT_TRUE(without.ok()) << without.error().message;
  EXPECT_EQ(read_all(without->html).find("id=\"lab\""), std::string::npos)
      << "no topology copy, no section";
  EXPECT_EQ(read_all(without->html).find("href=\"#lab\""), std::string::npos)
      << "no section, no link to it";
  fs::copy_file(kTopology, r / "topology.yaml");
  auto with = write_report(r, ReportOptions{});
  ASSERT_TRUE(with.ok());
  std::string html = read_all(with->html);
  size_t at = html.find("<h2 id=\"lab\">The lab</h2><div><svg");
  ASSERT_NE(at, std::string::npos);
  // Scaled to its column: no fixed width (Graphviz's is in pt, wider than the column for
  // the larger topologies), never above its own size.
  const std::string tag = html.substr(at, html.find('>', at + 30) - at);
  EXPECT_NE(tag.find("width=\"100%\" style=\"height:auto;max-width:"), std::string::npos) << tag;
  EXPECT_EQ(tag.find("height=\""), std::string::npos) << tag;
  // The scanner node runs every version's image: all are named, not the topology's one.
  std::string text = html.substr(at);
  for (size_t p; (p = text.find("&#45;")) != std::string::npos;) text.replace(p, 5, "-");
  EXPECT_NE(text.find("scanner-nmap-7.80"), std::string::npos);
  EXPECT_NE(text.find("scanner-nmap-7.93"), std::string::npos);
  size_t nav = html.find("<nav>"), nav_end = html.find("</nav>", nav);
  ASSERT_NE(nav_end, std::string::npos);
  EXPECT_NE(html.substr(nav, nav_end - nav).find("<a href=\"#lab\">The lab</a>"),
            std::string::npos)
      << "the navigation bar links to the section";
  EXPECT_NE(html.find("capture (every packet)", at), std::string::npos);
  EXPECT_EQ(html.find("<?xml"), std::string::npos) << "the SVG is inline, without its prolog";
}

}  // namespace
}  // namespace testbed::report
