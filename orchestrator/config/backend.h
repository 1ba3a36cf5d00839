#pragma once
// The lab backend kind: LXC containers or QEMU virtual machines (KVM or TCG). The names a
// file or a command line may use, and the older spelling `kvm` for `vm`, are read here only.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace testbed::config {

enum class BackendKind { kLxc, kVm };

/// "lxc" -> kLxc; "vm" or its older spelling "kvm" -> kVm; anything else: nullopt.
std::optional<BackendKind> parse_backend_kind(std::string_view name);
/// "lxc" or "vm".
const char* backend_name(BackendKind k);
/// backend_name, or "" for a kind not given (lab.json and the image cache keep names).
const char* backend_name(std::optional<BackendKind> k);
/// Their names joined by ", " ("lxc, vm"), for messages.
std::string backend_names(const std::vector<BackendKind>& kinds);
/// The canonical name of a backend name ("kvm" -> "vm"); other text unchanged (so that a
/// message can still quote it), "" stays "".
std::string normalise_backend(std::string_view name);

}  // namespace testbed::config
