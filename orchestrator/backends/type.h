#pragma once
// What the lab lifecycle (orchestrator/lab) needs of one backend, as one table entry. Each
// backend folder defines its entry (lxc/type.cc, vm/type.cc); registry.cc lists them, one
// line each. The lab code asks the entry and never branches on the backend's kind.
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "orchestrator/config/backend.h"
#include "orchestrator/util/result.h"
#include "orchestrator/virt/backend.h"
#include "orchestrator/virt/node_snapshots.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed::backends {

/// A lab's hypervisor side: the libvirt objects (with the backend's domain XML) and the
/// node storage. Owned by the lab.
struct BackendParts {
  std::unique_ptr<virt::Backend> backend;
  std::unique_ptr<virt::NodeStorage> storage;
  /// Saved running states for snapshot resets; empty when the backend (or this host: a
  /// remote lab host, the test driver) has none, and then nodes boot on every reset.
  std::unique_ptr<virt::NodeSnapshots> snapshots;
};

struct Type {
  config::BackendKind kind;
  /// The libvirt driver scheme ("lxc", "qemu"): lxc:///system, qemu+ssh://HOST/system.
  const char* scheme;
  /// The URI a lab gets when the experiment names none.
  const char* default_uri;
  /// How long a node may take to boot and pass its checks by default.
  std::chrono::milliseconds ready_timeout;
  /// Memory per node.
  int node_memory_mib;
  /// Whether nodes can run on another machine's libvirt (their storage made over
  /// libvirt's API there); when false, the message says why not and what to do.
  bool remote_hosts;
  const char* no_remote_reason;
  /// The acceleration nodes run under ("kvm", "tcg"; "test" on test:///; "" when the
  /// backend has no such choice). `requested` is the experiment's `accel:`.
  util::Result<std::string> (*resolve_accel)(const std::string& uri, const std::string& requested);
  /// Connects to `uri`: the Backend (domain XML for `accel`) and the NodeStorage. A
  /// test:/// URI gets the XML the mock driver accepts.
  util::Result<BackendParts> (*connect)(const std::string& uri, const std::string& accel);
  /// Host preparation before the lab's first object (may do nothing).
  void (*prepare_host)(const std::string& uri);
  /// A remote lab host: the node storage moves there (only called when remote_hosts).
  util::Status (*attach_lab_host)(BackendParts& parts);
  /// Provenance facts of this backend for run manifests (e.g. accel, qemu_version).
  void (*provenance)(virt::Backend& backend, const std::string& accel,
                     std::map<std::string, std::string>* out);
  /// Removes what a lab `lab` keeps outside its domains, networks and state dir (node
  /// volumes on a remote lab host). Idempotent.
  util::Status (*remove_lab_storage)(virt::Backend& backend, const std::string& uri,
                                     const std::string& lab);
};

}  // namespace testbed::backends
