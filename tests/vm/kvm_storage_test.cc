// A KVM node's disks end to end, up to the hypervisor call: the two-subnet topology's
// scanner gets an overlay on a (small, made-up) base disk and a seed whose user-data
// passes cloud-init's schema and whose network-config carries the topology's addresses
// with the MACs of the domain XML; the domain XML validates and runs on test:///default.
#include "orchestrator/backends/vm/storage.h"

#include <gtest/gtest.h>

#include "orchestrator/config/recipe.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/backends/vm/cloud_builder.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/backends/vm/xml.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/naming.h"

namespace testbed::virt {
using backends::vm::VmStorage;
using backends::vm::VmXml;
using backends::vm::make_vm_node_seed;
using backends::vm::vm_xml_options_for_test_driver;
namespace {

namespace fs = std::filesystem;

TEST(VmStorage, ScannerNodeOverlayAndSeedFromTheTopology) {
  auto tmp = util::TempDir::create("kvm-st");
  ASSERT_TRUE(tmp);
  // The image's cache entry as CloudImageBuilder leaves it.
  fs::path image = tmp->path() / "image";
  fs::create_directories(image);
  ASSERT_TRUE(util::run_checked(
      {"qemu-img", "create", "-q", "-f", "qcow2", (image / backends::vm::kKvmBaseDisk).string(), "64M"}));
  auto recipe = config::load_recipe_named(fs::path(TESTBED_SOURCE_DIR) / "images",
                                          "ubuntu-scanner-nmap-7.60");
  ASSERT_TRUE(recipe) << recipe.error().message;
  auto part = backends::vm::recipe_cloud_config(*recipe);
  ASSERT_TRUE(part);
  ASSERT_TRUE(
      util::write_file_atomic(image / backends::vm::kKvmRecipeCloudConfig, backends::vm::emit_yaml(*part)));

  auto topo = config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet.yaml");
  ASSERT_TRUE(topo) << topo.error().message;
  const config::TopologyNode* scanner = nullptr;
  for (const auto& n : topo->nodes)
    if (n.name == "scanner") scanner = &n;
  ASSERT_NE(scanner, nullptr);
  BootConfig boot = make_boot_config(*topo, "study", *scanner);

  NodeSpec spec;
  spec.name = domain_name("study", "scanner");
  spec.meta = {"study", 1, 1, tmp->path().string()};
  auto devs = veth_names("study", {"scanner"}, {scanner->interfaces.size()});
  for (size_t i = 0; i < scanner->interfaces.size(); ++i) {
    const auto& net = scanner->interfaces[i].network;
    spec.interfaces.push_back(
        {network_name("study", net), devs[0][i], net, make_mac("study/scanner/" + net)});
  }
  VmStorage storage;
  storage.disk_size = "128M";
  storage.set_seed(spec.name, make_vm_node_seed(boot, spec));
  NodeRootRequest req;
  req.node_dir = tmp->path() / "nodes" / "scanner";
  req.image_root = image / "rootfs";  // what Lab passes (ImageRef::rootfs)
  req.files["/root/.ssh/authorized_keys"] = {"ssh-ed25519 AAAAlabkey lab\n", 0600};
  req.files["/etc/ssh/ssh_host_ed25519_key"] = {
      "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n", 0600};
  req.files["/etc/ssh/ssh_host_ed25519_key.pub"] = {"ssh-ed25519 AAAAhostkey scanner\n", 0644};
  req.files["/testbed/init.sh"] = {"#!/bin/sh\n", 0755};
  req.files["/testbed/node.env"] = {"NODE_NAME=scanner\n", 0644};
  auto s = storage.prepare(req, &spec);
  ASSERT_TRUE(s) << s.error().message;

  auto backing = backends::vm::backing_file(spec.disk_path);
  ASSERT_TRUE(backing);
  EXPECT_EQ(*backing, fs::absolute(image / backends::vm::kKvmBaseDisk).string());
  auto out = tmp->path() / "seed";
  ASSERT_TRUE(util::run_checked(
      {"xorriso", "-osirrox", "on", "-indev", spec.seed_path, "-extract", "/", out.string()}));
  auto ud = util::read_file(out / "user-data");
  ASSERT_TRUE(ud);
  auto schema =
      util::run_process({"cloud-init", "schema", "--config-file", (out / "user-data").string()});
  ASSERT_TRUE(schema);
  EXPECT_EQ(schema->exit_code, 0) << schema->out << schema->err;
  EXPECT_NE(ud->find("ssh-ed25519 AAAAlabkey lab"), std::string::npos);
  EXPECT_NE(ud->find("ed25519_public: ssh-ed25519 AAAAhostkey scanner"), std::string::npos);
  EXPECT_NE(ud->find("/testbed/node.env"), std::string::npos);
  EXPECT_EQ(ud->find("/testbed/init.sh"), std::string::npos);  // LXC-only
  YAML::Node nc = YAML::LoadFile((out / "network-config").string());
  ASSERT_EQ(nc["ethernets"].size(), spec.interfaces.size());
  for (const auto& is : spec.interfaces) {
    auto e = nc["ethernets"][is.guest_dev];
    ASSERT_TRUE(e) << is.guest_dev;
    EXPECT_EQ(e["match"]["macaddress"].as<std::string>(), is.mac);
  }
  EXPECT_EQ(nc["ethernets"]["scan"]["addresses"][0].as<std::string>(), "172.24.0.10/24");
  EXPECT_EQ(nc["ethernets"]["scan"]["routes"][0]["to"].as<std::string>(), "172.24.1.0/24");
  EXPECT_EQ(nc["ethernets"]["scan"]["routes"][0]["via"].as<std::string>(), "172.24.0.1");
  EXPECT_FALSE(nc["ethernets"]["mgmt"]["routes"]);

  // The domain for these disks on the test driver.
  auto b = LibvirtBackend::connect("test:///default",
                                   std::make_unique<VmXml>(vm_xml_options_for_test_driver()));
  ASSERT_TRUE(b);
  auto c = (*b)->create_node(spec);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE((*b)->remove_node(spec.name));
  ASSERT_TRUE(storage.release(req.node_dir));
  EXPECT_FALSE(fs::exists(spec.disk_path));
  EXPECT_FALSE(fs::exists(spec.seed_path));
  // Unregistered node: a clear error, not a seedless VM.
  NodeSpec other;
  other.name = "tb-study-nobody";
  auto bad = storage.prepare(req, &other);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("tb-study-nobody"), std::string::npos);
}

}  // namespace
}  // namespace testbed::virt
