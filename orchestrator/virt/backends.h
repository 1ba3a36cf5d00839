#pragma once
// The one place that maps a libvirt URI (and the experiment's `backend:`) to a backend:
// the Backend (libvirt objects, with its XmlGenerator) and the NodeStorage (node roots).
#include <memory>
#include <string>

#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"
#include "orchestrator/virt/backend.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed::virt {

struct BackendParts {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<NodeStorage> storage;
};

/// The node backend a URI implies: "vm" for qemu:///… and qemu+ssh://…/system,
/// "lxc" for lxc:///… and lxc+ssh://…, "lxc" for test:///… (libvirt's mock driver, which
/// takes either: pass the kind explicitly), "" for anything else.
std::string backend_kind_for_uri(const std::string& uri);

/// True when `uri` names another machine (qemu+ssh://lab1/system); false for the local
/// daemon (qemu:///system, lxc:///, test:///default, …://localhost/…).
bool is_remote_uri(const std::string& uri);

/// Lab::up's check for a remote URI: a remote lab host works with the KVM backend only
/// (node disks are storage volumes there, the capture and the SSH to the nodes go through
/// the host); LXC roots are overlay mounts made on the machine running testbed, so a
/// remote LXC host is refused, saying what to do instead. Success for local URIs.
/// `kind` as for make_backend ("" = implied by the URI).
util::Status check_remote_lab_host(const std::string& uri, const std::string& kind = "");

/// How testbed reaches a remote lab host over SSH (the capture, the jump to the nodes,
/// the host's addresses): the URI's user (default: this user), host and port, its
/// `keyfile` parameter (default: ~/.ssh/id_ed25519, id_ecdsa or id_rsa, the first that
/// exists) and its `known_hosts` parameter (default: ~/.ssh/known_hosts) — the same
/// trust libvirt's own ssh transport uses. Fails naming what is missing.
util::Result<remote::SshJump> lab_host_ssh(const std::string& uri);

/// `kind` "lxc": LibvirtBackend + LxcXml + OverlayStorage (lxc:… or test:…).
/// `kind` "vm" (or its older spelling "kvm"): LibvirtBackend + KvmXml + KvmStorage on
/// qemu:… with the domain type `accel` resolves to (resolve_accel: <domain type='kvm'> or
/// 'qemu' for TCG), or on test:… with the XML options the mock driver accepts, so the VM
/// path is unit-tested up to the hypervisor.
/// `kind` "": backend_kind_for_uri(uri). A kind that does not fit the URI (lxc on
/// qemu:///system) and unknown schemes fail, naming what is supported. Does not connect
/// before those checks pass.
util::Result<BackendParts> make_backend(const std::string& uri, const std::string& kind = "",
                                        const std::string& accel = "auto");

}  // namespace testbed::virt
