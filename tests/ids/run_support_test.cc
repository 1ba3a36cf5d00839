// `testbed signatures` on too few repetitions: a version with fewer than 3 runs is named and
// the rules that rest on one run only are counted (issue 27 item 6). No Suricata needed.
#include <gtest/gtest.h>

#include <memory>

#include "orchestrator/ids/signatures.h"
#include "orchestrator/util/files.h"
#include "tests/report/results_builder.h"

namespace testbed::ids {
namespace {

using namespace report::testing;

report::AnalysedResults analysed(const fs::path& dir) {
  auto loaded = report::load_results(dir);
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  const auto opts = loaded->options;
  return report::analyse_results(std::move(*loaded), opts,
                                 std::make_shared<analysis::PayloadStore>());
}

fs::path results(const fs::path& root, int reps) {
  fs::path r = root / std::to_string(reps);
  write_plan(r, {"7.80", "7.93"}, reps);
  for (int rep = 1; rep <= reps; ++rep) {
    write_run(r, {"7.80", rep});
    ScanSpec s{"7.93", rep};
    s.extra_ports = {31337, 8888};
    write_run(r, s);
  }
  return r;
}

TEST(RunSupport, OneRunPerVersionIsWarnedAndItsRulesCounted) {
  auto t = util::TempDir::create("ids-run-support");
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto data = analysed(results(t->path(), 1));
  auto rules = generate_rules(data);
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  ASSERT_EQ(rules->size(), 2u);  // 7.93's two extra SYNs
  RunSupport s = run_support(data, *rules);
  EXPECT_EQ(s.few_runs, (std::vector<std::string>{"7.80", "7.93"}));
  EXPECT_EQ(s.one_run_rules, 2u);
  auto w = s.warnings(rules->size());
  ASSERT_EQ(w.size(), 3u);
  EXPECT_NE(w[0].find("version 7.80 has 1 complete run (fewer than 3)"), std::string::npos) << w[0];
  EXPECT_NE(w[1].find("version 7.93 has 1 complete run"), std::string::npos) << w[1];
  EXPECT_EQ(w[2], "2 of the 2 rules rest on one run only");
}

TEST(RunSupport, TwoRunsAreWarnedButNoRuleRestsOnOneRun) {
  auto t = util::TempDir::create("ids-run-support");
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto data = analysed(results(t->path(), 2));
  auto rules = generate_rules(data);
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  RunSupport s = run_support(data, *rules);
  EXPECT_EQ(s.one_run_rules, 0u);
  auto w = s.warnings(rules->size());
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("has 2 complete runs (fewer than 3)"), std::string::npos) << w[0];
}

TEST(RunSupport, ThreeRunsAreEnough) {
  auto t = util::TempDir::create("ids-run-support");
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto data = analysed(results(t->path(), 3));
  auto rules = generate_rules(data);
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  EXPECT_EQ(rules->size(), 2u);
  EXPECT_TRUE(run_support(data, *rules).warnings(rules->size()).empty());
}

}  // namespace
}  // namespace testbed::ids
