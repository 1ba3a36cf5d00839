#pragma once
// The KVM branch of make_backend (backends.h): LibvirtBackend with KvmXml and
// KvmStorage for qemu:///system and qemu+ssh://HOST/system.
#include <string>

#include "orchestrator/virt/backends.h"
#include "orchestrator/virt/kvm_xml.h"

namespace testbed::virt {

/// Connects to `uri` with KVM domain XML and qcow2-overlay/NoCloud-seed storage. For the
/// local qemu:///system it first checks /dev/kvm exists (QEMU without KVM is far too slow
/// for a lab) and says what to do instead. `opts` = kvm_xml_options_for_test_driver()
/// with test:///default in unit tests.
util::Result<BackendParts> make_kvm_backend(const std::string& uri, KvmXmlOptions opts = {});

/// The check above, on its own: fails when `uri` is a local QEMU URI and `dev_kvm`
/// does not exist.
util::Status check_local_kvm(const std::string& uri, const std::string& dev_kvm = "/dev/kvm");

}  // namespace testbed::virt
