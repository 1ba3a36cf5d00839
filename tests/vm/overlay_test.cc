// qcow2 overlays over a small base the test makes with qemu-img, and the KVM builder
// exercised up to (and including) the download from a local server.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "orchestrator/config/recipe.h"
#include "orchestrator/backends/vm/cloud_builder.h"
#include "orchestrator/backends/vm/cloud_init.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::images {
using backends::vm::CloudImageBuilder;
using backends::vm::backing_file;
using backends::vm::kKvmBaseDisk;
using backends::vm::kKvmRecipeCloudConfig;
using backends::vm::make_overlay;
namespace {

namespace fs = std::filesystem;

TEST(KvmOverlay, OverlayIsBackedByTheBaseAndReplacedOnReset) {
  auto tmp = util::TempDir::create("kvm-ov");
  ASSERT_TRUE(tmp);
  auto base = tmp->path() / "base.qcow2";
  ASSERT_TRUE(util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", base.string(), "64M"}));
  auto ov = tmp->path() / "node" / "disk.qcow2";
  auto s = make_overlay(base, ov, "128M");
  ASSERT_TRUE(s) << s.error().message;
  auto b = backing_file(ov);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(*b, fs::absolute(base).string());
  auto info = util::run_checked({"qemu-img", "info", "--output=json", ov.string()});
  ASSERT_TRUE(info);
  EXPECT_NE(info->out.find("\"backing-filename-format\": \"qcow2\""), std::string::npos)
      << info->out;
  EXPECT_NE(info->out.find("\"virtual-size\": 134217728"), std::string::npos) << info->out;
  // Reset: a new overlay replaces the old one (old contents gone).
  ASSERT_TRUE(util::run_checked({"qemu-io", "-c", "write -P 0x5a 0 64k", ov.string()}));
  auto before = fs::file_size(ov);
  ASSERT_TRUE(make_overlay(base, ov));
  EXPECT_LT(fs::file_size(ov), before);
  // A missing base is a clear error.
  auto bad = make_overlay(tmp->path() / "nope.qcow2", ov);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("does not exist"), std::string::npos);
}

TEST(CloudImageBuilder, RejectsANonQcow2DownloadAndStoresBaseAndCloudConfig) {
  auto tmp = util::TempDir::create("kvm-b");
  ASSERT_TRUE(tmp);
  // A qcow2 "cloud image" served from disk through file:// (libcurl): the download,
  // verification, format check and cache layout, without a network.
  auto img = tmp->path() / "focal.img";
  ASSERT_TRUE(util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", img.string(), "32M"}));
  auto digest = util::sha256_file(img);
  ASSERT_TRUE(digest);
  auto recipe = config::load_recipe_named(fs::path(TESTBED_SOURCE_DIR) / "images",
                                          "ubuntu-scanner-nmap-7.80");
  ASSERT_TRUE(recipe) << recipe.error().message;
  recipe->base.cloud_image = "file://" + img.string();
  recipe->base.sha256 = *digest;
  recipe->base.sha256sums.clear();
  CloudImageBuilder builder(tmp->path() / "downloads");
  auto work = tmp->path() / "work";
  fs::create_directories(work);
  auto out = builder.build(*recipe, work, nullptr);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*util::sha256_file(work / kKvmBaseDisk), *digest);
  auto cc = util::read_file(work / kKvmRecipeCloudConfig);
  ASSERT_TRUE(cc);
  EXPECT_NE(cc->find("nmap"), std::string::npos);
  EXPECT_NE(builder.key_material(*recipe).find("packages"), std::string::npos);

  // A raw file is not a cloud image.
  auto raw = tmp->path() / "raw.img";
  ASSERT_TRUE(util::write_file_atomic(raw, std::string(4096, 'x')));
  recipe->base.cloud_image = "file://" + raw.string();
  recipe->base.sha256 = *util::sha256_file(raw);
  auto work2 = tmp->path() / "work2";
  fs::create_directories(work2);
  auto bad = builder.build(*recipe, work2, nullptr);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("not qcow2"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace testbed::images
