#include "orchestrator/virt/backends.h"

#include <cstdlib>
#include <filesystem>

#include "orchestrator/config/backend.h"
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

std::optional<config::BackendKind> backend_kind_for_uri(const std::string& uri) {
  if (has_scheme(uri, "qemu")) return config::BackendKind::kVm;
  if (has_scheme(uri, "lxc") || has_scheme(uri, "test")) return config::BackendKind::kLxc;
  return std::nullopt;
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

util::Status check_remote_lab_host(const std::string& uri,
                                   std::optional<config::BackendKind> kind) {
  if (!is_remote_uri(uri)) return {};
  if ((kind ? kind : backend_kind_for_uri(uri)) == config::BackendKind::kVm) return {};
  return util::fail(
      "a lab on the remote libvirt host {} needs the VM backend (qemu+ssh://HOST/system): "
      "LXC node roots are overlay mounts made on the machine running testbed. Run testbed "
      "on that host itself (uri: lxc:///system there), or use `backend: vm` there",
      uri);
}

util::Result<remote::SshJump> lab_host_ssh(const std::string& uri) {
  auto p = uri.find("://");
  if (p == std::string::npos || !is_remote_uri(uri))
    return util::fail("'{}' does not name a remote lab host", uri);
  std::string rest = uri.substr(p + 3);
  std::string authority = rest.substr(0, rest.find('/'));
  std::string query;
  if (auto q = rest.find('?'); q != std::string::npos) query = rest.substr(q + 1);
  remote::SshJump j;
  const char* home = std::getenv("HOME");
  const std::filesystem::path ssh_dir =
      std::filesystem::path(home && *home ? home : "/root") / ".ssh";
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    j.user = authority.substr(0, at);
    authority = authority.substr(at + 1);
  } else if (const char* u = std::getenv("USER"); u && *u) {
    j.user = u;
  }
  if (auto colon = authority.rfind(':');
      colon != std::string::npos && authority.find(']') == std::string::npos) {
    try {
      j.port = std::stoi(authority.substr(colon + 1));
    } catch (const std::exception&) {
      return util::fail("{}: bad port '{}'", uri, authority.substr(colon + 1));
    }
    authority = authority.substr(0, colon);
  }
  j.host = authority;
  for (size_t pos = 0; pos <= query.size() && !query.empty();) {
    size_t amp = query.find('&', pos);
    std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (auto eq = kv.find('='); eq != std::string::npos) {
      std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
      if (k == "keyfile") j.identity_file = v;
      if (k == "known_hosts") j.known_hosts_file = v;
    }
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  if (j.identity_file.empty()) {
    for (const char* f : {"id_ed25519", "id_ecdsa", "id_rsa"})
      if (std::filesystem::exists(ssh_dir / f)) {
        j.identity_file = ssh_dir / f;
        break;
      }
    if (j.identity_file.empty())
      return util::fail(
          "lab host {}: no SSH key (none of {}/id_ed25519, id_ecdsa, id_rsa; or give "
          "?keyfile=PATH in the URI); testbed logs in to the lab host as libvirt does",
          uri, ssh_dir.string());
  } else if (!std::filesystem::exists(j.identity_file)) {
    return util::fail("lab host {}: keyfile {} does not exist", uri, j.identity_file.string());
  }
  if (j.known_hosts_file.empty()) j.known_hosts_file = ssh_dir / "known_hosts";
  if (!std::filesystem::exists(j.known_hosts_file))
    return util::fail(
        "lab host {}: {} does not exist; its host key must be pinned there (log in once with "
        "`ssh -p {} {}@{}` and check the fingerprint, or give ?known_hosts=PATH)",
        uri, j.known_hosts_file.string(), j.port, j.user, j.host);
  return j;
}

util::Result<BackendParts> make_backend(const std::string& uri,
                                        std::optional<config::BackendKind> kind_in,
                                        const std::string& accel) {
  using config::BackendKind;
  const std::optional<BackendKind> implied = backend_kind_for_uri(uri);
  if (!implied)
    return util::fail(
        "no node backend for libvirt URI '{}' (supported: lxc:///system and lxc+ssh://HOST/ "
        "for containers, qemu:///system and qemu+ssh://HOST/system for VMs, test:///default "
        "in tests)",
        uri);
  const BackendKind kind = kind_in.value_or(*implied);
  bool test = has_scheme(uri, "test");
  if (!test && kind != *implied)
    return util::fail(
        "backend '{}' cannot run on libvirt URI '{}' (a {} URI): use {}",
        config::backend_name(kind), uri, config::backend_name(*implied),
        kind == BackendKind::kVm ? "qemu:///system or qemu+ssh://HOST/system" : "lxc:///system");
  if (kind == BackendKind::kVm) {
    if (test) return make_vm_backend(uri, kvm_xml_options_for_test_driver());
    auto a = resolve_accel(uri, accel);
    if (!a) return a.error();
    KvmXmlOptions o;
    o.domain_type = *a == "kvm" ? "kvm" : "qemu";
    return make_vm_backend(uri, std::move(o));
  }
  auto b = LibvirtBackend::connect(uri, std::make_unique<LxcXml>());
  if (!b) return b.error();
  return BackendParts{std::move(*b), std::make_unique<OverlayStorage>()};
}

}  // namespace testbed::virt
