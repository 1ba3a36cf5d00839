// HostVolumes against the local libvirtd (the storage API is the same over qemu+ssh://;
// libvirt's test:///default driver cannot upload). Each test suite defines its own
// directory pool in a temp dir and removes it at the end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/virt/handles.h"
#include "orchestrator/backends/vm/volumes.h"
#include "tests/virt/scratch_pool.h"

namespace testbed::virt {
using backends::vm::HostVolumes;
using backends::vm::PoolSettings;
using backends::vm::volume_xml;
namespace {

namespace fs = std::filesystem;

class Volumes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = pool_.open("voltest"); !why.empty()) GTEST_SKIP() << why;
    settings_ = pool_.settings();
    auto v = HostVolumes::open(pool_.conn(), settings_);
    ASSERT_TRUE(v.ok()) << v.error().message;
    vols_.emplace(std::move(*v));
  }
  void TearDown() override { vols_.reset(); }
  fs::path random_file(const std::string& name, size_t size, unsigned seed) {
    std::string bytes(size, '\0');
    std::mt19937 rng(seed);
    for (auto& b : bytes) b = static_cast<char>(rng());
    fs::path p = pool_.dir() / name;
    EXPECT_TRUE(util::write_file_atomic(p, bytes).ok());
    return p;
  }

  testing::ScratchPool pool_;  // removed after vols_ (declared first)
  PoolSettings settings_;
  std::optional<HostVolumes> vols_;
};

TEST_F(Volumes, UploadedBytesAreExactAndCachedByName) {
  fs::path src = random_file("base.img", 5 * 1024 * 1024 + 123, 1);
  bool uploaded = false;
  auto path = vols_->ensure_uploaded("base-abc.img", src, &uploaded);
  ASSERT_TRUE(path.ok()) << path.error().message;
  EXPECT_TRUE(uploaded);
  EXPECT_EQ(fs::path(*path).parent_path(), fs::path(settings_.path));
  // Read back through libvirt, not from the (here local) file.
  fs::path back = pool_.dir() / "back.img";
  ASSERT_TRUE(vols_->download("base-abc.img", back).ok());
  EXPECT_EQ(util::sha256_hex(*util::read_file(back)), util::sha256_hex(*util::read_file(src)));
  // Same name again: nothing sent.
  auto again = vols_->ensure_uploaded("base-abc.img", src, &uploaded);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(uploaded);
  EXPECT_EQ(*again, *path);
}

TEST_F(Volumes, AnUploadWithoutItsCompletionMarkIsRedone) {
  fs::path src = random_file("seed.iso", 300000, 2);
  ASSERT_TRUE(vols_->upload("seed-1.iso", src).ok());
  // As if the upload had been cut off: the mark is missing.
  ASSERT_TRUE(vols_->remove("seed-1.iso.complete").ok());
  bool uploaded = false;
  ASSERT_TRUE(vols_->ensure_uploaded("seed-1.iso", src, &uploaded).ok());
  EXPECT_TRUE(uploaded);
}

TEST_F(Volumes, OverlayIsAQcow2OverItsBase) {
  fs::path base = pool_.dir() / "base.qcow2";
  ASSERT_TRUE(
      util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", base.string(), "64M"}).ok());
  auto base_path = vols_->ensure_uploaded("base-q.qcow2", base);
  ASSERT_TRUE(base_path.ok()) << base_path.error().message;
  // Uploaded once: libvirt now sees a qcow2 (capacity = its 64M virtual size), and the
  // same file is not sent again.
  bool uploaded = true;
  ASSERT_TRUE(vols_->ensure_uploaded("base-q.qcow2", base, &uploaded).ok());
  EXPECT_FALSE(uploaded);
  auto ov = vols_->create_overlay("node1.qcow2", *base_path, 1ull << 30);
  ASSERT_TRUE(ov.ok()) << ov.error().message;
  auto info = util::run_checked({"qemu-img", "info", "--output=json", "-U", *ov});
  ASSERT_TRUE(info.ok()) << info.error().message;
  auto j = nlohmann::json::parse(info->out);
  EXPECT_EQ(j["format"], "qcow2");
  EXPECT_EQ(j["backing-filename"], *base_path);
  EXPECT_EQ(j["virtual-size"], 1ull << 30);
  // A reset replaces it; removing twice is fine.
  ASSERT_TRUE(vols_->create_overlay("node1.qcow2", *base_path, 1ull << 30).ok());
  ASSERT_TRUE(vols_->remove("node1.qcow2").ok());
  ASSERT_TRUE(vols_->remove("node1.qcow2").ok());
  EXPECT_FALSE(vols_->path_of("node1.qcow2").ok());
}

TEST_F(Volumes, MissingFileIsAClearError) {
  auto r = vols_->ensure_uploaded("x.img", pool_.dir() / "nope.img");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nope.img"), std::string::npos) << r.error().message;
}

TEST_F(Volumes, OpenExistingNeverCreatesAPool) {
  PoolSettings other = settings_;
  other.name += "-absent";
  other.path += "-absent";
  auto none = HostVolumes::open_existing(pool_.conn(), other);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(virStoragePoolLookupByName(pool_.conn(), other.name.c_str()), nullptr);
  EXPECT_FALSE(fs::exists(other.path));
  auto ours = HostVolumes::open_existing(pool_.conn(), settings_);
  ASSERT_TRUE(ours.ok()) << ours.error().message;
  ASSERT_TRUE(ours->has_value());
  EXPECT_EQ((*ours)->pool_name(), settings_.name);
}

TEST(VolumeXml, OverlayNamesItsBacking) {
  auto x = volume_xml("n.qcow2", 1024, "qcow2", "/p/base.qcow2", "qcow2");
  EXPECT_NE(x.find("<backingStore>"), std::string::npos) << x;
  EXPECT_NE(x.find("<path>/p/base.qcow2</path>"), std::string::npos) << x;
  EXPECT_NE(x.find("<capacity unit=\"bytes\">1024</capacity>"), std::string::npos) << x;
}

}  // namespace
}  // namespace testbed::virt
