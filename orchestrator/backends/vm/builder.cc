#include "orchestrator/backends/vm/builder.h"

#include <fmt/format.h>

#include "orchestrator/images/build.h"
#include "orchestrator/backends/lxc/builder.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::backends::vm {
using namespace testbed::images;  // the image cache and the Builder interface
using namespace testbed::backends::lxc;  // VM images are made from the same Debian root
using backends::lxc::LxcBuilder;
using backends::lxc::build_debian_root;
using images::BuildOutput;
using images::ProgressFn;
namespace fs = std::filesystem;

const std::vector<std::string> kVmPackages = {"linux-image-cloud-amd64", "kmod"};

namespace {

// The kernel comes from the suite's own archive (its point release) rather than the
// security archive where both have one: the same kernel for every image of a suite until
// the next point release, and a frozen mirror lacks some security kernels (bullseye's
// 404). Priority 100, not -1: a point release whose kernel package is only in the
// security archive still installs.
constexpr const char* kKernelPin =
    "Package: linux-image-* linux-signed-*\n"
    "Pin: release l=Debian-Security\n"
    "Pin-Priority: 100\n";

std::vector<std::string> kernel_pin_args() {
  // A fixed hook string (no recipe text): writes the pin before any package is chosen.
  // printf's format is the pin with each newline written as \n.
  std::string fmt_arg;
  for (char c : std::string(kKernelPin)) fmt_arg += c == '\n' ? std::string("\\n") : std::string(1, c);
  return {"--setup-hook=mkdir -p \"$1/etc/apt/preferences.d\" && printf '" + fmt_arg +
          "' > \"$1/etc/apt/preferences.d/testbed-vm-kernel\""};
}

}  // namespace

std::string vm_init_script() {
  return R"SH(#!/bin/sh
# /testbed/vm-init: PID 1 of a testbed VM node (written by testbed's VM image builder,
# orchestrator/images/vm_builder.cc). It prepares what a container gets from its host,
# then runs the same node init as an LXC node: /testbed/init.sh under tini.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { echo "testbed-vm-init: $*" >/dev/console 2>/dev/null || echo "testbed-vm-init: $*"; }
halt() { say "FAILED: $*"; echo o >/proc/sysrq-trigger 2>/dev/null; exec sleep infinity; }
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mountpoint -q /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mountpoint -q /dev/shm || mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# The initramfs hands over its own /run; the node uses the image's, as a container does.
if mountpoint -q /run; then umount /run 2>/dev/null || umount -l /run; fi
mkdir -p /run/lock && chmod 1777 /run/lock
mount -o remount,rw / 2>/dev/null
say "loading device drivers"
modprobe -qab $(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u) 2>/dev/null
[ -b /dev/vdb ] || halt "no config disk /dev/vdb"
tar -xpf /dev/vdb -C / --no-same-owner --no-overwrite-dir || halt "cannot unpack the config disk"
if [ -f /testbed/vm-interfaces ]; then
  while read -r mac name; do
    [ -n "$mac" ] || continue
    i=0
    while :; do
      found=
      for d in /sys/class/net/*; do
        [ "$(cat "$d/address" 2>/dev/null)" = "$mac" ] && found=${d##*/}
      done
      [ -n "$found" ] && break
      i=$((i+1)); [ $i -lt 100 ] || halt "no interface with MAC $mac (for $name)"
      sleep 0.1
    done
    [ "$found" = "$name" ] || ip link set dev "$found" name "$name" || halt "cannot rename $found to $name"
  done </testbed/vm-interfaces
fi
say "node files in place; starting /testbed/init.sh"
exec /usr/bin/tini -- /bin/sh /testbed/init.sh
)SH";
}

std::string vm_kernel_cmdline() {
  // loglevel=4: warnings and worse on the console (kept per node for diagnosis) without
  // the cost of every boot message on an emulated serial port.
  return "console=ttyS0 root=/dev/vda rw rootfstype=ext4 init=/testbed/vm-init loglevel=4 "
         "net.ifnames=0 panic=10";
}

uint64_t vm_disk_mib(uint64_t tree_bytes) {
  uint64_t mib = tree_bytes / (1 << 20);
  return mib + mib / 4 + 1024;
}

std::string vm_root_key_material() {
  std::string m;
  for (const auto& p : kVmPackages) m += p + ",";
  return m + "\n" + vm_init_script() + vm_kernel_cmdline() + kKernelPin;
}

std::string VmBuilder::key_material(const config::Recipe& r) const {
  if (r.cloud()) return cloud_.key_material(r);
  return LxcBuilder().key_material(r) + vm_root_key_material();
}

namespace {

// The one kernel release in rootfs/boot (vmlinuz-<release> and initrd.img-<release>).
util::Result<std::string> kernel_release(const fs::path& rootfs) {
  std::string release;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(rootfs / "boot", ec)) {
    std::string f = e.path().filename().string();
    if (f.rfind("vmlinuz-", 0) != 0) continue;
    if (!release.empty())
      return util::fail("more than one kernel in {}: {} and {}", (rootfs / "boot").string(),
                        release, f.substr(8));
    release = f.substr(8);
  }
  if (release.empty())
    return util::fail("no kernel in {} after installing {}", (rootfs / "boot").string(),
                      kVmPackages[0]);
  if (!fs::exists(rootfs / "boot" / ("initrd.img-" + release), ec))
    return util::fail("the kernel {} has no initrd in {} (initramfs-tools did not run?)", release,
                      (rootfs / "boot").string());
  return release;
}

util::Status run_step(const std::string& what, const std::vector<std::string>& argv) {
  util::ProcessOptions o;
  o.cancel = &util::interrupt_flag();
  o.timeout = std::chrono::minutes(20);
  auto r = util::run_process(argv, o);
  if (!r) return util::fail("{}: {}", what, r.error().message);
  if (r->cancelled) return util::fail("interrupted ({}): {}", util::interrupt_signal_name(), what);
  if (r->exit_code != 0)
    return util::fail("{} failed (`{}`, exit {}): {}", what, util::format_argv(argv), r->exit_code,
                      r->err.empty() ? r->out : r->err);
  return {};
}

util::Status need_disk_tools(const config::Recipe& r) {
  for (const char* tool : {"mkfs.ext4", "qemu-img"})
    if (!util::have_program(tool))
      return util::fail("building VM image '{}' needs {}; run `make setup`", r.name, tool);
  return {};
}

}  // namespace

util::Status finish_vm_image(const config::Recipe& r, const fs::path& work_dir, BuildOutput& out,
                             const ProgressFn& progress) {
  if (auto s = need_disk_tools(r); !s) return s;
  const fs::path rootfs = work_dir / "rootfs";
  out.manifest_copy.clear();  // the root becomes a disk before the manifest exists
  if (auto s = util::write_file_atomic(rootfs / "testbed/vm-init", vm_init_script(), 0755); !s)
    return s;
  auto release = kernel_release(rootfs);
  if (!release) return release.error();
  std::error_code ec;
  fs::copy_file(rootfs / "boot" / ("vmlinuz-" + *release), work_dir / kVmKernel, ec);
  if (!ec) fs::copy_file(rootfs / "boot" / ("initrd.img-" + *release), work_dir / kVmInitrd, ec);
  if (ec) return util::fail("cannot copy the kernel of image '{}': {}", r.name, ec.message());

  if (progress) progress("making the disk");
  const uint64_t mib = vm_disk_mib(tree_size(rootfs));
  const fs::path raw = work_dir / "disk.raw";
  if (auto s = run_step("mkfs.ext4 of the image root",
                        {"mkfs.ext4", "-q", "-F", "-L", "testbed-root", "-d", rootfs.string(),
                         raw.string(), std::to_string(mib) + "M"});
      !s)
    return s;
  if (auto s = run_step("qemu-img convert",
                        {"qemu-img", "convert", "-O", "qcow2", raw.string(),
                         (work_dir / kKvmBaseDisk).string()});
      !s)
    return s;
  fs::remove(raw, ec);
  fs::remove_all(rootfs, ec);
  if (ec) return util::fail("cannot remove the build root {}: {}", rootfs.string(), ec.message());
  out.tool += fmt::format(" + mkfs.ext4 -d + qemu-img convert ({} MiB ext4)", mib);
  out.vm_boot = "kernel";
  out.vm_kernel = *release;
  return {};
}

util::Result<BuildOutput> build_vm_debian_image(const config::Recipe& r, const fs::path& work_dir,
                                                const ProgressFn& progress,
                                                const std::vector<std::string>& extra_args) {
  // Checked before the root is built, not after minutes of mmdebstrap.
  if (auto s = need_disk_tools(r); !s) return s.error();
  std::vector<std::string> args = kernel_pin_args();
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  auto out = build_debian_root(r, work_dir, progress, kVmPackages, args);
  if (!out) return out.error();
  if (auto s = finish_vm_image(r, work_dir, *out, progress); !s) return s.error();
  return out;
}

util::Result<BuildOutput> VmBuilder::build(const config::Recipe& r, const fs::path& work_dir,
                                           const ProgressFn& progress) {
  if (!r.supports(config::BackendKind::kVm))
    return util::fail("recipe '{}' has no vm backend", r.name);
  if (r.cloud()) {
    auto out = cloud_.build(r, work_dir, progress);
    if (out) out->vm_boot = "cloud-init";
    return out;
  }
  return build_vm_debian_image(r, work_dir, progress, {});
}

}  // namespace testbed::backends::vm
