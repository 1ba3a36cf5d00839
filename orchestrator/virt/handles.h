#pragma once
// Move-only RAII wrappers for libvirt's C handles. Each deleter is noexcept and
// releases exactly the reference the wrapper owns (virConnectClose / virDomainFree /
// virNetworkFree / virStoragePoolFree / virStorageVolFree / virStreamFree); freeing a domain or
// network handle never stops or undefines it.
#include <libvirt/libvirt.h>
#include <signal.h>

#include <memory>
#include <string>
#include <type_traits>

#include "orchestrator/util/result.h"

namespace testbed::virt {

/// Blocks SIGPIPE in this thread for its lifetime and discards one raised meanwhile.
/// libvirt writes to its daemon socket with write(2) and blocks SIGPIPE only around its
/// own poll(), restoring the mask afterwards: a call on a connection that libvirtd closed
/// (the daemon stopped or restarted) would otherwise end testbed with SIGPIPE (exit 141)
/// instead of returning the error. libvirt asks applications to ignore SIGPIPE; this keeps
/// the rest of testbed (its stdout, pipes to child processes) as it was.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_;
};

struct ConnectCloser {
  void operator()(virConnectPtr c) const noexcept {
    SigpipeGuard no_sigpipe;  // closing tells the daemon, which may be gone
    virConnectClose(c);
  }
};
struct DomainFreer {
  void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};
struct NetworkFreer {
  void operator()(virNetworkPtr n) const noexcept { virNetworkFree(n); }
};

using ConnectHandle = std::unique_ptr<std::remove_pointer_t<virConnectPtr>, ConnectCloser>;
using DomainHandle = std::unique_ptr<std::remove_pointer_t<virDomainPtr>, DomainFreer>;
using NetworkHandle = std::unique_ptr<std::remove_pointer_t<virNetworkPtr>, NetworkFreer>;

struct PoolFreer {
  void operator()(virStoragePoolPtr p) const noexcept { virStoragePoolFree(p); }
};
struct VolFreer {
  void operator()(virStorageVolPtr v) const noexcept { virStorageVolFree(v); }
};
struct StreamFreer {
  void operator()(virStreamPtr s) const noexcept { virStreamFree(s); }
};
using PoolHandle = std::unique_ptr<std::remove_pointer_t<virStoragePoolPtr>, PoolFreer>;
using VolHandle = std::unique_ptr<std::remove_pointer_t<virStorageVolPtr>, VolFreer>;
using StreamHandle = std::unique_ptr<std::remove_pointer_t<virStreamPtr>, StreamFreer>;

/// libvirt's message for the last failure on this thread ("no error" if none).
std::string last_libvirt_error();

/// Opens a read-write connection to `uri`. Silences libvirt's default stderr error
/// printer (errors are reported through Result instead).
util::Result<ConnectHandle> open_connection(const std::string& uri);

}  // namespace testbed::virt
