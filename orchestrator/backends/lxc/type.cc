#include "orchestrator/backends/lxc/type.h"

#include <filesystem>

#include "orchestrator/backends/lxc/storage.h"
#include "orchestrator/backends/lxc/xml.h"
#include "orchestrator/virt/libvirt_backend.h"

namespace testbed::backends::lxc {
namespace {

util::Result<std::string> no_accel(const std::string&, const std::string&) { return std::string(); }

util::Result<BackendParts> connect(const std::string& uri, const std::string&) {
  auto b = virt::LibvirtBackend::connect(uri, std::make_unique<LxcXml>());
  if (!b) return b.error();
  return BackendParts{std::move(*b), std::make_unique<OverlayStorage>()};
}

void prepare_host(const std::string& uri) {
  // libvirt writes <bridge>.macs for networks with an <ip> here, but a package install
  // without its postinst (no systemd here) may not have created the directory.
  if (uri.rfind("lxc:///", 0) != 0) return;
  std::error_code ec;
  std::filesystem::create_directories("/var/lib/libvirt/dnsmasq", ec);
}

util::Status no_lab_host(BackendParts&) { return {}; }
void no_provenance(virt::Backend&, const std::string&, std::map<std::string, std::string>*) {}
util::Status no_storage(virt::Backend&, const std::string&, const std::string&) { return {}; }

}  // namespace

const Type& type() {
  static const Type t{
      config::BackendKind::kLxc,
      "lxc",
      "lxc:///system",
      std::chrono::milliseconds(90000),
      512,
      /*remote_hosts=*/false,
      "LXC node roots are overlay mounts made on the machine running testbed. Run testbed "
      "on that host itself (uri: lxc:///system there), or use `backend: vm` there",
      &no_accel,
      &connect,
      &prepare_host,
      &no_lab_host,
      &no_provenance,
      &no_storage,
  };
  return t;
}

}  // namespace testbed::backends::lxc
