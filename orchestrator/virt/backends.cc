#include "orchestrator/virt/backends.h"

#include "orchestrator/virt/kvm_backend.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/xml.h"

namespace testbed::virt {

namespace {

bool has_scheme(const std::string& uri, const std::string& driver) {
  // driver:// or driver+transport://
  if (uri.rfind(driver, 0) != 0) return false;
  char next = uri.size() > driver.size() ? uri[driver.size()] : '\0';
  return next == ':' || next == '+';
}

}  // namespace

std::string backend_kind_for_uri(const std::string& uri) {
  if (has_scheme(uri, "qemu")) return "kvm";
  if (has_scheme(uri, "lxc") || has_scheme(uri, "test")) return "lxc";
  return "";
}

bool is_remote_uri(const std::string& uri) {
  auto p = uri.find("://");
  if (p == std::string::npos) return false;
  std::string rest = uri.substr(p + 3);
  std::string host = rest.substr(0, rest.find('/'));
  if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  if (auto colon = host.find(':'); colon != std::string::npos) host = host.substr(0, colon);
  return !host.empty() && host != "localhost";
}

util::Status check_lab_host_is_local(const std::string& uri) {
  if (!is_remote_uri(uri)) return {};
  return util::fail(
      "a lab on the remote libvirt host {} is not supported by this build: node disks and "
      "seeds are made, the router is captured and nodes are reached over SSH on this "
      "machine, and the remote host's lab networks are not reachable from here. Run "
      "testbed on the lab host itself (uri: {}:///system there), one experiment per host",
      uri, backend_kind_for_uri(uri) == "kvm" ? "qemu" : "lxc");
}

util::Result<BackendParts> make_backend(const std::string& uri, const std::string& kind_in) {
  std::string implied = backend_kind_for_uri(uri);
  if (implied.empty())
    return util::fail(
        "no node backend for libvirt URI '{}' (supported: lxc:///system and lxc+ssh://HOST/ "
        "for containers, qemu:///system and qemu+ssh://HOST/system for KVM, test:///default "
        "in tests)",
        uri);
  std::string kind = kind_in.empty() ? implied : kind_in;
  bool test = has_scheme(uri, "test");
  if (kind != "lxc" && kind != "kvm")
    return util::fail("unknown backend '{}' (known: lxc, kvm)", kind);
  if (!test && kind != implied)
    return util::fail("backend '{}' cannot run on libvirt URI '{}' (a {} URI): use {}", kind, uri,
                      implied,
                      kind == "kvm" ? "qemu:///system or qemu+ssh://HOST/system" : "lxc:///system");
  if (kind == "kvm")
    return make_kvm_backend(uri, test ? kvm_xml_options_for_test_driver() : KvmXmlOptions{});
  auto b = LibvirtBackend::connect(uri, std::make_unique<LxcXml>());
  if (!b) return b.error();
  return BackendParts{std::move(*b), std::make_unique<OverlayStorage>()};
}

}  // namespace testbed::virt
