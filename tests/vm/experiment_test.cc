// The study's KVM experiment file loads, names the study's three versions on KVM, and
// every image it and the topology need has a KVM recipe.
#include "orchestrator/config/experiment.h"

#include <gtest/gtest.h>

#include "orchestrator/config/recipe.h"
#include "orchestrator/config/topology.h"

namespace testbed::config {
namespace {

TEST(KvmExperiment, StudyFileLoadsWithTheStudysVersionsAndCommand) {
  auto e = load_experiment(std::string(TESTBED_SOURCE_DIR) + "/experiments/nmap7-ubuntu-kvm.yaml");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->backend, config::BackendKind::kVm) << "backend: kvm is read as vm";
  ASSERT_EQ(e->scanners.size(), 3u);
  EXPECT_EQ(e->scanners[0].label, "7.01");
  EXPECT_EQ(e->scanners[1].label, "7.60");
  EXPECT_EQ(e->scanners[2].label, "7.80");
  EXPECT_EQ(e->command,
            (std::vector<std::string>{"nmap", "-T4", "-A", "-v", "-oX", "{xml}", "{targets}"}));
  auto images = std::filesystem::path(TESTBED_SOURCE_DIR) / "images";
  for (const auto& s : e->scanners) {
    auto r = load_recipe_named(images, s.image);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->supports(config::BackendKind::kVm)) << s.image;
    EXPECT_EQ(r->expect.nmap_version, s.label);
  }
  for (const char* n : {"ubuntu-target-lamp-ftp", "kvm-router"}) {
    auto r = load_recipe_named(images, n);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->supports(config::BackendKind::kVm)) << n;
  }
  // Every node boots a KVM image: node_images for all but the scanner (its image comes
  // from `scanners:`), so none of the topology's LXC images end up on KVM.
  auto topo = load_topology(e->topology.string());
  ASSERT_TRUE(topo) << topo.error().message;
  for (const auto& n : topo->nodes) {
    if (n.role == NodeRole::kScanner) {
      EXPECT_FALSE(e->node_images.count(n.name));
      continue;
    }
    ASSERT_TRUE(e->node_images.count(n.name)) << n.name << " has no KVM image in node_images";
    auto r = load_recipe_named(images, e->node_images.at(n.name));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->supports(config::BackendKind::kVm)) << n.name;
    EXPECT_EQ(r->role, to_string(n.role)) << n.name;
  }
  EXPECT_EQ(lab_uris(*e), (std::vector<std::string>{"qemu:///system"}));
}

// keep_states: read on VM experiments (the study's VM files have it); refused, with its
// line and what to do, where it cannot work.
TEST(KvmExperiment, KeepStatesIsForVmLabsThatSaveStates) {
  const std::string dir = std::string(TESTBED_SOURCE_DIR) + "/experiments/";
  auto study = load_experiment(dir + "nmap7-study-vm.yaml");
  ASSERT_TRUE(study) << study.error().message;
  EXPECT_TRUE(study->keep_states);
  auto plain = load_experiment(dir + "ci-vm.yaml");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_FALSE(plain->keep_states) << "off unless asked for";

  const std::string base =
      "name: k\ntopology: ../topology/two-subnet-small.yaml\n"
      "scanners:\n  - {label: \"7.80\", image: scanner-nmap-7.80}\n"
      "command: [nmap, -sS, \"{targets}\"]\n";
  auto lxc = parse_experiment(base + "keep_states: true\n", dir + "k.yaml");
  ASSERT_FALSE(lxc);
  EXPECT_NE(lxc.error().message.find("k.yaml:6:"), std::string::npos) << lxc.error().message;
  EXPECT_NE(lxc.error().message.find("keep_states is for the vm backend"), std::string::npos)
      << lxc.error().message;
  auto boot = parse_experiment(base + "backend: vm\nreset: boot\nkeep_states: true\n",
                               dir + "k.yaml");
  ASSERT_FALSE(boot);
  EXPECT_NE(boot.error().message.find("reset: boot"), std::string::npos) << boot.error().message;
  auto vm = parse_experiment(base + "backend: vm\nkeep_states: true\n", dir + "k.yaml");
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_TRUE(vm->keep_states);
}

}  // namespace
}  // namespace testbed::config
