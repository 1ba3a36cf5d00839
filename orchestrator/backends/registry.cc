#include "orchestrator/backends/registry.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include <cassert>

#include "orchestrator/backends/lxc/type.h"
#include "orchestrator/backends/vm/type.h"
#include "orchestrator/config/backend.h"
#include "orchestrator/virt/handles.h"

namespace testbed::backends {

const std::vector<const Type*>& types() {
  static const std::vector<const Type*> t = {
      &lxc::type(),
      &vm::type(),
  };
  return t;
}

const Type& type_of(config::BackendKind kind) {
  for (const Type* t : types())
    if (t->kind == kind) return *t;
  assert(false && "every BackendKind has a registered backend");
  return *types().front();
}

namespace {

bool has_scheme(const std::string& uri, const std::string& driver) {
  // driver:// or driver+transport://
  if (uri.rfind(driver, 0) != 0) return false;
  char next = uri.size() > driver.size() ? uri[driver.size()] : '\0';
  return next == ':' || next == '+';
}

}  // namespace

std::optional<config::BackendKind> backend_kind_for_uri(const std::string& uri) {
  for (const Type* t : types())
    if (has_scheme(uri, t->scheme)) return t->kind;
  // libvirt's mock driver takes any kind; the first registered when none is named.
  if (has_scheme(uri, "test")) return types().front()->kind;
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
  auto k = kind ? kind : backend_kind_for_uri(uri);
  if (!k) return {};  // make_backend names the unknown scheme
  const Type& t = type_of(*k);
  if (t.remote_hosts) return {};
  std::string hosts;
  for (const Type* o : types())
    if (o->remote_hosts)
      hosts += fmt::format("{}{} ({}+ssh://HOST/system)", hosts.empty() ? "" : ", ",
                           config::backend_name(o->kind), o->scheme);
  return util::fail("a lab on the remote libvirt host {} needs a backend that runs there: {}: {}",
                    uri, hosts, t.no_remote_reason);
}

util::Status check_libvirt_answers(const std::string& uri) {
  if (is_remote_uri(uri)) return {};
  auto c = virt::open_connection(uri);
  if (!c) return c.error();
  return {};
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
  const std::optional<config::BackendKind> implied = backend_kind_for_uri(uri);
  if (!implied) {
    std::string known;
    for (const Type* t : types())
      known += fmt::format("{}:///system and {}+ssh://HOST/system for {}, ", t->scheme, t->scheme,
                           config::backend_name(t->kind));
    return util::fail("no node backend for libvirt URI '{}' (supported: {}test:///default in tests)",
                      uri, known);
  }
  const Type& t = type_of(kind_in.value_or(*implied));
  if (!has_scheme(uri, "test") && t.kind != *implied)
    return util::fail("backend '{}' cannot run on libvirt URI '{}' (a {} URI): use {}:///system",
                      config::backend_name(t.kind), uri, config::backend_name(*implied), t.scheme);
  auto a = t.resolve_accel(uri, accel);
  if (!a) return a.error();
  return t.connect(uri, *a);
}

}  // namespace testbed::backends
