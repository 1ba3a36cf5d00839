// `testbed analyze` on run captures (issue 19 item 6): labels from run directories, the
// phases.json beside a capture used and said, no empty sections for a single capture.
// Runs the built binary on a results directory the test writes (tests/report/results_builder.h).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed {
namespace {

namespace fs = std::filesystem;
using namespace report::testing;

class AnalyzeInputs : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("cli-analyze");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    results_ = tmp_->path() / "nmap7" / "20261126T000000Z";
    write_plan(results_, {"7.80", "7.93"}, 1);
    write_run(results_, {"7.80", 1});
    ScanSpec b{"7.93", 1};
    b.extra_ports = {8888};
    write_run(results_, b);
  }
  util::ProcessResult analyze(std::vector<std::string> args) {
    args.insert(args.begin(), {(fs::path(TESTBED_BINARY_DIR) / "testbed").string(), "analyze"});
    auto r = util::run_process(args);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : util::ProcessResult{};
  }
  std::string cap(const std::string& run) { return (results_ / run / "capture.pcap").string(); }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path results_;
};

std::string section(const std::string& md, const std::string& heading) {
  size_t a = md.find(heading);
  if (a == std::string::npos) return "";
  size_t b = md.find("\n## ", a + heading.size());
  return md.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

// Was: `label "capture" is used twice`.
TEST_F(AnalyzeInputs, RunCapturesAreLabelledByTheirRun) {
  auto r = analyze({cap("7.80/1"), cap("7.93/1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("|  | 7.80/1 | 7.93/1 |"), std::string::npos) << r.out;
  // The 7.93 run's extra port is a unique packet of the port scan.
  EXPECT_NE(r.out.find("| strobe | 0 | 1 |"), std::string::npos) << r.out;
}

// Was: a bare capture ignored the phases.json beside it and fell back to the packet
// classifier, so its phase counts differed from the run directory's.
TEST_F(AnalyzeInputs, PhasesJsonBesideACaptureIsUsedAndSaid) {
  auto bare = analyze({cap("7.80/1")});
  ASSERT_EQ(bare.exit_code, 0) << bare.err;
  EXPECT_NE(bare.err.find("7.80/1: using phases.json"), std::string::npos) << bare.err;
  EXPECT_NE(bare.out.find("Phase source: 7.80/1 = timeline"), std::string::npos) << bare.out;
  auto dir = analyze({(results_ / "7.80" / "1").string()});
  ASSERT_EQ(dir.exit_code, 0) << dir.err;
  EXPECT_EQ(bare.out, dir.out) << "a run's capture and its run directory analyse alike";

  // Copied away from its phases.json, the capture is classified by packet shape.
  fs::path alone = tmp_->path() / "alone";
  fs::create_directories(alone);
  fs::copy_file(cap("7.80/1"), alone / "scan.pcap");
  auto lone = analyze({(alone / "scan.pcap").string()});
  ASSERT_EQ(lone.exit_code, 0) << lone.err;
  EXPECT_NE(lone.out.find("Phase source: scan = classifier"), std::string::npos) << lone.out;
  EXPECT_EQ(lone.err.find("using phases.json"), std::string::npos) << lone.err;

  // Two captures in one directory: a phases.json there belongs to neither for sure.
  fs::copy_file(cap("7.80/1"), alone / "other.pcap");
  fs::copy_file(results_ / "7.80" / "1" / "phases.json", alone / "phases.json");
  auto two = analyze({(alone / "scan.pcap").string()});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_NE(two.out.find("Phase source: scan = classifier"), std::string::npos) << two.out;
  fs::remove(alone / "other.pcap");
  auto own = analyze({(alone / "scan.pcap").string()});
  EXPECT_NE(own.out.find("Phase source: scan = timeline"), std::string::npos) << own.out;
}

TEST_F(AnalyzeInputs, OneCapturePrintsNoEmptySections) {
  auto r = analyze({cap("7.80/1")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* h : {"## Unique packets", "## Table 2", "## Similarity exclusion"})
    EXPECT_EQ(r.out.find(h), std::string::npos) << h << "\n" << r.out;
  EXPECT_NE(r.out.find("One capture: Table 2"), std::string::npos) << r.out;
  // Every heading printed has content before the next one.
  for (size_t at = r.out.find("## "); at != std::string::npos; at = r.out.find("\n## ", at + 1)) {
    size_t eol = r.out.find('\n', at + 1);
    size_t next = r.out.find("\n## ", at + 1);
    std::string body =
        r.out.substr(eol, next == std::string::npos ? std::string::npos : next - eol);
    EXPECT_NE(body.find_first_not_of("\n "), std::string::npos)
        << "empty section at: " << r.out.substr(at, eol - at);
  }
}

TEST_F(AnalyzeInputs, TwoCapturesWithNothingUniqueSayNone) {
  // The same run in two results directories: labels told apart by the directory above.
  fs::path other = tmp_->path() / "nmap7" / "20261127T000000Z";
  write_plan(other, {"7.80"}, 1);
  write_run(other, {"7.80", 1});
  auto r = analyze({cap("7.80/1"), (other / "7.80" / "1" / "capture.pcap").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("|  | 20261126T000000Z/7.80/1 | 20261127T000000Z/7.80/1 |"),
            std::string::npos)
      << r.out;
  std::string unique = section(r.out, "## Unique packets");
  ASSERT_FALSE(unique.empty()) << r.out;
  EXPECT_NE(unique.find("None:"), std::string::npos) << unique;
}

}  // namespace
}  // namespace testbed
