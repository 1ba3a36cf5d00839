// The VM finishing steps (backends/vm/builder.h, finish_vm_image) on a small root made
// here: the steps every Debian VM image goes through, VmBuilder's and the source
// builder's on vm alike (label unit: mkfs.ext4, debugfs and qemu-img, no root).
#include <gtest/gtest.h>

#include <fstream>

#include "orchestrator/backends/vm/builder.h"
#include "orchestrator/backends/vm/cloud_builder.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::backends::vm {
namespace {
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

class VmFinishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"mkfs.ext4", "debugfs", "qemu-img"})
      ASSERT_TRUE(util::have_program(tool)) << tool << " is missing (make setup)";
    auto t = util::TempDir::create("vm-finish-test");
    ASSERT_TRUE(t.ok());
    work_ = t->release();
    auto r = config::parse_recipe(
        "name: img\nrole: scanner\nbackends: [vm]\nbase:\n  suite: bullseye\n", "/r/img.yaml");
    ASSERT_TRUE(r.ok()) << r.error().message;
    recipe_ = *r;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(work_, ec);
  }
  fs::path work_;
  config::Recipe recipe_;
};

TEST_F(VmFinishTest, RootBecomesKernelInitrdAndQcow2WithVmInit) {
  const fs::path root = work_ / "rootfs";
  write(root / "boot/vmlinuz-5.10.0-test-cloud-amd64", "kernel bytes\n");
  write(root / "boot/initrd.img-5.10.0-test-cloud-amd64", "initrd bytes\n");
  write(root / "usr/bin/nmap", "#!/bin/sh\n");
  write(root / "testbed/init.sh", "#!/bin/sh\n");  // every root has the node init
  images::BuildOutput out;
  out.tool = "mmdebstrap 1.3.5";
  out.manifest_copy = "rootfs/testbed/image.json";
  std::vector<std::string> steps;
  auto s =
      finish_vm_image(recipe_, work_, out, [&](const std::string& st) { steps.push_back(st); });
  ASSERT_TRUE(s.ok()) << s.error().message;

  auto kernel = util::read_file(work_ / kVmKernel);
  auto initrd = util::read_file(work_ / kVmInitrd);
  ASSERT_TRUE(kernel.ok() && initrd.ok());
  EXPECT_EQ(*kernel, "kernel bytes\n");
  EXPECT_EQ(*initrd, "initrd bytes\n");
  EXPECT_FALSE(fs::exists(root)) << "the root tree is on the disk now";
  EXPECT_FALSE(fs::exists(work_ / "disk.raw"));
  EXPECT_EQ(out.vm_boot, "kernel");
  EXPECT_EQ(out.vm_kernel, "5.10.0-test-cloud-amd64");
  EXPECT_TRUE(out.manifest_copy.empty());
  EXPECT_EQ(out.tool.rfind("mmdebstrap 1.3.5 + mkfs.ext4 -d + qemu-img convert (", 0), 0u)
      << out.tool;
  EXPECT_EQ(steps, std::vector<std::string>{"making the disk"});

  // The disk is a qcow2 whose ext4 holds the root and /testbed/vm-init.
  const fs::path disk = work_ / kKvmBaseDisk;
  auto info = util::run_checked({"qemu-img", "info", "--output=json", disk.string()});
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_NE(info->out.find("\"format\": \"qcow2\""), std::string::npos) << info->out;
  const fs::path raw = work_ / "check.raw";
  ASSERT_TRUE(
      util::run_checked({"qemu-img", "convert", "-O", "raw", disk.string(), raw.string()}).ok());
  auto init = util::run_checked({"debugfs", "-R", "cat /testbed/vm-init", raw.string()});
  ASSERT_TRUE(init.ok()) << init.error().message;
  EXPECT_EQ(init->out, vm_init_script());
  auto nmap = util::run_checked({"debugfs", "-R", "stat /usr/bin/nmap", raw.string()});
  ASSERT_TRUE(nmap.ok());
  EXPECT_NE(nmap->out.find("Type: regular"), std::string::npos) << nmap->out;
}

TEST_F(VmFinishTest, NoKernelInTheRootFailsAndMakesNoDisk) {
  write(work_ / "rootfs/testbed/init.sh", "#!/bin/sh\n");
  images::BuildOutput out;
  auto s = finish_vm_image(recipe_, work_, out, {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("no kernel in " + (work_ / "rootfs/boot").string() +
                                   " after installing linux-image-cloud-amd64"),
            std::string::npos)
      << s.error().message;
  EXPECT_FALSE(fs::exists(work_ / kKvmBaseDisk));
  EXPECT_TRUE(out.vm_boot.empty());
}

}  // namespace
}  // namespace testbed::backends::vm
