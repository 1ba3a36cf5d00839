// The study's KVM experiment file loads, names the study's three versions on KVM, and
// every image it and the topology need has a KVM recipe.
#include "orchestrator/config/experiment.h"

#include <gtest/gtest.h>

#include "orchestrator/config/recipe.h"

namespace testbed::config {
namespace {

TEST(KvmExperiment, StudyFileLoadsWithTheStudysVersionsAndCommand) {
  auto e = load_experiment(std::string(TESTBED_SOURCE_DIR) + "/experiments/nmap7-ubuntu-kvm.yaml");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->backend, "kvm");
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
    EXPECT_TRUE(r->supports("kvm")) << s.image;
    EXPECT_EQ(r->expect.nmap_version, s.label);
  }
  for (const char* n : {"ubuntu-target-lamp-ftp", "kvm-router"}) {
    auto r = load_recipe_named(images, n);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->supports("kvm")) << n;
  }
}

}  // namespace
}  // namespace testbed::config
