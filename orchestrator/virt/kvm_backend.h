#pragma once
// The VM branch of make_backend (backends.h): LibvirtBackend with KvmXml and KvmStorage
// for qemu:///system and qemu+ssh://HOST/system, accelerated by KVM where /dev/kvm is
// usable and emulated by QEMU's TCG otherwise.
#include <string>

#include "orchestrator/virt/backends.h"
#include "orchestrator/virt/kvm_xml.h"

namespace testbed::virt {

/// Connects to `uri` with VM domain XML (`opts`: its domain type says kvm or qemu/TCG) and
/// qcow2-overlay storage.
util::Result<BackendParts> make_vm_backend(const std::string& uri, KvmXmlOptions opts = {});

/// True when `dev_kvm` can run guests: a one-instruction guest (HLT) created through it
/// runs and halts, in a child process given 2 s. A device node, or even KVM_CREATE_VM
/// succeeding, is not enough: some hosts (nested guests without VMX/SVM) accept
/// KVM_CREATE_VM and then never run a vCPU.
bool kvm_usable(const std::string& dev_kvm = "/dev/kvm");

/// The acceleration a VM lab on `uri` gets: "kvm" or "tcg". `requested` is the
/// experiment's `accel`: "auto" picks kvm when the local /dev/kvm is usable (a remote
/// qemu+ssh host: kvm, its libvirt says if it cannot), else tcg; "kvm" on a local host
/// without a usable /dev/kvm fails saying what to do; "tcg" is always possible.
util::Result<std::string> resolve_accel(const std::string& uri, const std::string& requested,
                                        const std::string& dev_kvm = "/dev/kvm");

}  // namespace testbed::virt
