#pragma once
// The one place that maps a libvirt URI (and the experiment's `backend:`) to a backend:
// the Backend (libvirt objects, with its XmlGenerator) and the NodeStorage (node roots).
#include <memory>
#include <string>

#include "orchestrator/util/result.h"
#include "orchestrator/virt/backend.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed::virt {

struct BackendParts {
  std::unique_ptr<Backend> backend;
  std::unique_ptr<NodeStorage> storage;
};

/// The node backend a URI implies: "kvm" for qemu:///… and qemu+ssh://…/system,
/// "lxc" for lxc:///… and lxc+ssh://…, "lxc" for test:///… (libvirt's mock driver, which
/// takes either: pass the kind explicitly), "" for anything else.
std::string backend_kind_for_uri(const std::string& uri);

/// True when `uri` names another machine (qemu+ssh://lab1/system); false for the local
/// daemon (qemu:///system, lxc:///, test:///default, …://localhost/…).
bool is_remote_uri(const std::string& uri);

/// Lab::up's check for a remote URI: this build makes node disks/roots, captures and
/// reaches nodes over SSH on the machine it runs on, which a remote host's lab cannot
/// use; fails saying so and what to do instead. Success for local URIs.
util::Status check_lab_host_is_local(const std::string& uri);

/// `kind` "lxc": LibvirtBackend + LxcXml + OverlayStorage (lxc:… or test:…).
/// `kind` "kvm": LibvirtBackend + KvmXml + KvmStorage (qemu:… — make_kvm_backend, which
/// checks /dev/kvm for the local qemu:///system — or test:… with the XML options the
/// mock driver accepts, so the KVM path is unit-tested up to the hypervisor).
/// `kind` "": backend_kind_for_uri(uri). A kind that does not fit the URI (lxc on
/// qemu:///system) and unknown schemes fail, naming what is supported. Does not connect
/// before those checks pass.
util::Result<BackendParts> make_backend(const std::string& uri, const std::string& kind = "");

}  // namespace testbed::virt
