// The JUnit verdict: valid against tests/nightly/junit.xsd (xmllint --schema), a failure
// case with the numbers for drift beyond the noise floor, errors for failed runs and for
// versions with no run to compare; the same through run/report/diff --junit.
#include "orchestrator/nightly/junit.h"

#include <gtest/gtest.h>

#include "orchestrator/nightly/pointers.h"
#include "orchestrator/report/report.h"
#include "tests/nightly/fixtures.h"

namespace testbed::nightly {
namespace {

using namespace testing;

const fs::path kSchema = fs::path(TESTBED_SOURCE_DIR) / "tests/nightly/junit.xsd";

/// xmllint's verdict on `file` against the committed schema ("" when valid).
std::string schema_errors(const fs::path& file) {
  auto r = util::run_process({"xmllint", "--noout", "--schema", kSchema.string(), file.string()});
  if (!r) return "xmllint: " + r.error().message;
  return r->exit_code == 0 ? "" : r->err;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

class JunitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!util::have_program("xmllint")) GTEST_SKIP() << "xmllint not installed (libxml2-utils)";
    auto t = util::TempDir::create("junit-test");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    exp_ = tmp_->path() / "unit";
    base_ = complete_results(exp_, "20261101T020000Z", 2);
    // 7.80 scans one more port in both runs: beyond its port-scan noise floor (0).
    drifted_ = complete_results(exp_, "20261102T020000Z", 2, {7777});
  }
  std::string junit_of(const Verdict& v) {
    fs::path f = tmp_->path() / "junit.xml";
    EXPECT_TRUE(write_junit(f, v).ok());
    EXPECT_EQ(schema_errors(f), "");
    return read_all(f);
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path exp_, base_, drifted_;
};

TEST_F(JunitTest, TheSchemaRejectsWhatIsNotJunit) {
  fs::path f = tmp_->path() / "bad.xml";
  write_text(f, "<testsuites><testsuite tests=\"1\"><testcase/></testsuite></testsuites>");
  EXPECT_NE(schema_errors(f), "") << "no suite name, no case name: must not validate";
}

TEST_F(JunitTest, NoBaselineEveryCaseOfACompleteRunPasses) {
  auto v = verdict_from_results_dir(base_);
  ASSERT_TRUE(v.ok()) << v.error().message;
  std::string x = junit_of(*v);
  // 2 versions x (horizontal, strobe, services, other) + a "runs" case each.
  EXPECT_NE(x.find("<testsuite name=\"unit\" tests=\"10\" failures=\"0\" errors=\"0\""),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<testcase classname=\"unit.7.93\" name=\"strobe\"/>"), std::string::npos) << x;
}

TEST_F(JunitTest, DriftIsAFailureWithTheNumbers) {
  report::ReportOptions o;
  o.baseline = base_;
  auto r = report::write_report(drifted_, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->drift);
  auto v = verdict_from_results_dir(drifted_);
  ASSERT_TRUE(v.ok());
  std::string x = junit_of(*v);
  EXPECT_EQ(count(x, "<failure "), 1u) << x;
  EXPECT_NE(x.find("<testcase classname=\"unit.7.80\" name=\"strobe\">\n      <failure "
                   "message=\"drift beyond the noise floor: 1 unique packets between the "
                   "baseline and this run (baseline only 0, this run only 1); noise floor 0, "
                   "tolerance 0, threshold 0; provenance identical (the drift is not a change "
                   "of software)\" type=\"drift\">"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<property name=\"baseline\""), std::string::npos);
}

TEST_F(JunitTest, FailedRunsAndMissingVersionsAreErrors) {
  fs::path night = complete_results(exp_, "20261103T020000Z", 1);
  interrupt_run(night, "7.93");
  report::ReportOptions o;
  o.baseline = base_;
  auto r = report::write_report(night, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto v = verdict_from_results_dir(night);
  ASSERT_TRUE(v.ok());
  std::string x = junit_of(*v);
  // 7.93: its four phase cases and its runs case are errors; 7.80 passes.
  EXPECT_EQ(count(x, "<error "), 5u) << x;
  EXPECT_EQ(count(x, "<failure "), 0u) << x;
  EXPECT_NE(x.find("no complete run in this results directory to compare with the baseline: "
                   "7.93/1 interrupted at scan: interrupted"),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("name=\"runs\">\n      <error message=\"not every run is complete: 7.93/1 "
                   "interrupted at scan"),
            std::string::npos)
      << x;
  // --allow-missing: the phase cases are skipped, the runs case stays an error.
  o.allow_missing = true;
  ASSERT_TRUE(report::write_report(night, o).ok());
  std::string allowed = junit_of(*verdict_from_results_dir(night));
  EXPECT_EQ(count(allowed, "<skipped "), 4u) << allowed;
  EXPECT_EQ(count(allowed, "<error "), 1u) << allowed;
}

TEST_F(JunitTest, ControlCharactersAndMarkupStayValidXml) {
  Verdict v;
  v.suite = "unit<&>";
  v.versions = {"7.80"};
  v.phases = {"strobe"};
  v.runs = {{"7.80", 1, "failed", "scan", "nmap said \x01\x1b[31m<b>\"boom\"</b> & \xff"}};
  std::string x = junit_of(v);
  EXPECT_NE(x.find("&lt;b&gt;&quot;boom&quot;&lt;/b&gt; &amp;"), std::string::npos) << x;
}

// report --baseline, diff and the pointer names through the CLI; the exit codes are the
// documented ones (3 on drift), with the JUnit file written beside.
TEST_F(JunitTest, ReportAndDiffCommandsWriteIt) {
  ASSERT_TRUE(fs::exists(kTestbed)) << kTestbed << " is not built";
  ASSERT_TRUE(update_pointers(base_, false).ok());
  fs::path rj = tmp_->path() / "report-junit.xml";
  auto rep = util::run_process({kTestbed.string(), "report", drifted_.string(), "--baseline",
                                "latest-good", "--junit", rj.string()});
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->exit_code, 3) << rep->err;
  EXPECT_NE(rep->err.find(fs::canonical(base_).string()), std::string::npos)
      << "latest-good named by its directory: " << rep->err;
  EXPECT_EQ(schema_errors(rj), "");
  EXPECT_EQ(count(read_all(rj), "<failure "), 1u);

  fs::path dj = tmp_->path() / "diff-junit.xml";
  auto diff = util::run_process(
      {kTestbed.string(), "diff", "latest-good", drifted_.string(), "--junit", dj.string()});
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(diff->exit_code, 3) << diff->err;
  EXPECT_EQ(schema_errors(dj), "");
  EXPECT_EQ(count(read_all(dj), "<failure "), 1u) << read_all(dj);

  auto same = util::run_process(
      {kTestbed.string(), "diff", base_.string(), "latest-good", "--junit", dj.string()});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->exit_code, 0) << same->err;
  EXPECT_EQ(count(read_all(dj), "<failure "), 0u);

  fs::remove(exp_ / "latest");
  auto missing = util::run_process(
      {kTestbed.string(), "report", base_.string(), "--baseline", "latest"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->exit_code, 2) << "no `latest` pointer yet";
  EXPECT_NE(missing->err.find("does not exist yet"), std::string::npos) << missing->err;
}

}  // namespace
}  // namespace testbed::nightly
