#include "orchestrator/virt/backends.h"

#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/xml.h"

namespace testbed::virt {

util::Result<BackendParts> make_backend(const std::string& uri) {
  if (uri.rfind("lxc:", 0) == 0 || uri.rfind("test:", 0) == 0) {
    auto b = LibvirtBackend::connect(uri, std::make_unique<LxcXml>());
    if (!b) return b.error();
    return BackendParts{std::move(*b), std::make_unique<OverlayStorage>()};
  }
  // qemu:///system (KVM): KvmXml + a qcow2-overlay/NoCloud-seed NodeStorage go here.
  return util::fail(
      "no node backend for libvirt URI '{}' in this build (supported: lxc:///system, "
      "test:///default)",
      uri);
}

}  // namespace testbed::virt
