#include "orchestrator/backends/vm/type.h"

#include <fmt/format.h>
#include <libvirt/libvirt.h>

#include "orchestrator/backends/registry.h"
#include "orchestrator/backends/vm/backend.h"
#include "orchestrator/backends/vm/snapshot.h"
#include "orchestrator/backends/vm/storage.h"
#include "orchestrator/backends/vm/volumes.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/naming.h"

namespace testbed::backends::vm {
namespace {

bool is_test_uri(const std::string& uri) { return uri.rfind("test:", 0) == 0; }

util::Result<std::string> accel_for(const std::string& uri, const std::string& requested) {
  if (is_test_uri(uri)) return std::string("test");
  return resolve_accel(uri, requested);
}

util::Result<BackendParts> connect(const std::string& uri, const std::string& accel) {
  if (is_test_uri(uri)) return make_vm_backend(uri, vm_xml_options_for_test_driver());
  VmXmlOptions o;
  o.domain_type = accel == "kvm" ? "kvm" : "qemu";  // "qemu" = TCG
  auto parts = make_vm_backend(uri, std::move(o));
  if (!parts) return parts;
  // Saved states live in the lab's state dir on this machine: local hosts only.
  if (uri.rfind("qemu:///", 0) == 0)
    if (auto* lv = dynamic_cast<virt::LibvirtBackend*>(parts->backend.get()))
      parts->snapshots = std::make_unique<VmSnapshots>(lv);
  return parts;
}

void prepare_host(const std::string&) {}

util::Status attach_lab_host(BackendParts& parts) {
  auto* storage = dynamic_cast<VmStorage*>(parts.storage.get());
  auto* lv = dynamic_cast<virt::LibvirtBackend*>(parts.backend.get());
  if (!storage || !lv) return util::fail("a remote lab host needs a libvirt connection");
  auto v = HostVolumes::open(lv->connection());
  if (!v) return v.error();
  // Uploaded image files are checked where they landed: sha256sum on the lab host.
  auto host = lab_host_ssh(lv->uri());
  if (!host) return host.error();
  storage->use_volumes(std::make_shared<HostVolumes>(std::move(*v)), sha256_on_lab_host(*host));
  parts.snapshots.reset();  // the node disks are volumes there; states are not (yet)
  return {};
}

void provenance(virt::Backend& backend, const std::string& accel,
                std::map<std::string, std::string>* out) {
  if (accel.empty()) return;
  (*out)["accel"] = accel;
  auto* lv = dynamic_cast<virt::LibvirtBackend*>(&backend);
  unsigned long hv = 0;
  if (lv && virConnectGetVersion(lv->connection(), &hv) == 0)
    (*out)["qemu_version"] = fmt::format("{}.{}.{}", hv / 1000000, hv / 1000 % 1000, hv % 1000);
}

// A remote lab's node disks are volumes on its host: "<domain>.qcow2" and
// "<domain>-seed.iso" (domain names start with tb-<lab>-; base images stay cached).
util::Status remove_lab_storage(virt::Backend& backend, const std::string& uri,
                                const std::string& lab) {
  auto* lv = dynamic_cast<virt::LibvirtBackend*>(&backend);
  if (!lv) return {};
  auto v = HostVolumes::open_existing(lv->connection());
  if (!v) return util::fail("node volumes on {}: {}", uri, v.error().message);
  if (!*v) return {};
  auto names = (*v)->list();
  if (!names) return util::fail("node volumes on {}: {}", uri, names.error().message);
  std::string errors;
  const std::string prefix = virt::domain_name(lab, "");
  for (const auto& vol : *names)
    if (vol.rfind(prefix, 0) == 0 && vol.find(".complete") == std::string::npos)
      if (auto s = (*v)->remove(vol); !s) errors += (errors.empty() ? "" : "\n") + s.error().message;
  if (!errors.empty()) return util::fail("{}", errors);
  return {};
}

}  // namespace

const Type& type() {
  static const Type t{
      config::BackendKind::kVm,
      "qemu",
      "qemu:///system",
      // VMs boot a kernel, under TCG emulated.
      std::chrono::milliseconds(300000),
      // A VM has no host page cache to lean on: 1 GiB holds the LAMP target's MariaDB,
      // Apache and PHP with room for Nmap's OS database on the scanner.
      1024,
      /*remote_hosts=*/true,
      "",
      &accel_for,
      &connect,
      &prepare_host,
      &attach_lab_host,
      &provenance,
      &remove_lab_storage,
  };
  return t;
}

}  // namespace testbed::backends::vm
