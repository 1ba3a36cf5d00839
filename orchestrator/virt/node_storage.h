#pragma once
// A node's root file system or disks on the host, one NodeStorage per backend
// (backends/lxc/storage.h: an overlay mount; backends/vm/storage.h: a qcow2 overlay and a
// config disk or NoCloud seed), and the one reader of /proc/self/mountinfo.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"
#include "orchestrator/virt/backend.h"

namespace testbed::virt {

struct BootConfig;  // node_init.h

/// A file placed into the node's root before boot (path is absolute inside the node).
struct NodeFile {
  std::string content;
  unsigned mode = 0644;
};

struct NodeRootRequest {
  std::filesystem::path node_dir;    ///< per-node state dir (created if needed, owned by the lab)
  std::filesystem::path image_root;  ///< the image's root file system (read-only lower layer)
  std::map<std::string, NodeFile> files;
  /// The node's boot configuration (addresses, routes), for storages that configure the
  /// node themselves (KVM: the cloud-init seed). Owned by the caller; may be null.
  const BootConfig* boot = nullptr;
};

class NodeStorage {
 public:
  virtual ~NodeStorage() = default;
  /// Creates a fresh root for the node (discarding any previous one) with `files` in it
  /// and fills the root fields of `spec`.
  virtual util::Status prepare(const NodeRootRequest& req, NodeSpec* spec) = 0;
  /// Unmounts and deletes the node's root (not the rest of node_dir). Idempotent.
  virtual util::Status release(const std::filesystem::path& node_dir) = 0;
};

/// Mount points at or below `dir`, deepest first (from /proc/self/mountinfo).
std::vector<std::string> mounts_under(const std::filesystem::path& dir);
/// Unmounts (lazily if busy) every mount at or below `dir`.
util::Status unmount_all_under(const std::filesystem::path& dir);

}  // namespace testbed::virt
