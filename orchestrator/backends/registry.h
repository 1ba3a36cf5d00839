#pragma once
// Lab backends: one folder each (lxc/, vm/), each with its registry entry (type.h: domain
// XML, node storage, acceleration, remote hosts, provenance) and listed in registry.cc, one
// line each. The one place that maps a libvirt URI and the experiment's `backend:` to a
// backend. Adding a backend = a folder with its type.cc + one line in registry.cc.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/backends/type.h"
#include "orchestrator/config/backend.h"
#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"
#include "orchestrator/virt/backend.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed::backends {

/// The registered backends, in registration order.
const std::vector<const Type*>& types();
/// The entry of `kind` (every BackendKind is registered).
const Type& type_of(config::BackendKind kind);

/// The node backend a URI implies: kVm for qemu:///… and qemu+ssh://…/system, kLxc for
/// lxc:///… and lxc+ssh://…, kLxc for test:///… (libvirt's mock driver, which takes
/// either: pass the kind explicitly), nullopt for anything else.
std::optional<config::BackendKind> backend_kind_for_uri(const std::string& uri);

/// True when `uri` names another machine (qemu+ssh://lab1/system); false for the local
/// daemon (qemu:///system, lxc:///, test:///default, …://localhost/…).
bool is_remote_uri(const std::string& uri);

/// Lab::up's check for a remote URI: a remote lab host works with the KVM backend only
/// (node disks are storage volumes there, the capture and the SSH to the nodes go through
/// the host); LXC roots are overlay mounts made on the machine running testbed, so a
/// remote LXC host is refused, saying what to do instead. Success for local URIs.
/// `kind` as for make_backend (nullopt = implied by the URI).
util::Status check_remote_lab_host(const std::string& uri,
                                   std::optional<config::BackendKind> kind = std::nullopt);

/// Whether libvirt answers at `uri`, said before anything is built or created: the
/// connection's error (libvirt's message and what to do) when the local daemon does not
/// answer. Success for remote URIs (checked when their lab comes up, over SSH).
util::Status check_libvirt_answers(const std::string& uri);

/// How testbed reaches a remote lab host over SSH (the capture, the jump to the nodes,
/// the host's addresses): the URI's user (default: this user), host and port, its
/// `keyfile` parameter (default: ~/.ssh/id_ed25519, id_ecdsa or id_rsa, the first that
/// exists) and its `known_hosts` parameter (default: ~/.ssh/known_hosts) — the same
/// trust libvirt's own ssh transport uses. Fails naming what is missing.
util::Result<remote::SshJump> lab_host_ssh(const std::string& uri);

/// `kind` kLxc: LibvirtBackend + LxcXml + OverlayStorage (lxc:… or test:…).
/// `kind` kVm: LibvirtBackend + VmXml + VmStorage on qemu:… with the domain type `accel`
/// resolves to (resolve_accel: <domain type='kvm'> or 'qemu' for TCG), or on test:… with
/// the XML options the mock driver accepts, so the VM path is unit-tested up to the
/// hypervisor.
/// `kind` nullopt: backend_kind_for_uri(uri). A kind that does not fit the URI (lxc on
/// qemu:///system) and unknown schemes fail, naming what is supported. Does not connect
/// before those checks pass. (Names are read by config::parse_backend_kind.)
util::Result<BackendParts> make_backend(const std::string& uri,
                                        std::optional<config::BackendKind> kind = std::nullopt,
                                        const std::string& accel = "auto");

}  // namespace testbed::backends
