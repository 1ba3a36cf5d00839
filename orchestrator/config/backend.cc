#include "orchestrator/config/backend.h"

namespace testbed::config {

std::optional<BackendKind> parse_backend_kind(std::string_view name) {
  if (name == "lxc") return BackendKind::kLxc;
  if (name == "vm" || name == "kvm") return BackendKind::kVm;  // kvm: the older spelling
  return std::nullopt;
}

const char* backend_name(BackendKind k) { return k == BackendKind::kVm ? "vm" : "lxc"; }

const char* backend_name(std::optional<BackendKind> k) { return k ? backend_name(*k) : ""; }

std::string normalise_backend(std::string_view name) {
  auto k = parse_backend_kind(name);
  return k ? backend_name(*k) : std::string(name);
}

std::string backend_names(const std::vector<BackendKind>& kinds) {
  std::string out;
  for (BackendKind k : kinds) out += (out.empty() ? "" : ", ") + std::string(backend_name(k));
  return out;
}

}  // namespace testbed::config
