#pragma once
// The one place that maps a libvirt URI to a backend: the Backend (libvirt objects,
// with its XmlGenerator) and the NodeStorage (node roots). A KVM backend adds its
// XmlGenerator and NodeStorage in new files and one branch here.
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

/// lxc:///... -> LibvirtBackend + LxcXml + OverlayStorage; test:///... -> the same on
/// libvirt's mock driver (unit tests). Unknown schemes fail naming the supported ones.
util::Result<BackendParts> make_backend(const std::string& uri);

}  // namespace testbed::virt
