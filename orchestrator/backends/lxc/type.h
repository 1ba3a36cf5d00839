#pragma once
// The LXC backend's registry entry (backends/type.h).
#include "orchestrator/backends/type.h"

namespace testbed::backends::lxc {

const Type& type();

}  // namespace testbed::backends::lxc
