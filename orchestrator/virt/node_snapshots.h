#pragma once
// A node's saved running state: reset = restore instead of boot. One implementation per
// backend that has one (backends/vm/snapshot.h: libvirt save/restore of a QEMU guest over
// a frozen disk); a backend without one leaves BackendParts::snapshots empty and its
// nodes boot on every reset.
//
// Layout under a node's state dir (the lab's nodes/<node>/), one state per image the node
// ran (the scanner node is re-imaged per scanner version):
//   states/<image>/memory.save   memory + device state (and the domain XML, pointing at
//                                the files below and at the node's fresh disk layer)
//   states/<image>/disk.qcow2    the disk as it was when the state was taken (read-only
//                                from then on: every restore gets a new layer over it)
//   states/<image>/config.tar    the node's config disk (or seed.iso) of that image
//   states/<image>/state.json    sha256, size, when taken, how long save and restore took;
//                                written last: a state without it is incomplete
#include <cstdint>
#include <filesystem>
#include <string>

#include "orchestrator/util/result.h"

namespace testbed::virt {

struct SavedState {
  std::string image;          ///< the image the node ran when the state was taken
  std::filesystem::path dir;  ///< states/<image>/
  std::string sha256;         ///< of memory.save and disk.qcow2 (one hash over both)
  int64_t taken = 0;          ///< UNIX time the state was saved
  uint64_t bytes = 0;         ///< disk use of the state (all its files)
  double save_seconds = 0;    ///< how long saving took (when taken)
};

class NodeSnapshots {
 public:
  virtual ~NodeSnapshots() = default;
  /// The node (domain `domain`, state dir `node_dir`) runs `image`, is ready and has
  /// never been scanned: saves its running state as states/<image>/ and restores it at
  /// once into a fresh disk layer, so every run of this node starts from a restore.
  virtual util::Result<SavedState> capture(const std::string& domain,
                                           const std::filesystem::path& node_dir,
                                           const std::string& image) = 0;
  /// The complete state of `image` for this node, checked (size and hash): an error says
  /// what is missing or damaged (the caller boots instead).
  virtual util::Result<SavedState> find(const std::filesystem::path& node_dir,
                                        const std::string& image) = 0;
  /// Stops the domain (it may run), gives it a fresh disk layer over the state's frozen
  /// disk and restores the state; the guest runs again as it was when saved.
  virtual util::Status restore(const std::string& domain, const std::filesystem::path& node_dir,
                               const SavedState& state) = 0;
  /// Deletes the state of `image` (all of it when empty). Idempotent.
  virtual util::Status remove(const std::filesystem::path& node_dir, const std::string& image) = 0;
};

/// Bytes used by every saved state under `node_dir`/states (0 when none).
uint64_t saved_state_bytes(const std::filesystem::path& node_dir);

}  // namespace testbed::virt
