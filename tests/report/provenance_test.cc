// Drift explained: two results directories whose manifests differ in one package of the
// scanner image; diff and report --baseline name that package beside the traffic drift,
// and a drift with identical provenance says so.
#include "orchestrator/report/provenance.h"

#include <gtest/gtest.h>

#include "orchestrator/report/report.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed::report {
namespace {

using namespace testing;

/// results with 7.80 and 7.93 (one run each); 7.80's scanner image lists packages, with
/// `nmap_common` as nmap-common's version; `extra_port` makes 7.80's traffic differ.
fs::path results(const fs::path& dir, const std::string& nmap_common, uint16_t extra_port = 0) {
  write_plan(dir, {"7.80", "7.93"}, 1);
  ScanSpec a{"7.80", 1};
  if (extra_port) a.extra_ports = {extra_port};
  write_run(dir, a);
  write_run(dir, {"7.93", 1});
  fs::path m = dir / "7.80" / "1" / "manifest.json";
  auto j = nlohmann::json::parse(read_all(m));
  j["images"]["scanner"]["packages"] = {
      {"nmap", "7.80+dfsg1-2"}, {"nmap-common", nmap_common}, {"libc6", "2.31-13+deb11u11"}};
  j["images"]["scanner"]["recipe"] = {{"sha256", "86abc17a"}};
  write_text(m, j.dump(2));
  return dir;
}

class ProvenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("provenance-test");
    ASSERT_TRUE(t.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    a_ = results(tmp_->path() / "unit" / "A", "7.80+dfsg1-2");
    b_ = results(tmp_->path() / "unit" / "B", "7.80+dfsg1-3", 7777);
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path a_, b_;
};

TEST_F(ProvenanceTest, OnePackageChangedIsTheOnlyChange) {
  auto a = load_results(a_), b = load_results(b_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(provenance_changes(*a, *b),
            std::vector<std::string>{"scanner image (7.80): nmap-common 7.80+dfsg1-2 → 7.80+dfsg1-3"});
  EXPECT_TRUE(provenance_changes(*a, *a).empty());
}

TEST_F(ProvenanceTest, DiffAndReportListIt) {
  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  ASSERT_TRUE(fs::exists(bin)) << bin << " is not built";
  auto d = util::run_process({bin.string(), "diff", a_.string(), b_.string()});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->exit_code, 3) << d->err;
  EXPECT_NE(d->out.find("Provenance changed (A → B):\n- scanner image (7.80): nmap-common "
                        "7.80+dfsg1-2 → 7.80+dfsg1-3\n"),
            std::string::npos)
      << d->out;
  EXPECT_NE(d->err.find("provenance changed: scanner image (7.80): nmap-common"), std::string::npos)
      << d->err;

  ReportOptions o;
  o.baseline = a_;
  auto r = write_report(b_, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto j = nlohmann::json::parse(read_all(r->json));
  EXPECT_EQ(j["baseline"]["provenance_changes"],
            nlohmann::json::array({"scanner image (7.80): nmap-common 7.80+dfsg1-2 → 7.80+dfsg1-3"}));
  EXPECT_NE(read_all(r->html).find("<li>scanner image (7.80): nmap-common 7.80+dfsg1-2 → "
                                   "7.80+dfsg1-3</li>"),
            std::string::npos);
}

TEST_F(ProvenanceTest, DriftWithIdenticalProvenanceIsFlagged) {
  fs::path same = results(tmp_->path() / "unit" / "C", "7.80+dfsg1-2", 7777);
  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  ASSERT_TRUE(fs::exists(bin));
  auto d = util::run_process({bin.string(), "diff", a_.string(), same.string()});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->exit_code, 3);
  EXPECT_NE(d->out.find("Provenance: identical"), std::string::npos) << d->out;
  EXPECT_NE(d->out.find("Result: drift beyond the noise floor with identical provenance"),
            std::string::npos)
      << d->out;
  EXPECT_NE(d->err.find("provenance identical"), std::string::npos) << d->err;
}

}  // namespace
}  // namespace testbed::report
