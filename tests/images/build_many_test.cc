// backends::build_many without building anything: what it refuses before any build (bad
// input), what it finds already cached (no root needed then), and the backend kind.
#include "orchestrator/backends/build_many.h"

#include <gtest/gtest.h>

#include "orchestrator/config/backend.h"
#include "orchestrator/util/files.h"

namespace testbed::images {
using backends::BuildManyOptions;
using backends::BuildManyResult;
using backends::build_many;
using backends::default_recipe_dir;
using backends::human_size;
namespace {
namespace fs = std::filesystem;

fs::path recipes() { return fs::path(TESTBED_SOURCE_DIR) / "images"; }

TEST(BackendKind, NamesAndTheOlderSpelling) {
  using config::BackendKind;
  EXPECT_EQ(config::parse_backend_kind("lxc"), BackendKind::kLxc);
  EXPECT_EQ(config::parse_backend_kind("vm"), BackendKind::kVm);
  EXPECT_EQ(config::parse_backend_kind("kvm"), BackendKind::kVm);
  EXPECT_FALSE(config::parse_backend_kind("qemu"));
  EXPECT_FALSE(config::parse_backend_kind(""));
  EXPECT_STREQ(config::backend_name(BackendKind::kVm), "vm");
  EXPECT_STREQ(config::backend_name(BackendKind::kLxc), "lxc");
  EXPECT_EQ(config::normalise_backend("kvm"), "vm");
  EXPECT_EQ(config::normalise_backend("xen"), "xen");
}

TEST(BuildMany, RefusesBadInputBeforeBuilding) {
  auto t = util::TempDir::create("build-many");
  ASSERT_TRUE(t.ok());
  BuildManyOptions o;
  o.recipe_dir = recipes();
  o.cache_root = t->path() / "cache";
  // Neither names nor --all, and both.
  EXPECT_EQ(build_many(o).status, BuildManyResult::kBadInput);
  o.all = true;
  o.names = {"router"};
  EXPECT_EQ(build_many(o).status, BuildManyResult::kBadInput);
  // An unknown recipe.
  o.all = false;
  o.names = {"no-such-image"};
  EXPECT_EQ(build_many(o).status, BuildManyResult::kBadInput);
  // --all over a recipe directory with no recipe of the backend.
  fs::create_directories(t->path() / "empty");
  o.recipe_dir = t->path() / "empty";
  o.names.clear();
  o.all = true;
  o.backend = config::BackendKind::kVm;
  auto r = build_many(o);
  EXPECT_EQ(r.status, BuildManyResult::kBadInput);
  EXPECT_TRUE(r.outcomes.empty());
  EXPECT_FALSE(fs::exists(t->path() / "cache"));  // nothing was created
}

TEST(BuildMany, DefaultRecipeDirFromTheRepository) {
  std::error_code ec;
  fs::path old = fs::current_path();
  fs::current_path(TESTBED_SOURCE_DIR);
  fs::path d = default_recipe_dir();
  fs::current_path(old);
  EXPECT_TRUE(fs::is_regular_file(d / "router.yaml", ec)) << d;
  EXPECT_EQ(human_size(3u << 20), "3 MiB");
  EXPECT_EQ(human_size(uint64_t(3) << 30), "3.0 GiB");
}

}  // namespace
}  // namespace testbed::images
