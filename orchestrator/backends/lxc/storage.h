#pragma once
// An LXC node's root on the host: an overlay mount (lower = the image's rootfs,
// upper/work = per-node dirs) that libvirtd sees through mount propagation
// (docs/lab-host.md). Reset = a fresh upper dir.
#include <filesystem>

#include "orchestrator/virt/node_storage.h"

namespace testbed::backends::lxc {

/// The LXC overlay: node_dir/{upper,work,root}; root is the mount point.
class OverlayStorage : public virt::NodeStorage {
 public:
  util::Status prepare(const virt::NodeRootRequest& req, virt::NodeSpec* spec) override;
  util::Status release(const std::filesystem::path& node_dir) override;
};

}  // namespace testbed::backends::lxc
