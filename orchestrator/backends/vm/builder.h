#pragma once
// VM images built here, no download: the recipe's Debian root (the LXC pipeline,
// build_debian_root) plus the suite's cloud kernel, as a qcow2 disk booted by libvirt
// with the image's own kernel and initrd (<kernel>/<initrd>/<cmdline>) and testbed's init
// as PID 1 (/testbed/vm-init below). That init unpacks the node's files from a config
// disk the lab writes (virt/vm_boot.h), names the interfaces by MAC, then runs the same
// /testbed/init.sh under tini as an LXC node does: one node init for both backends.
//
// Cache entry (work_dir while building): base.qcow2, vmlinuz, initrd.img, manifest.json.
// Vm-only recipes with a `cloud_image` base are handed to CloudImageBuilder (kvm_builder.h).
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/images/builder.h"
#include "orchestrator/backends/vm/cloud_builder.h"

namespace testbed::backends::vm {
using images::Builder;
using images::BuildOutput;
using images::ProgressFn;
using images::DownloadOptions;

inline constexpr const char* kVmKernel = "vmlinuz";
inline constexpr const char* kVmInitrd = "initrd.img";

/// What a VM image gets beyond its recipe: the suite's cloud kernel (virtio as modules,
/// loaded by the initrd and by vm-init) and kmod to load them.
extern const std::vector<std::string> kVmPackages;

/// /testbed/vm-init, PID 1 of a VM node: mounts /proc, /sys, /dev, /run; loads the
/// drivers of the devices present (as udev's coldplug would); unpacks /dev/vdb (a tar
/// archive) over /; renames each interface whose MAC is in /testbed/vm-interfaces
/// ("MAC NAME" lines) to NAME; then execs tini with /testbed/init.sh. Progress and
/// failures go to the serial console, prefixed "testbed-vm-init:".
std::string vm_init_script();

/// The kernel command line of a VM node booted from such an image.
std::string vm_kernel_cmdline();

/// The disk size for a root of `tree_bytes`: room for logs and packages written at run
/// time (the node's overlay grows into it), in MiB.
uint64_t vm_disk_mib(uint64_t tree_bytes);

/// What a VM image's Debian root gets beyond an LXC root's, as key material: kVmPackages,
/// vm_init_script(), vm_kernel_cmdline() and the kernel's apt pin. Every builder of
/// Debian-root VM images (VmBuilder, the source builder on vm) adds it to its key.
std::string vm_root_key_material();

/// The VM finishing steps on the Debian root in work_dir/rootfs (made by
/// build_debian_root with kVmPackages): /testbed/vm-init written, the kernel and initrd
/// copied out of /boot (kVmKernel, kVmInitrd), the root made into an ext4 file system
/// (`mkfs.ext4 -d`) and converted to work_dir/base.qcow2; the root tree is then removed.
/// Updates `out` (tool, vm_boot "kernel", vm_kernel; no manifest copy inside the image).
util::Status finish_vm_image(const config::Recipe& recipe, const std::filesystem::path& work_dir,
                             BuildOutput& out, const ProgressFn& progress);

/// A VM image from a Debian suite: build_debian_root with kVmPackages, the kernel's apt
/// pin and `extra_args` (e.g. the source builder's staged tree), then finish_vm_image.
/// What VmBuilder::build does for a `suite` base, and the source builder on vm.
util::Result<BuildOutput> build_vm_debian_image(const config::Recipe& recipe,
                                                const std::filesystem::path& work_dir,
                                                const ProgressFn& progress,
                                                const std::vector<std::string>& extra_args);

class VmBuilder : public Builder {
 public:
  /// `downloads_dir`: for cloud-image recipes (CloudImageBuilder).
  explicit VmBuilder(std::filesystem::path downloads_dir, DownloadOptions opts = {})
      : cloud_(std::move(downloads_dir), std::move(opts)) {}
  config::BackendKind backend() const override { return config::BackendKind::kVm; }
  std::string version() const override { return "vm-builder/1"; }
  std::string key_material(const config::Recipe& recipe) const override;
  /// Debian base: build_vm_debian_image (build_debian_root, then finish_vm_image).
  /// cloud_image base: CloudImageBuilder::build.
  util::Result<BuildOutput> build(const config::Recipe& recipe,
                                  const std::filesystem::path& work_dir,
                                  const ProgressFn& progress) override;

 private:
  CloudImageBuilder cloud_;
};

}  // namespace testbed::backends::vm
