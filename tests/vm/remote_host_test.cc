// A remote KVM lab host's pieces against this machine standing in for it (root,
// libvirtd, sshd): node disks as storage volumes in a pool of the test's own (the local
// libvirtd's storage API is the one qemu+ssh:// reaches), and the host's addresses read
// over SSH (a private sshd on 127.0.0.1). Domains are not started: no /dev/kvm here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "orchestrator/backends/vm/cloud_builder.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/virt/handles.h"
#include "orchestrator/backends/vm/storage.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/virt/naming.h"
#include "orchestrator/virt/xml.h"
#include "tests/remote/sshd_server.h"
#include "tests/virt/scratch_pool.h"

namespace testbed::virt {
using backends::vm::HostVolumes;
using backends::vm::VmStorage;
using backends::vm::PoolSettings;
using lab::read_lab_host_prefixes;
namespace {

namespace fs = std::filesystem;

class RemoteKvmHost : public remote::test_sshd::SshServer {
 protected:
  void SetUp() override {
    if (auto why = scratch_.open("kvmhost"); !why.empty()) GTEST_SKIP() << why;
    pool_ = scratch_.settings();
  }
  /// A KVM image cache entry: base disk, the recipe's cloud-config, a manifest.
  fs::path make_image(const std::string& name) {
    fs::path e = scratch_.dir() / "cache" / name / "k1";
    fs::create_directories(e);
    EXPECT_TRUE(util::run_checked(
        {"qemu-img", "create", "-q", "-f", "qcow2", (e / backends::vm::kKvmBaseDisk).string(), "64M"}));
    EXPECT_TRUE(util::write_file_atomic(e / backends::vm::kKvmRecipeCloudConfig, "packages: [nmap]\n"));
    EXPECT_TRUE(util::write_file_atomic(e / "manifest.json", "{\"name\":\"" + name + "\"}\n"));
    return e;
  }
  util::Status prepare(VmStorage& st, const fs::path& image, const std::string& node,
                       NodeSpec* spec) {
    spec->name = domain_name("far", node);
    spec->interfaces.push_back(
        {network_name("far", "mgmt"), "tbfar-" + node, "mgmt", make_mac("far/" + node + "/mgmt")});
    backends::vm::NodeSeed seed;
    seed.hostname = node;
    st.set_seed(spec->name, seed);
    NodeRootRequest req;
    req.node_dir = scratch_.dir() / "nodes" / node;
    fs::create_directories(req.node_dir);
    req.image_root = image / "rootfs";
    req.files["/root/.ssh/authorized_keys"] = {"ssh-ed25519 AAAAlabkey lab\n", 0600};
    return st.prepare(req, spec);
  }

  testing::ScratchPool scratch_;
  PoolSettings pool_;
};

TEST_F(RemoteKvmHost, NodeDisksAreVolumesOnTheHost) {
  auto v = HostVolumes::open(scratch_.conn(), pool_);
  ASSERT_TRUE(v.ok()) << v.error().message;
  auto vols = std::make_shared<HostVolumes>(std::move(*v));
  VmStorage st;
  st.disk_size = "1G";
  st.use_volumes(vols);
  fs::path image = make_image("ubuntu-target");
  NodeSpec a, b;
  ASSERT_TRUE(prepare(st, image, "target1", &a)) << "target1";
  ASSERT_TRUE(prepare(st, image, "target2", &b)) << "target2";
  // Disks and seeds are volumes in the host's pool, not files in the node dirs.
  EXPECT_EQ(fs::path(a.disk_path).parent_path(), fs::path(pool_.path));
  EXPECT_EQ(fs::path(a.seed_path).filename(), "tb-far-target1-seed.iso");
  EXPECT_FALSE(fs::exists(scratch_.dir() / "nodes/target1/disk.qcow2"));
  // The overlay is over the uploaded base; both nodes share one base volume.
  auto info = util::run_checked({"qemu-img", "info", "--output=json", "-U", a.disk_path});
  ASSERT_TRUE(info.ok()) << info.error().message;
  auto j = nlohmann::json::parse(info->out);
  const std::string base = j["backing-filename"];
  EXPECT_EQ(fs::path(base).parent_path(), fs::path(pool_.path));
  EXPECT_EQ(j["virtual-size"], 1ull << 30);
  EXPECT_EQ(*util::sha256_file(base), *util::sha256_file(image / backends::vm::kKvmBaseDisk));
  auto names = vols->list();
  ASSERT_TRUE(names.ok());
  int bases = 0;
  for (const auto& n : *names)
    bases += n.rfind("base-ubuntu-target-", 0) == 0 && n.size() > 6 &&
             n.find(".complete") == std::string::npos;
  EXPECT_EQ(bases, 1) << ::testing::PrintToString(*names);
  // The seed volume is the seed ISO the storage made.
  EXPECT_EQ(*util::sha256_file(a.seed_path),
            *util::sha256_file(scratch_.dir() / "nodes/target1/seed.iso"));
  // Release removes the node's volumes, not the shared base.
  ASSERT_TRUE(st.release(scratch_.dir() / "nodes" / "target1"));
  EXPECT_FALSE(vols->path_of("tb-far-target1.qcow2").ok());
  EXPECT_FALSE(vols->path_of("tb-far-target1-seed.iso").ok());
  EXPECT_TRUE(vols->path_of("tb-far-target2.qcow2").ok());
  EXPECT_TRUE(fs::exists(base));
}

TEST_F(RemoteKvmHost, HostAddressesAreReadOverSsh) {
  remote::SshJump host;
  host.host = "127.0.0.1";
  host.port = target().port;
  host.user = target().user;
  host.identity_file = target().identity_file;
  host.known_hosts_file = target().known_hosts_file;
  auto far = read_lab_host_prefixes(host);
  ASSERT_TRUE(far.ok()) << far.error().message;
  auto here = config::read_host_prefixes();
  ASSERT_TRUE(here.ok());
  // The "remote" host is this one: the same addresses and routes.
  ASSERT_EQ(far->size(), here->size());
  for (size_t i = 0; i < far->size(); ++i) EXPECT_EQ((*far)[i].what, (*here)[i].what);
  EXPECT_FALSE(far->empty());
}

}  // namespace
}  // namespace testbed::virt
