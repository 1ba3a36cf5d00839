#pragma once
// A KVM node's disks: a qcow2 overlay over the image's base disk (reset = a new overlay)
// and a NoCloud seed ISO carrying the node's addresses, the lab's SSH key, its pinned
// host key and the recipe's cloud-config (orchestrator/images/kvm_cloud_init.h).
#include <map>
#include <mutex>
#include <string>

#include "orchestrator/images/kvm_cloud_init.h"
#include "orchestrator/virt/node_init.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed::virt {

/// Node files the LXC init needs but a cloud-init guest must not get: systemd and
/// cloud-init own hostname, hosts and the network; the keys travel as ssh_keys /
/// ssh_authorized_keys (cc_ssh would delete host keys written by write_files).
bool kvm_skips_node_file(const std::string& path);

/// The node part of a seed from the lab's boot configuration: one interface per
/// BootInterface (matched by the MAC in `spec` whose guest_dev is the same name),
/// addresses and routes, node facts for templated files (NODE_NAME, LAB_NAME).
images::NodeSeed make_kvm_node_seed(const BootConfig& boot, const NodeSpec& spec);

class KvmStorage : public NodeStorage {
 public:
  /// Registers the seed for domain `domain`; prepare() of that domain adds the request's
  /// files and keys to it. Optional: without one, prepare() derives it from req.boot
  /// (make_kvm_node_seed), which is what Lab does.
  void set_seed(const std::string& domain, images::NodeSeed seed);
  /// req.image_root is the KVM image's cache entry (base.qcow2 and the recipe's
  /// cloud-config). Creates node_dir/disk.qcow2 (overlay, `disk_size`) and
  /// node_dir/seed.iso, and sets spec->disk_path / seed_path.
  util::Status prepare(const NodeRootRequest& req, NodeSpec* spec) override;
  /// Deletes node_dir/disk.qcow2 and node_dir/seed.iso. Idempotent.
  util::Status release(const std::filesystem::path& node_dir) override;

  std::string disk_size = "10G";

 private:
  std::mutex mu_;
  std::map<std::string, images::NodeSeed> seeds_;
};

}  // namespace testbed::virt
