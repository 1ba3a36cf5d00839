#pragma once
// A storage pool of a test's own on the local libvirtd (standing in for a remote lab
// host's pool): a directory pool in a temp dir, destroyed and undefined at the end.
#include <libvirt/libvirt.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "orchestrator/util/files.h"
#include "orchestrator/virt/handles.h"
#include "orchestrator/virt/volumes.h"

namespace testbed::virt::testing {

class ScratchPool {
 public:
  ScratchPool() = default;
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;
  /// Connects and picks the pool's name and directory (HostVolumes::open creates it).
  /// Returns why the test cannot run here (skip), empty when it can.
  std::string open(const std::string& tag) {
    if (::geteuid() != 0) return "needs root and libvirtd";
    auto c = open_connection("lxc:///system");
    if (!c) return c.error().message;
    conn_ = std::move(*c);
    auto d = util::TempDir::create(tag);
    if (!d) return d.error().message;
    dir_.emplace(std::move(*d));
    settings_.name = "testbed-" + tag + "-" + std::to_string(::getpid());
    settings_.path = (dir_->path() / "pool").string();
    return "";
  }
  ~ScratchPool() {
    if (!conn_) return;
    if (virStoragePoolPtr p = virStoragePoolLookupByName(conn_.get(), settings_.name.c_str())) {
      virStoragePoolDestroy(p);
      virStoragePoolUndefine(p);
      virStoragePoolFree(p);
    }
  }
  virConnectPtr conn() const { return conn_.get(); }
  const std::filesystem::path& dir() const { return dir_->path(); }
  const PoolSettings& settings() const { return settings_; }

 private:
  ConnectHandle conn_;
  std::optional<util::TempDir> dir_;
  PoolSettings settings_;
};

}  // namespace testbed::virt::testing
