// Retention: the N newest complete results directories stay, and so do latest-good's,
// latest's, the baseline, incomplete ones and anything that is not a results directory.
#include "orchestrator/nightly/prune.h"

#include <gtest/gtest.h>

#include <map>

#include "orchestrator/nightly/pointers.h"
#include "tests/nightly/fixtures.h"

namespace testbed::nightly {
namespace {

using namespace testing;

class PruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("prune-test");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    exp_ = tmp_->path() / "unit";
    // Night 1: good (latest-good stays here); 2: the baseline given by hand; 3: interrupted;
    // 4, 5: complete; 6: drifted (latest only); 7: complete but its report compared with 5.
    for (int night = 1; night <= 7; ++night) {
      fs::path d = complete_results(exp_, name(night));
      if (night == 3) interrupt_run(d, "7.80");
      if (night == 1) ASSERT_TRUE(update_pointers(d, false).ok());
    }
    ASSERT_TRUE(set_pointer(exp_, "latest", name(6)).ok());
    write_text(exp_ / name(7) / "report.json",
               nlohmann::json{{"baseline", {{"dir", (exp_ / name(5)).string()}}}}.dump());
    fs::create_directories(exp_ / "notes");  // not a results directory
  }
  static std::string name(int night) { return "2026110" + std::to_string(night) + "T020000Z"; }
  std::map<std::string, PruneEntry> plan(size_t keep, std::vector<fs::path> baselines = {}) {
    auto p = plan_prune(exp_, keep, baselines);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    std::map<std::string, PruneEntry> m;
    if (p.ok())
      for (auto& e : *p) m[e.dir.filename().string()] = e;
    return m;
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path exp_;
};

TEST_F(PruneTest, KeepsWhatMustStayAndSaysWhy) {
  auto m = plan(1, {exp_ / name(2)});
  ASSERT_EQ(m.size(), 8u) << "seven results directories and notes/, no pointer";
  auto kept = [&](int night, const std::string& why) {
    const auto& e = m[name(night)];
    EXPECT_FALSE(e.remove) << name(night);
    EXPECT_NE(e.reason.find(why), std::string::npos) << name(night) << ": " << e.reason;
  };
  kept(7, "one of the 1 newest complete");
  kept(6, "latest points here");
  kept(5, "the baseline of " + name(7));
  kept(3, "incomplete (7.80/1 interrupted at scan");
  kept(3, "--resume");
  kept(2, "the baseline (--baseline)");
  kept(1, "latest-good points here");
  EXPECT_TRUE(m[name(4)].remove) << m[name(4)].reason;
  EXPECT_FALSE(m["notes"].remove);
  EXPECT_NE(m["notes"].reason.find("not a results directory"), std::string::npos);

  ASSERT_TRUE(apply_prune(*plan_prune(exp_, 1, {exp_ / name(2)})).ok());
  EXPECT_FALSE(fs::exists(exp_ / name(4)));
  for (int night : {1, 2, 3, 5, 6, 7}) EXPECT_TRUE(fs::exists(exp_ / name(night))) << night;
  EXPECT_TRUE(pointer_target(exp_, "latest-good").has_value()) << "the pointer survives";
}

TEST_F(PruneTest, WithoutTheBaselineArgumentItsNightGoes) {
  auto m = plan(2);
  EXPECT_FALSE(m[name(7)].remove);
  EXPECT_FALSE(m[name(6)].remove);
  EXPECT_TRUE(m[name(2)].remove);
  EXPECT_TRUE(m[name(4)].remove);
  EXPECT_FALSE(m[name(1)].remove);
}

TEST_F(PruneTest, RefusesAResultsDirectoryOrKeepZero) {
  auto p = plan_prune(exp_ / name(7), 3, {});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("is a results directory"), std::string::npos);
  EXPECT_FALSE(plan_prune(exp_, 0, {}).ok());
}

// The verb: --dry-run lists and removes nothing; without it the listed ones go.
TEST_F(PruneTest, PruneCommand) {
  ASSERT_TRUE(fs::exists(kTestbed)) << kTestbed << " is not built";
  auto dry = util::run_process(
      {kTestbed.string(), "prune", exp_.string(), "--keep", "2", "--dry-run"});
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->exit_code, 0) << dry->err;
  EXPECT_NE(dry->out.find("would remove " + (exp_ / name(4)).string()), std::string::npos)
      << dry->out;
  EXPECT_NE(dry->out.find("keep " + (exp_ / name(1)).string() + ": latest-good points here"),
            std::string::npos)
      << dry->out;
  EXPECT_TRUE(fs::exists(exp_ / name(4)));
  auto real = util::run_process({kTestbed.string(), "prune", exp_.string(), "--keep", "2"});
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(real->exit_code, 0) << real->err;
  EXPECT_FALSE(fs::exists(exp_ / name(4)));
  EXPECT_FALSE(fs::exists(exp_ / name(2)));
  EXPECT_TRUE(fs::exists(exp_ / name(3)));
  auto bad = util::run_process({kTestbed.string(), "prune", (exp_ / name(7)).string(), "--keep", "1"});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->exit_code, 2) << bad->err;
}

}  // namespace
}  // namespace testbed::nightly
