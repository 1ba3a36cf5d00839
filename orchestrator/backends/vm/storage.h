#pragma once
// A KVM node's disks: a qcow2 overlay over the image's base disk (reset = a new overlay)
// and a NoCloud seed ISO carrying the node's addresses, the lab's SSH key, its pinned
// host key and the recipe's cloud-config (orchestrator/backends/vm/cloud_init.h).
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "orchestrator/backends/vm/cloud_init.h"
#include "orchestrator/virt/node_init.h"
#include "orchestrator/virt/node_storage.h"
#include "orchestrator/backends/vm/volumes.h"
#include "orchestrator/backends/vm/remote_boot.h"

namespace testbed::backends::vm {
using virt::NodeSpec;
using virt::NodeStorage;
using virt::NodeRootRequest;
using virt::BootConfig;
using virt::BootInterface;

/// Node files the LXC init needs but a cloud-init guest must not get: systemd and
/// cloud-init own hostname, hosts and the network; the keys travel as ssh_keys /
/// ssh_authorized_keys (cc_ssh would delete host keys written by write_files).
bool vm_skips_node_file(const std::string& path);

/// The node part of a seed from the lab's boot configuration: one interface per
/// BootInterface (matched by the MAC in `spec` whose guest_dev is the same name),
/// addresses and routes, node facts for templated files (NODE_NAME, LAB_NAME).
backends::vm::NodeSeed make_vm_node_seed(const BootConfig& boot, const NodeSpec& spec);

/// /testbed/vm-interfaces for a VM node booted by testbed's init: "MAC NAME" per NIC, so
/// vm-init names each interface as the lab's networks (what LXC's <guest dev> does).
std::string vm_interfaces_file(const NodeSpec& spec);

/// A VM node's disks. Images built here (vm_builder.h: base.qcow2 + vmlinuz + initrd.img)
/// boot the image's own kernel with testbed's init: node_dir/disk.qcow2 (overlay) and
/// node_dir/config.tar (every file of the request, /testbed/vm-interfaces and the image
/// manifest as /testbed/image.json; the config disk). Cloud images (kvm_builder.h) get an
/// overlay and a NoCloud seed instead.
class VmStorage : public NodeStorage {
 public:
  /// Registers the seed for domain `domain`; prepare() of that domain adds the request's
  /// files and keys to it. Optional: without one, prepare() derives it from req.boot
  /// (make_vm_node_seed), which is what Lab does.
  void set_seed(const std::string& domain, backends::vm::NodeSeed seed);
  /// req.image_root is the KVM image's cache entry (base.qcow2 and the recipe's
  /// cloud-config). Creates node_dir/disk.qcow2 (overlay, `disk_size`) and
  /// node_dir/seed.iso, and sets spec->disk_path / seed_path.
  util::Status prepare(const NodeRootRequest& req, NodeSpec* spec) override;
  /// Deletes node_dir/disk.qcow2 and node_dir/seed.iso (or the node's volumes). Idempotent.
  util::Status release(const std::filesystem::path& node_dir) override;

  /// A remote lab host: the disks live there as volumes. prepare() uploads the image's
  /// base disk once (volume "base-<image>-<manifest hash>.qcow2"), creates the overlay
  /// "<domain>.qcow2" over it and uploads the seed as "<domain>-seed.iso"; spec paths
  /// are the volumes' paths on that host.
  /// Images built here go there too (remote_boot.h): base disk, kernel and initrd
  /// once per build, checked with `sha256` (computed on the lab host) when given.
  void use_volumes(std::shared_ptr<HostVolumes> volumes, RemoteSha256 sha256 = {}) {
    volumes_ = std::move(volumes);
    remote_sha256_ = std::move(sha256);
  }

  std::string disk_size = "10G";

 private:
  util::Status prepare_kernel_boot(const NodeRootRequest& req, const std::filesystem::path& entry,
                                  NodeSpec* spec);
  util::Status prepare_volumes(const std::filesystem::path& entry, const std::filesystem::path& iso,
                               const std::filesystem::path& node_dir, NodeSpec* spec);
  std::mutex mu_;
  std::map<std::string, backends::vm::NodeSeed> seeds_;
  std::shared_ptr<HostVolumes> volumes_;
  RemoteSha256 remote_sha256_;
  std::mutex upload_mu_;  ///< one image upload at a time (nodes share images)
  std::map<std::filesystem::path, std::string> domains_;  ///< node dir -> domain (volumes)
};

/// "10G", "512M", "1T", "4096" (bytes) as bytes; 0 when it is none of these.
uint64_t parse_disk_size(const std::string& size);

}  // namespace testbed::backends::vm
