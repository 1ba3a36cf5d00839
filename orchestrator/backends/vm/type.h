#pragma once
// The VM backend's registry entry (backends/type.h): QEMU guests through libvirt, under
// KVM where /dev/kvm is usable and QEMU's TCG emulator elsewhere, locally or on a remote
// libvirt host (qemu+ssh://HOST/system) whose node disks are storage volumes there.
#include "orchestrator/backends/type.h"

namespace testbed::backends::vm {

const Type& type();

}  // namespace testbed::backends::vm
