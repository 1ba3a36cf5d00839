#pragma once
// Who owns a lab: the process that made it, told from a later process that reuses its PID
// by its start time. `testbed gc` removes a lab whose owner is gone (gc.h).
#include <cstdint>

namespace testbed::lab {

/// Field 22 of /proc/PID/stat (start time in clock ticks since boot); 0 when the process
/// does not exist.
int64_t process_start_ticks(int64_t pid);

/// True when `pid` runs and is the process that started at `start_ticks` (0: unknown, any
/// process with that PID counts). A zombie counts as gone.
bool process_alive(int64_t pid, int64_t start_ticks);

}  // namespace testbed::lab
