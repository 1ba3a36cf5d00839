// latest / latest-good: moved only by complete results directories, atomically.
#include "orchestrator/nightly/pointers.h"

#include <gtest/gtest.h>

#include "tests/nightly/fixtures.h"

namespace testbed::nightly {
namespace {

using namespace testing;

class PointersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("pointers-test");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    exp_ = tmp_->path() / "unit";
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path exp_;
};

TEST_F(PointersTest, CompleteRunWithoutDriftMovesBoth) {
  fs::path a = complete_results(exp_, "20261101T020000Z");
  auto u = update_pointers(a, /*drift=*/false);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_TRUE(u->latest);
  EXPECT_TRUE(u->latest_good);
  // Relative targets: the results root can move.
  EXPECT_EQ(link_of(exp_, "latest"), "20261101T020000Z");
  EXPECT_EQ(link_of(exp_, "latest-good"), "20261101T020000Z");
  EXPECT_EQ(pointer_target(exp_, "latest-good"), fs::canonical(a));
  // Nothing left behind by the symlink-and-rename.
  size_t entries = 0;
  for (auto& e : fs::directory_iterator(exp_)) entries += !e.path().filename().string().empty();
  EXPECT_EQ(entries, 3u) << "the directory and two pointers, no temporary link";
}

TEST_F(PointersTest, DriftMovesOnlyLatest) {
  fs::path a = complete_results(exp_, "20261101T020000Z");
  ASSERT_TRUE(update_pointers(a, false).ok());
  fs::path b = complete_results(exp_, "20261102T020000Z");
  auto u = update_pointers(b, /*drift=*/true);
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->latest);
  EXPECT_FALSE(u->latest_good);
  EXPECT_NE(u->why_not.find("drift"), std::string::npos);
  EXPECT_EQ(link_of(exp_, "latest"), "20261102T020000Z");
  EXPECT_EQ(link_of(exp_, "latest-good"), "20261101T020000Z");
}

// An interrupted run (failure.json, no manifest) and a run still being written (neither)
// are never pointed at, whatever drift says.
TEST_F(PointersTest, IncompleteRunsAreNeverPointedAt) {
  fs::path a = complete_results(exp_, "20261101T020000Z");
  ASSERT_TRUE(update_pointers(a, false).ok());
  fs::path interrupted = complete_results(exp_, "20261102T020000Z");
  interrupt_run(interrupted, "7.93");
  auto u = update_pointers(interrupted, false);
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->latest);
  EXPECT_FALSE(u->latest_good);
  EXPECT_NE(u->why_not.find("7.93/1 interrupted at scan"), std::string::npos) << u->why_not;
  fs::path running = complete_results(exp_, "20261103T020000Z");
  fs::remove(running / "7.80" / "1" / "manifest.json");
  ASSERT_TRUE(update_pointers(running, false).ok());
  EXPECT_EQ(link_of(exp_, "latest"), "20261101T020000Z");
  EXPECT_EQ(link_of(exp_, "latest-good"), "20261101T020000Z");
  // A planned run that never started (no directory) is not complete either.
  fs::path partial = exp_ / "20261104T020000Z";
  write_plan(partial, {"7.80", "7.93"}, 1);
  write_run(partial, {"7.80", 1});
  auto p = update_pointers(partial, false);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->latest);
  EXPECT_NE(p->why_not.find("7.93/1 missing"), std::string::npos) << p->why_not;
}

TEST_F(PointersTest, BaselineNamesResolveToTheirTargets) {
  fs::path a = complete_results(exp_, "20261101T020000Z");
  auto none = resolve_baseline("latest-good", exp_);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("does not exist yet"), std::string::npos);
  ASSERT_TRUE(update_pointers(a, false).ok());
  auto b = resolve_baseline("latest-good", exp_);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, fs::canonical(a));
  auto plain = resolve_baseline("/some/dir", exp_);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, fs::path("/some/dir"));
  EXPECT_EQ(experiment_dir_of(a.string() + "/"), fs::canonical(exp_));
  EXPECT_EQ(experiment_dir_of(exp_ / "latest"), fs::canonical(exp_));
}

}  // namespace
}  // namespace testbed::nightly
