// The image cache with a fake builder: keys, publication, failures leaving nothing,
// manifests, find_image, list and rm. No root, no network.
#include "orchestrator/images/cache.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "orchestrator/images/build.h"
#include "orchestrator/backends/lxc/builder.h"
#include "orchestrator/util/files.h"

namespace testbed::images {
using backends::lxc::LxcBuilder;
using images::parse_dpkg_query;
using images::parse_nmap_version;
namespace {
namespace fs = std::filesystem;

/// Writes a tiny "root file system" and reports canned facts; can be told to fail
/// half-way (after writing files) to check that nothing of the build survives.
class FakeBuilder : public Builder {
 public:
  config::BackendKind backend() const override { return config::BackendKind::kLxc; }
  std::string version() const override { return version_; }
  util::Result<BuildOutput> build(const config::Recipe& r, const fs::path& work_dir,
                                  const ProgressFn& progress) override {
    ++calls;
    if (progress) progress("faking");
    fs::create_directories(work_dir / "rootfs/testbed");
    std::ofstream(work_dir / "rootfs/etc-hostname") << r.name << "\n";
    std::ofstream(work_dir / "rootfs/big") << std::string(100000, 'x');
    if (fail) return util::fail("fake builder failed on purpose");
    BuildOutput out;
    out.packages = {{"nmap", nmap_package}, {"openssh-server", "1:9.2p1-2"}, {"tini", "0.19.0-1"}};
    out.nmap_version = nmap_version;
    out.nmap_version_output = "Nmap version " + nmap_version + " ( https://nmap.org )\n";
    out.tool = "fake 1.0";
    out.manifest_copy = "rootfs/testbed/image.json";
    return out;
  }

  std::string version_ = "fake/1";
  bool fail = false;
  std::string nmap_version = "7.93";
  std::string nmap_package = "7.93+dfsg1-1";
  int calls = 0;
};

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("image-cache-test");
    ASSERT_TRUE(t.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    recipes_ = tmp_->path() / "recipes";
    root_ = tmp_->path() / "cache";
    fs::create_directories(recipes_);
    write_recipe(kRecipe);
  }

  void write_recipe(const std::string& text) {
    std::ofstream(recipes_ / "scan.yaml") << text;
    std::ofstream(recipes_ / "motd.txt") << motd_;
  }

  config::Recipe load() {
    auto r = config::load_recipe(recipes_ / "scan.yaml");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : config::Recipe{};
  }

  // Everything under <root> except the lock files and the (empty) .tmp dir.
  std::vector<std::string> cache_entries() {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::string rel = fs::relative(it->path(), root_).string();
      if (rel == ".tmp" || it->path().filename() == ".lock") continue;
      out.push_back(rel);
    }
    return out;
  }

  static constexpr const char* kRecipe = R"(name: scan
role: scanner
backends: [lxc]
base:
  suite: bookworm
packages: [nmap]
files:
  - path: /etc/motd
    source: motd.txt
expect:
  nmap_version: "7.93"
)";
  std::string motd_ = "hello\n";
  std::unique_ptr<util::TempDir> tmp_;
  fs::path recipes_, root_;
  FakeBuilder builder_;
};

TEST_F(CacheTest, KeyIsStableAndTracksEveryInput) {
  auto k1 = cache_key(load(), builder_);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(k1->size(), 16u);
  EXPECT_EQ(*cache_key(load(), builder_), *k1) << "same inputs, same key";

  write_recipe(std::string(kRecipe) + "description: changed\n");
  EXPECT_NE(*cache_key(load(), builder_), *k1) << "recipe bytes are hashed";

  write_recipe(kRecipe);
  EXPECT_EQ(*cache_key(load(), builder_), *k1);
  motd_ = "changed\n";
  write_recipe(kRecipe);
  EXPECT_NE(*cache_key(load(), builder_), *k1) << "referenced source files are hashed";

  motd_ = "hello\n";
  write_recipe(kRecipe);
  builder_.version_ = "fake/2";
  EXPECT_NE(*cache_key(load(), builder_), *k1) << "builder version is hashed";
}

TEST_F(CacheTest, LxcKeyTracksGeneratedScripts) {
  LxcBuilder lxc;
  auto r = load();
  auto k1 = cache_key(r, lxc);
  ASSERT_TRUE(k1.ok());
  EXPECT_NE(*k1, *cache_key(r, builder_));
  EXPECT_NE(lxc.key_material(r).find("/testbed/services.sh"), std::string::npos);
}

TEST_F(CacheTest, BuildPublishesAtomicallyThenHitsCache) {
  auto r = load();
  std::vector<std::string> progress;
  auto b =
      build_image(r, builder_, root_, false, [&](const std::string& s) { progress.push_back(s); });
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b->built);
  EXPECT_EQ(builder_.calls, 1);
  EXPECT_FALSE(progress.empty());
  EXPECT_GT(b->size_bytes, 100000u);
  EXPECT_EQ(b->nmap_version, "7.93");
  EXPECT_EQ(b->ref.dir, root_ / "scan" / b->ref.key);
  EXPECT_TRUE(fs::is_regular_file(b->ref.manifest));
  EXPECT_TRUE(fs::is_regular_file(b->ref.rootfs / "testbed/image.json"));
  EXPECT_EQ(fs::read_symlink(root_ / "scan/current"), fs::path(b->ref.key));
  EXPECT_TRUE(fs::is_empty(root_ / ".tmp")) << "no build directory left behind";

  auto again = build_image(r, builder_, root_, false);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->built) << "unchanged recipe: no rebuild";
  EXPECT_EQ(builder_.calls, 1);
  EXPECT_EQ(again->ref.key, b->ref.key);
  EXPECT_EQ(again->size_bytes, b->size_bytes);

  auto forced = build_image(r, builder_, root_, true);
  ASSERT_TRUE(forced.ok());
  EXPECT_TRUE(forced->built);
  EXPECT_EQ(builder_.calls, 2);
  EXPECT_TRUE(fs::is_empty(root_ / ".tmp")) << "the replaced build is removed";
}

TEST_F(CacheTest, ConcurrentBuildsOfOneNameBuildOnce) {
  auto r = load();
  EXPECT_FALSE(is_cached(r, builder_, root_));
  std::vector<util::Result<BuildReport>> results(4, util::Error{"not run"});
  std::vector<std::thread> threads;
  for (auto& res : results)
    threads.emplace_back([&] { res = build_image(r, builder_, root_, false); });
  for (auto& t : threads) t.join();
  int built = 0;
  for (auto& res : results) {
    ASSERT_TRUE(res.ok()) << res.error().message;
    built += res->built;
  }
  EXPECT_EQ(built, 1) << "the per-name lock serialises builds; later ones hit the cache";
  EXPECT_EQ(builder_.calls, 1);
  EXPECT_TRUE(is_cached(r, builder_, root_));
}

TEST_F(CacheTest, ChangedRecipeRebuildsUnderNewKeyAndKeepsOld) {
  auto first = build_image(load(), builder_, root_, false);
  ASSERT_TRUE(first.ok());
  write_recipe(std::string(kRecipe) + "description: v2\n");
  auto second = build_image(load(), builder_, root_, false);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->built);
  EXPECT_NE(second->ref.key, first->ref.key);
  EXPECT_TRUE(fs::exists(first->ref.manifest)) << "old keys stay until `image rm`";
  auto cur = find_image("scan", root_);
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->key, second->ref.key);

  auto list = list_images(root_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_TRUE((*list)[0].current);
  EXPECT_EQ((*list)[0].key, second->ref.key);
  EXPECT_FALSE((*list)[1].current);
  EXPECT_EQ((*list)[0].nmap_version, "7.93");
  EXPECT_EQ((*list)[0].role, "scanner");
}

TEST_F(CacheTest, FailedBuildLeavesNothing) {
  builder_.fail = true;
  auto b = build_image(load(), builder_, root_, false);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("failed on purpose"), std::string::npos);
  EXPECT_EQ(cache_entries(), std::vector<std::string>{"scan"}) << "only the (empty) name dir";
  EXPECT_FALSE(find_image("scan", root_).ok());
  auto list = list_images(root_);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(CacheTest, FailedRebuildKeepsPreviousImageCurrent) {
  auto good = build_image(load(), builder_, root_, false);
  ASSERT_TRUE(good.ok());
  write_recipe(std::string(kRecipe) + "description: v2\n");
  builder_.fail = true;
  ASSERT_FALSE(build_image(load(), builder_, root_, false).ok());
  auto cur = find_image("scan", root_);
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->key, good->ref.key);
  EXPECT_TRUE(fs::is_empty(root_ / ".tmp"));
}

TEST_F(CacheTest, WrongNmapVersionFailsTheBuild) {
  builder_.nmap_version = "7.94";
  auto b = build_image(load(), builder_, root_, false);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("expected Nmap 7.93 but `nmap --version` reports 7.94"),
            std::string::npos)
      << b.error().message;
  EXPECT_FALSE(find_image("scan", root_).ok());
  EXPECT_TRUE(fs::is_empty(root_ / ".tmp"));
}

TEST_F(CacheTest, PackageExpectationsCompareUpstreamPrefixWithoutEpoch) {
  write_recipe(std::string(kRecipe).replace(std::string(kRecipe).find("expect:\n"), 8,
                                            "expect:\n  packages:\n    openssh-server: \"9.2\"\n"
                                            "    tini: \"0.18\"\n"));
  auto r = load();
  BuildOutput out;
  out.nmap_version = "7.93";
  out.packages = {{"openssh-server", "1:9.2p1-2"}, {"tini", "0.19.0-1"}};
  auto s = check_expectations(r, out);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("expected package tini 0.18* but 0.19.0-1 is installed"),
            std::string::npos)
      << s.error().message;
  EXPECT_EQ(s.error().message.find("openssh-server"), std::string::npos) << "epoch stripped";
}

TEST_F(CacheTest, ManifestRecordsProvenance) {
  auto b = build_image(load(), builder_, root_, false);
  ASSERT_TRUE(b.ok());
  auto text = util::read_file(b->ref.manifest);
  ASSERT_TRUE(text.ok());
  auto m = nlohmann::json::parse(*text);
  EXPECT_EQ(m["schema"], 1);
  EXPECT_EQ(m["complete"], true);
  EXPECT_EQ(m["name"], "scan");
  EXPECT_EQ(m["backend"], "lxc");
  EXPECT_EQ(m["key"], b->ref.key);
  EXPECT_EQ(m["recipe"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["recipe"]["files"]["motd.txt"].get<std::string>().size(), 64u);
  EXPECT_EQ(m["base"]["suite"], "bookworm");
  EXPECT_TRUE(m["base"]["apt_options"].is_array());
  EXPECT_EQ(m["builder"]["version"], "fake/1");
  EXPECT_EQ(m["builder"]["tool"], "fake 1.0");
  EXPECT_EQ(m["packages"]["nmap"], "7.93+dfsg1-1");
  EXPECT_EQ(m["package_count"], 3);
  EXPECT_EQ(m["nmap"]["version"], "7.93");
  EXPECT_NE(m["nmap"]["version_output"].get<std::string>().find("Nmap version 7.93"),
            std::string::npos);
  EXPECT_GT(m["size_bytes"].get<uint64_t>(), 100000u);
  EXPECT_EQ(m["built_at"].get<std::string>().size(), 20u);  // 2026-11-26T21:00:00Z
  // The image carries the same manifest for the runner to read from a node.
  auto copy = util::read_file(b->ref.rootfs / "testbed/image.json");
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*copy, *text);
}

// A VM image made here from a Debian root records its suite like the LXC image of the
// same recipe (the report's scanner build reads base.suite), not an empty cloud image.
TEST_F(CacheTest, VmManifestOfASuiteRootRecordsTheSuite) {
  struct VmFake : FakeBuilder {
    config::BackendKind backend() const override { return config::BackendKind::kVm; }
  } vm_builder;
  write_recipe(std::string(kRecipe).replace(std::string(kRecipe).find("[lxc]"), 5, "[lxc, vm]"));
  const config::Recipe r = load();
  auto out = vm_builder.build(r, tmp_->path() / "work", {});
  ASSERT_TRUE(out.ok());
  nlohmann::json m = make_manifest(r, vm_builder, "0123456789abcdef", *out, 1.0, 1);
  EXPECT_EQ(m["backend"], "vm");
  EXPECT_EQ(m["base"]["suite"], "bookworm");
  EXPECT_FALSE(m["base"].contains("cloud_image")) << m["base"].dump();
}

TEST_F(CacheTest, FindImageExplainsHowToBuild) {
  auto missing = find_image("scan", root_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("testbed image build scan"), std::string::npos);
  EXPECT_FALSE(find_image("../etc", root_).ok());

  // A `current` without a manifest (hand-made or torn) is refused.
  fs::create_directories(root_ / "half" / "k1" / "rootfs");
  fs::create_directory_symlink("k1", root_ / "half" / "current");
  auto half = find_image("half", root_);
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().message.find("incomplete"), std::string::npos);
}

TEST_F(CacheTest, RemoveDeletesEveryKey) {
  ASSERT_TRUE(build_image(load(), builder_, root_, false).ok());
  write_recipe(std::string(kRecipe) + "description: v2\n");
  ASSERT_TRUE(build_image(load(), builder_, root_, false).ok());
  ASSERT_TRUE(remove_image("scan", root_).ok());
  EXPECT_FALSE(fs::exists(root_ / "scan"));
  EXPECT_TRUE(fs::is_empty(root_ / ".tmp"));
  EXPECT_FALSE(remove_image("scan", root_).ok());
  EXPECT_FALSE(remove_image("../x", root_).ok());
}

TEST_F(CacheTest, RemoveOldKeysKeepsCurrent) {
  auto first = build_image(load(), builder_, root_, false);
  ASSERT_TRUE(first.ok());
  write_recipe(std::string(kRecipe) + "description: v2\n");
  auto second = build_image(load(), builder_, root_, false);
  ASSERT_TRUE(second.ok());
  auto n = remove_old_keys("scan", root_);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE(fs::exists(first->ref.dir));
  auto cur = find_image("scan", root_);
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->key, second->ref.key);
  EXPECT_EQ(*remove_old_keys("scan", root_), 0);
}

TEST_F(CacheTest, DefaultRootFollowsEnvironment) {
  ::setenv("TESTBED_IMAGE_DIR", "/tmp/somewhere", 1);
  EXPECT_EQ(default_cache_root(), fs::path("/tmp/somewhere"));
  ::unsetenv("TESTBED_IMAGE_DIR");
  EXPECT_EQ(default_cache_root(), fs::path("/var/lib/testbed/images"));
}

TEST(TreeSize, CountsHardLinksOnce) {
  auto t = util::TempDir::create("tree-size");
  ASSERT_TRUE(t.ok());
  std::ofstream(t->path() / "a") << std::string(64 * 1024, 'a');
  uint64_t one = tree_size(t->path());
  fs::create_hard_link(t->path() / "a", t->path() / "b");
  EXPECT_EQ(tree_size(t->path()), one);
  std::ofstream(t->path() / "c") << std::string(64 * 1024, 'c');
  EXPECT_GE(tree_size(t->path()), one + 64 * 1024);
}

TEST(MountsUsing, SeesMountPointsBelowAndNothingElsewhere) {
  EXPECT_FALSE(mounts_using("/proc").empty()) << "/proc is itself a mount point";
  auto t = util::TempDir::create("mounts-using");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(mounts_using(t->path()).empty());
}

TEST(LxcParsers, NmapVersionAndDpkgQuery) {
  EXPECT_EQ(parse_nmap_version("Nmap version 7.80 ( https://nmap.org )\nPlatform: x"), "7.80");
  EXPECT_EQ(parse_nmap_version("Nmap version 7.991 ( https://nmap.org )"), "7.991");
  EXPECT_EQ(parse_nmap_version("garbage"), "");
  auto p = parse_dpkg_query("ii \tnmap\t7.93+dfsg1-1\nrc \told\t1.0\nii \ttini\t0.19.0-1\n");
  EXPECT_EQ(p.size(), 2u);
  EXPECT_EQ(p["nmap"], "7.93+dfsg1-1");
  EXPECT_EQ(p.count("old"), 0u) << "removed packages with config files are not installed";
}

}  // namespace
}  // namespace testbed::images
