// ZMap 2.1.1's known abort (constraint_lookup_index assertion, upstream zmap#310) must not
// fail a night (issue 27 item 8; docs/method.md "Scanner crashes"). On the real lab (label
// e2e): the ZMap scan of experiments/scanners.yaml — its very command, `-T 1` included —
// 20 times (`--repeat 20`, targets not reset between runs: the scan only reads them).
// Every run must complete (0 aborts left); a run the retry policy saved is reported with
// its reason, and its manifest says so.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "orchestrator/config/experiment.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/support/testbed_cli.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

const std::string kTestbed = std::string(TESTBED_BINARY_DIR) + "/testbed";
const fs::path kSource = TESTBED_SOURCE_DIR;

TEST(EndToEnd, ZmapScanOfScannersYamlTwentyTimesWithoutAbort) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (libvirt LXC, capture)";
  auto exp = config::load_experiment((kSource / "experiments/scanners.yaml").string());
  ASSERT_TRUE(exp.ok()) << exp.error().message;
  const config::ScannerSpec* zmap = nullptr;
  for (const auto& s : exp->scanners)
    if (s.label == "zmap") zmap = &s;
  ASSERT_NE(zmap, nullptr);
  // The lab's ZMap command avoids the several-send-threads path to the abort.
  auto t = std::find(zmap->command.begin(), zmap->command.end(), "-T");
  ASSERT_NE(t, zmap->command.end());
  EXPECT_EQ(*(t + 1), "1");

  auto out = util::TempDir::create("testbed-e2e-zmap20", "/var/tmp");
  ASSERT_TRUE(out.ok());
  // scanners.yaml with its ZMap entry alone; the rest as the file says.
  nlohmann::json yaml = {
      {"name", "zmap-repeat"},
      {"topology", (kSource / "topology/two-subnet.yaml").string()},
      {"backend", "lxc"},
      {"scanners", {{{"label", zmap->label}, {"image", zmap->image}, {"command", zmap->command}}}},
      {"repetitions", 1},
      {"reset_targets", "never"},
      {"retries", exp->retries},
      {"scan_timeout_minutes", exp->scan_timeout_minutes},
      {"capture", {{"snaplen", 262144}, {"buffer_mib", 64}, {"grace_seconds", 1}}},
      {"output", out->path().string()}};
  fs::path file = out->path() / "zmap-repeat.yaml";
  ASSERT_TRUE(util::write_file_atomic(file, yaml.dump(2) + "\n").ok());  // JSON is YAML
  auto r = util::run_process({kTestbed, "run", file.string(), "--repeat", "20"},
                             {.on_stdout_line = [](const std::string& l) {
                               fprintf(stderr, "%s\n", l.c_str());
                             }});
  ASSERT_TRUE(r.ok());
  fprintf(stderr, "%s\n", r->err.c_str());
  EXPECT_EQ(r->exit_code, 0);

  fs::path results = test_support::run_results_dir(out->path() / "zmap-repeat");
  ASSERT_FALSE(results.empty());
  int complete = 0, retried = 0;
  for (int rep = 1; rep <= 20; ++rep) {
    fs::path run = results / "zmap" / std::to_string(rep);
    SCOPED_TRACE(run.string());
    auto failure = util::read_file(run / "failure.json");
    ASSERT_TRUE(fs::exists(run / "manifest.json")) << "run aborted: " << (failure ? *failure : "");
    auto m = nlohmann::json::parse(*util::read_file(run / "manifest.json"));
    ++complete;
    EXPECT_EQ(m["scan"]["exit_status"], 0);
    EXPECT_NE(m["scanner_command"].dump().find("\"-T\",\"1\""), std::string::npos);
    if (m.contains("retries")) {
      ++retried;
      for (const auto& x : m["retries"]) {
        fprintf(stderr, "retried: %s\n", x.dump().c_str());
        EXPECT_NE(x["reason"].get<std::string>().find("killed by signal"), std::string::npos);
      }
    }
  }
  EXPECT_EQ(complete, 20);
  fprintf(stderr, "zmap runs: %d complete, %d retried, 0 aborted\n", complete, retried);
}

}  // namespace
}  // namespace testbed
