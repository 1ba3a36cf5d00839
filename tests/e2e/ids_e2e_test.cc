// End to end with the IDS sensor (label e2e): `testbed run experiments/ci-ids.yaml` runs
// Suricata live on the router's scan-side device for both runs (testbed's rules from
// experiments/ids/ci-ids.rules + Suricata's event rules), collects ids/eve.json with the
// sensor's version, rule files and drops in the manifest, and the report's "Can an IDS tell
// them apart?" section, checked in headless Chromium.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/support/testbed_cli.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

const std::string kTestbed = std::string(TESTBED_BINARY_DIR) + "/testbed";

TEST(EndToEnd, CiIdsExperiment) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (libvirt LXC, capture)";
  auto out = util::TempDir::create("testbed-e2e-ids", "/var/tmp");
  ASSERT_TRUE(out.ok());
  auto r = util::run_process(
      {kTestbed, "run", std::string(TESTBED_SOURCE_DIR) + "/experiments/ci-ids.yaml", "--output",
       out->path().string()},
      {.on_stdout_line = [](const std::string& l) { fprintf(stderr, "%s\n", l.c_str()); }});
  ASSERT_TRUE(r.ok());
  fprintf(stderr, "%s\n", r->err.c_str());
  ASSERT_EQ(r->exit_code, 0);
  fs::path results = test_support::run_results_dir(out->path() / "ci-ids");
  ASSERT_FALSE(results.empty());

  uint64_t live_testbed_alerts = 0;
  for (const char* label : {"7.80", "7.95"}) {
    fs::path run = results / label / "1";
    SCOPED_TRACE(run.string());
    ASSERT_TRUE(fs::exists(run / "ids/eve.json"));
    EXPECT_TRUE(fs::exists(run / "ids/ci-ids.rules")) << "the rules the sensor ran with";
    auto m = nlohmann::json::parse(*util::read_file(run / "manifest.json"));
    const auto& ids = m["ids"];
    ASSERT_TRUE(ids.is_object());
    EXPECT_EQ(ids["suricata_version"].get<std::string>().rfind("7.", 0), 0u);
    EXPECT_EQ(ids["kernel_drops"], 0) << "the README claims no sensor drops";
    EXPECT_GT(ids["packets"].get<uint64_t>(), 1000u) << "the sensor saw the scan";
    EXPECT_GT(ids["alerts"].get<uint64_t>(), 0u);
    bool ours = false;
    for (const auto& f : ids["rule_files"]) {
      ours = ours || f["file"] == "ids/ci-ids.rules";
      EXPECT_EQ(f["sha256"].get<std::string>().size(), 64u);
    }
    EXPECT_TRUE(ours);
  }
  auto rep = nlohmann::json::parse(*util::read_file(results / "report.json"));
  const auto& sec = rep["sections"]["ids"];
  ASSERT_TRUE(sec.is_object()) << rep["sections"].dump();
  EXPECT_FALSE(sec.contains("error")) << sec.dump();
  EXPECT_EQ(sec["versions"], (nlohmann::json{"7.80", "7.95"}));
  ASSERT_EQ(sec["live"].size(), 2u);
  for (const auto& l : sec["live"]) {
    live_testbed_alerts += l["live_alerts"].get<uint64_t>();
    // Live and offline see the same frames at the same place: the same testbed alerts.
    EXPECT_EQ(l["live_alerts"], l["replay_alerts"]) << l.dump();
    EXPECT_EQ(l["drops"], 0);
  }
  EXPECT_GT(live_testbed_alerts, 0u) << "the committed rules fire live";
  // The matrix: each version's rules fire on its own run.
  EXPECT_EQ(sec["fired_runs"][0][0], 1);
  EXPECT_EQ(sec["fired_runs"][1][1], 1);

  auto dom = util::run_process({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                "--no-first-run", "--disable-background-networking",
                                "--user-data-dir=" + (out->path() / "profile").string(),
                                "--dump-dom", "file://" + (results / "report.html").string()});
  ASSERT_TRUE(dom.ok());
  EXPECT_NE(dom->out.find("Can an IDS tell them apart?</h2>"), std::string::npos);
  EXPECT_NE(dom->out.find("Live sensor"), std::string::npos);
  EXPECT_NE(dom->out.find("runs of 7.95 (1)"), std::string::npos);
}

}  // namespace
}  // namespace testbed
