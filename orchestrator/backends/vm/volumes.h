#pragma once
// Node disks on a lab host reached only through libvirt (qemu+ssh://lab1/system): the
// files a KVM node boots from are storage volumes in a directory pool on that host,
// written through libvirt's own stream API (virStorageVolUpload), so no other transfer
// channel is needed. Base images are uploaded once and named by their content hash (a
// later lab on the same host reuses them); a node's disk is a qcow2 overlay volume over
// its base, created on the host by libvirt; its seed ISO is uploaded per node.
//
// Works on any libvirt connection with the storage driver (the local daemon too, which
// is how it is tested here); libvirt's test:///default driver cannot upload.
#include <libvirt/libvirt.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"
#include "orchestrator/virt/handles.h"

namespace testbed::backends::vm {
using virt::PoolHandle;
using virt::VolHandle;
using virt::StreamHandle;

/// The pool testbed keeps on every lab host: a directory pool.
struct PoolSettings {
  std::string name = "testbed";
  std::string path = "/var/lib/testbed/pool";  ///< on the lab host
};

/// The volume XML libvirt is given for a new volume of `capacity` bytes in `format`
/// ("raw", "qcow2"), over `backing_path` (qcow2 overlays) when not empty.
std::string volume_xml(const std::string& name, uint64_t capacity, const std::string& format,
                       const std::string& backing_path = "",
                       const std::string& backing_format = "");

/// Checks an uploaded volume (its path on the lab host) before it is marked complete:
/// e.g. its SHA-256 computed there. An error fails the upload (the volume is deleted).
using VolumeCheck = std::function<util::Status(const std::string& path)>;

class HostVolumes {
 public:
  /// Finds the pool on `conn` (borrowed; must outlive this), or defines, builds and
  /// starts it; a defined but inactive pool is started.
  static util::Result<HostVolumes> open(virConnectPtr conn, const PoolSettings& pool = {});
  /// The pool if the host has it (started if inactive), else nullopt: for cleaning up,
  /// which must not create a pool on a host that never had one.
  static util::Result<std::optional<HostVolumes>> open_existing(virConnectPtr conn,
                                                                const PoolSettings& pool = {});

  /// A volume named `name` holding exactly the bytes of `local`, uploaded unless a volume
  /// of that name and size exists already (callers put a content hash in the name).
  /// Returns the volume's path on the lab host. *uploaded tells whether bytes were sent.
  /// `check`, when given, must pass before the completion mark is written.
  util::Result<std::string> ensure_uploaded(const std::string& name,
                                            const std::filesystem::path& local,
                                            bool* uploaded = nullptr,
                                            const VolumeCheck& check = {});
  /// Uploads `local` as volume `name`, replacing any volume of that name; then runs
  /// `check` (if any) and marks the volume complete.
  util::Result<std::string> upload(const std::string& name, const std::filesystem::path& local,
                                   const VolumeCheck& check = {});
  /// A new qcow2 volume `name` over the qcow2 volume at `backing_path` (replacing any
  /// volume of that name), `capacity` bytes. Returns its path on the lab host.
  util::Result<std::string> create_overlay(const std::string& name, const std::string& backing_path,
                                           uint64_t capacity);
  /// The names of the pool's volumes (completion marks included).
  util::Result<std::vector<std::string>> list();
  /// Deletes volume `name` and its completion mark; absent is fine.
  util::Status remove(const std::string& name);
  /// The path of volume `name`, or an error when there is none.
  util::Result<std::string> path_of(const std::string& name);
  /// Downloads volume `name` into `local` (tests, and checking what a host holds).
  util::Status download(const std::string& name, const std::filesystem::path& local);

  const std::string& pool_name() const { return pool_name_; }

 private:
  HostVolumes(virConnectPtr conn, PoolHandle pool, std::string name)
      : conn_(conn), pool_(std::move(pool)), pool_name_(std::move(name)) {}
  VolHandle find(const std::string& name);
  virConnectPtr conn_;
  PoolHandle pool_;
  std::string pool_name_;
};

}  // namespace testbed::backends::vm
