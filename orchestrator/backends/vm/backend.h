#pragma once
// The VM branch of make_backend (backends.h): LibvirtBackend with VmXml and VmStorage
// for qemu:///system and qemu+ssh://HOST/system, accelerated by KVM where /dev/kvm is
// usable and emulated by QEMU's TCG otherwise.
#include <string>

#include "orchestrator/backends/type.h"
#include "orchestrator/backends/vm/xml.h"

namespace testbed::backends::vm {
using backends::BackendParts;

/// Connects to `uri` with VM domain XML (`opts`: its domain type says kvm or qemu/TCG) and
/// qcow2-overlay storage.
util::Result<BackendParts> make_vm_backend(const std::string& uri, VmXmlOptions opts = {});

/// True when `dev_kvm` can run guests: the CPU advertises VMX or SVM (/proc/cpuinfo) and a
/// one-instruction guest (HLT) created through the device runs and halts, in a child
/// process given 2 s. A device node, or even a guest that halts, is not enough: a host
/// seen here (a guest without VMX/SVM) has a /dev/kvm that runs that guest, yet QEMU
/// cannot set a real guest's MSRs there and a kernel never prints a line.
bool kvm_usable(const std::string& dev_kvm = "/dev/kvm");

/// True when /proc/cpuinfo text lists the vmx (Intel) or svm (AMD) flag.
bool cpu_has_virtualisation(const std::string& cpuinfo);

/// The acceleration a VM lab on `uri` gets: "kvm" or "tcg". `requested` is the
/// experiment's `accel`: "auto" picks kvm when the local /dev/kvm is usable (a remote
/// qemu+ssh host: kvm, its libvirt says if it cannot), else tcg; "kvm" on a local host
/// without a usable /dev/kvm fails saying what to do; "tcg" is always possible.
util::Result<std::string> resolve_accel(const std::string& uri, const std::string& requested,
                                        const std::string& dev_kvm = "/dev/kvm");

}  // namespace testbed::backends::vm
