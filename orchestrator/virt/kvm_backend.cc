#include "orchestrator/virt/kvm_backend.h"

#include <filesystem>

#include "orchestrator/virt/kvm_storage.h"
#include "orchestrator/virt/libvirt_backend.h"

namespace testbed::virt {

util::Status check_local_kvm(const std::string& uri, const std::string& dev_kvm) {
  bool local = uri.rfind("qemu:///", 0) == 0;  // qemu+ssh://host/... is checked there by libvirt
  std::error_code ec;
  if (local && !std::filesystem::exists(dev_kvm, ec))
    return util::fail(
        "the KVM backend ({}) needs {} and this host has none (no hardware "
        "virtualisation, or the kvm module is not loaded): use `backend: lxc`, or "
        "run testbed on a KVM host",
        uri, dev_kvm);
  return {};
}

util::Result<BackendParts> make_kvm_backend(const std::string& uri, KvmXmlOptions opts) {
  if (auto s = check_local_kvm(uri); !s) return s.error();
  auto b = LibvirtBackend::connect(uri, std::make_unique<KvmXml>(std::move(opts)));
  if (!b) return b.error();
  return BackendParts{std::move(*b), std::make_unique<KvmStorage>()};
}

}  // namespace testbed::virt
