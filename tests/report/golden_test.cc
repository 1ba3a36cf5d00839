// Every report file, byte for byte, against tests/report/golden/ (TESTBED_REGENERATE=1
// rewrites them): a results directory built here (results_builder.h) whose runs include
// manifests written by a real `testbed run` of the schema before schema_version
// (tests/results/fixtures/), a failed and an incomplete run, and a baseline with drift.
// Only the generation time and the temporary directory are masked.
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

#include "orchestrator/report/report.h"
#include "orchestrator/util/files.h"
#include "tests/report/results_builder.h"

namespace testbed::report {
namespace {

using namespace testing;

fs::path golden_dir() { return fs::path(TESTBED_SOURCE_DIR) / "tests/report/golden"; }
fs::path fixture(const char* name) {
  return fs::path(TESTBED_SOURCE_DIR) / "tests/results/fixtures" / name;
}

void expect_golden(const std::string& name, const std::string& actual) {
  fs::path path = golden_dir() / name;
  const char* regen = std::getenv("TESTBED_REGENERATE");
  if (regen && std::string(regen) == "1") {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(path)) << "missing golden file " << path
                                << " (run with TESTBED_REGENERATE=1)";
  EXPECT_TRUE(read_all(path) == actual)
      << "golden file " << path << " differs; TESTBED_REGENERATE=1 rewrites it";
}

/// The report's text with the temporary directory and the generation time masked.
std::string masked(std::string text, const fs::path& tmp) {
  for (size_t p; (p = text.find(tmp.string())) != std::string::npos;)
    text.replace(p, tmp.string().size(), "<TMP>");
  static const std::regex when(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)");
  return std::regex_replace(text, when, "<GENERATED>");
}

fs::path build(const fs::path& root, const std::string& name, bool changed) {
  fs::path r = root / name;
  write_report_fixture(r, "<b>x</b>",
                       changed ? std::vector<uint16_t>{7777} : std::vector<uint16_t>{});
  // Manifests as a real `testbed run` wrote them before schema_version (LXC and TCG).
  fs::copy_file(fixture("manifest-v0-lxc.json"), r / "7.80/1/manifest.json",
                fs::copy_options::overwrite_existing);
  fs::copy_file(fixture("manifest-v0-vm.json"), r / "7.93/2/manifest.json",
                fs::copy_options::overwrite_existing);
  write_text(r / "7.95/1/failure.json",
             R"({"status":"failed","stage":"scan","error":"nmap exited with status 1"})");
  write_text(r / "7.95/2/nmap.log", "1700000000.0 Starting Nmap\n");
  return r;
}

void expect_report_golden(const fs::path& dir, const fs::path& tmp, const std::string& prefix) {
  std::vector<std::string> files = {"report.md", "report.json", "report.html"};
  for (const auto& e : fs::directory_iterator(dir / "csv"))
    files.push_back("csv/" + e.path().filename().string());
  EXPECT_GE(files.size(), 10u);
  for (const std::string& f : files) {
    ASSERT_TRUE(fs::exists(dir / f)) << f << " not written";
    expect_golden(prefix + "/" + f, masked(read_all(dir / f), tmp));
  }
}

TEST(ReportGolden, ReportFilesAreByteIdentical) {
  auto t = util::TempDir::create("report-golden");
  ASSERT_TRUE(t.ok()) << t.error().message;
  fs::path base = build(t->path(), "base", false);
  auto out = write_report(base, ReportOptions{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  expect_report_golden(base, t->path(), "plain");

  fs::path night = build(t->path(), "night", true);
  ReportOptions o;
  o.baseline = base;
  auto drift = write_report(night, o);
  ASSERT_TRUE(drift.ok()) << drift.error().message;
  EXPECT_TRUE(drift->drift);
  ASSERT_TRUE(fs::exists(night / "csv/drift.csv"));
  expect_report_golden(night, t->path(), "baseline");
}

}  // namespace
}  // namespace testbed::report
