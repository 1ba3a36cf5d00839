#pragma once
// SIGINT and SIGTERM as a request to stop cleanly. Once catch_interrupts() ran, neither
// signal ends the process: the handler only sets a flag, and long work polls it (the scan,
// child processes started with ProcessOptions::cancel, the image builds, the report), stops
// what it started, removes what it half-made and returns. Commands then exit 130.
#include <atomic>

namespace testbed::util {

/// Installs the SIGINT/SIGTERM handlers (idempotent). Without SA_RESTART, so a blocking
/// call (flock, poll, waitpid) returns EINTR and its caller gets to look at the flag.
void catch_interrupts();

/// Set by the first SIGINT or SIGTERM after catch_interrupts(); never cleared.
const std::atomic<bool>& interrupt_flag();

inline bool interrupted() { return interrupt_flag().load(); }

/// "SIGINT" or "SIGTERM": the first signal that set the flag ("" before any).
const char* interrupt_signal_name();

}  // namespace testbed::util
