#include "orchestrator/util/files.h"

#include <gtest/gtest.h>

namespace testbed::util {
namespace {
namespace fs = std::filesystem;

TEST(Files, AtomicWriteReplacesWholeFile) {
  auto d = TempDir::create("testbed-files");
  ASSERT_TRUE(d.ok());
  fs::path p = d->path() / "m.json";
  ASSERT_TRUE(write_file_atomic(p, "first").ok());
  ASSERT_TRUE(write_file_atomic(p, "second", 0600).ok());
  EXPECT_EQ(*read_file(p), "second");
  EXPECT_EQ(fs::status(p).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  // No temporary files remain beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(d->path()), fs::directory_iterator()), 1);
}

TEST(Files, AtomicWriteFailsInMissingDir) {
  auto r = write_file_atomic("/nonexistent-dir-testbed/x", "data");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/nonexistent-dir-testbed"), std::string::npos);
}

TEST(Files, TempDirRemovedOnDestruction) {
  fs::path p;
  {
    auto d = TempDir::create("testbed-tmp");
    ASSERT_TRUE(d.ok());
    p = d->path();
    write_file_atomic(p / "f", "x").ok();
    EXPECT_TRUE(fs::exists(p / "f"));
  }
  EXPECT_FALSE(fs::exists(p));
}

TEST(Files, PathInsideRefusesEscapes) {
  EXPECT_TRUE(path_inside("/base", "a/b.txt").ok());
  EXPECT_EQ(*path_inside("/base", "a/../b.txt"), fs::path("/base/b.txt"));
  EXPECT_FALSE(path_inside("/base", "../etc/passwd").ok());
  EXPECT_FALSE(path_inside("/base", "/etc/passwd").ok());
  EXPECT_FALSE(path_inside("/base", "a/../../x").ok());
  EXPECT_FALSE(path_inside("/base", "").ok());
}

}  // namespace
}  // namespace testbed::util
