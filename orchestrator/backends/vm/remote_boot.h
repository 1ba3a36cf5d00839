#pragma once
// Images built here (builder.h: base.qcow2 + vmlinuz + initrd.img + manifest) on a
// remote lab host: the three files travel to the host's `testbed` pool through libvirt's
// stream API once per image build (volume names carry the manifest's hash), each checked
// there by SHA-256 before its completion mark is written; a node then boots the kernel
// and initrd volumes directly, from a qcow2 overlay volume over the base, with its
// config disk (config.tar) uploaded as a volume of its own.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "orchestrator/backends/vm/volumes.h"
#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"
#include "orchestrator/virt/backend.h"

namespace testbed::backends::vm {

/// Computes a file's SHA-256 on the lab host (hex), given its path there.
using RemoteSha256 = std::function<util::Result<std::string>(const std::string& path)>;

/// `sha256sum PATH` on the lab host `host` over SSH (how uploads are checked there).
RemoteSha256 sha256_on_lab_host(const remote::SshJump& host);

/// Where an image's files live on a lab host (volume paths there).
struct RemoteVmImage {
  std::string disk, kernel, initrd;
  uint64_t disk_virtual_size = 0;  ///< bytes (the overlay's capacity)
  int uploaded = 0;                ///< files sent this time (0: all were there already)
};

/// The volume name of `file` of the image whose cache entry is `entry`:
/// "img-<image>-<12 hex of sha256(manifest.json)>-<file>".
util::Result<std::string> image_volume_name(const std::filesystem::path& entry,
                                            const std::string& file);

/// Uploads the image's base disk, kernel and initrd unless complete volumes of theirs
/// exist; with `sha256`, each upload is compared with the local file's hash first.
util::Result<RemoteVmImage> ensure_vm_image_on_host(HostVolumes& volumes,
                                                    const std::filesystem::path& entry,
                                                    const RemoteSha256& sha256);

/// A node of that image on the lab host: overlay "<domain>.qcow2" over the base volume,
/// `config_tar` (the local config disk) uploaded as "<domain>-config.tar"; fills the
/// spec's disk, config disk, kernel, initrd (the caller sets the command line).
util::Status prepare_remote_vm_node(HostVolumes& volumes, const RemoteVmImage& image,
                                    const std::filesystem::path& config_tar, virt::NodeSpec* spec);

/// The names of the volumes prepare_remote_vm_node makes for `domain` (release deletes them).
std::vector<std::string> remote_vm_node_volumes(const std::string& domain);

}  // namespace testbed::backends::vm
