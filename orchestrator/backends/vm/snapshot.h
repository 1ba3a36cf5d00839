#pragma once
// Snapshot resets of VM nodes: libvirt's save/restore of the running guest (memory and
// device state) over a frozen copy of its disk. Why save/restore and not an external
// snapshot with memory (virDomainSnapshotCreateXML): a restore of an external snapshot
// is a revert, which libvirt 9.0 (bookworm) refuses for external snapshots; save/restore
// is one file per state, starts a guest in ~1.6 s under TCG, and needs no snapshot
// metadata in libvirt that a crashed run would leave behind (docs/backends.md).
//
// capture(): virDomainSave stops the ready guest, its disk layer (nodes/<node>/disk.qcow2)
// moves into the state and is never written again, the state's domain XML is pointed at
// the state's config disk, and the guest is restored at once over a fresh layer.
// restore(): remove the domain, a new nodes/<node>/disk.qcow2 over the frozen disk,
// virDomainRestore. The guest comes back as it was at capture: the lab fixes its clock,
// reseeds its RNG and flushes its neighbour tables afterwards (lab/fresh_guest.h).
#include <filesystem>
#include <string>

#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/node_snapshots.h"

namespace testbed::backends::vm {

class VmSnapshots : public virt::NodeSnapshots {
 public:
  /// `backend` is the lab's (owned by BackendParts, which outlives this object).
  explicit VmSnapshots(virt::LibvirtBackend* backend) : backend_(backend) {}

  util::Result<virt::SavedState> capture(const std::string& domain,
                                         const std::filesystem::path& node_dir,
                                         const std::string& image) override;
  util::Result<virt::SavedState> find(const std::filesystem::path& node_dir,
                                      const std::string& image) override;
  util::Status restore(const std::string& domain, const std::filesystem::path& node_dir,
                       const virt::SavedState& state) override;
  util::Status remove(const std::filesystem::path& node_dir, const std::string& image) override;

 private:
  virt::LibvirtBackend* backend_;
};

/// The state's domain XML with the node's config disk / seed paths replaced by the state
/// dir's copies (the node's own files are rewritten when it boots another image), and
/// the console log appended to rather than truncated on restore.
std::string point_saved_xml_at_state(const std::string& xml,
                                     const std::filesystem::path& node_dir,
                                     const std::filesystem::path& state_dir);

/// The check value find() compares with state.json: size, and SHA-256 of the first and
/// last MiB, of each of the state's files. Full hashes (SavedState::sha256) are taken
/// once, at capture; reading 250 MB again before every restore would cost more than the
/// restore.
util::Result<std::string> quick_check(const std::filesystem::path& state_dir);

}  // namespace testbed::backends::vm
