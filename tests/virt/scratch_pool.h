#pragma once
// A storage pool of a test's own on the local libvirtd (standing in for a remote lab
// host's pool): a directory pool in a temp dir, destroyed and undefined at the end.
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "orchestrator/util/files.h"
#include "tests/host_capability.h"
#include "orchestrator/virt/handles.h"
#include "orchestrator/backends/vm/volumes.h"

namespace testbed::virt::testing {
using backends::vm::PoolSettings;

class ScratchPool {
 public:
  ScratchPool() = default;
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;
  /// Connects and picks the pool's name and directory (HostVolumes::open creates it).
  /// Returns why the test cannot run here (skip), empty when it can.
  /// A failed connection to a daemon that is there is a failure (ADD_FAILURE), not a skip.
  std::string open(const std::string& tag) {
    if (auto why = testbed::testing::libvirt_missing(); !why.empty()) return why;
    auto c = open_connection("lxc:///system");
    if (!c) {
      ADD_FAILURE() << "libvirt is running but lxc:///system did not connect: " << c.error().message;
      return "(failed above)";
    }
    conn_ = std::move(*c);
    auto d = util::TempDir::create(tag);
    if (!d) {
      ADD_FAILURE() << d.error().message;
      return "(failed above)";
    }
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
