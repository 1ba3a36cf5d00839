#pragma once
// SIGINT, SIGTERM and SIGHUP as a request to stop cleanly. Once catch_interrupts() ran, no
// such signal ends the process: the handler only sets a flag, and long work polls it (the scan,
// child processes started with ProcessOptions::cancel, the image builds, the report), stops
// what it started, removes what it half-made and returns. Commands then exit 130.
#include <atomic>

namespace testbed::util {

/// Installs the SIGINT/SIGTERM/SIGHUP handlers (idempotent; an ignored SIGHUP, as under
/// nohup, stays ignored). Without SA_RESTART, so a blocking
/// call (flock, poll, waitpid) returns EINTR and its caller gets to look at the flag.
void catch_interrupts();

/// Set by the first SIGINT, SIGTERM or SIGHUP after catch_interrupts(); never cleared.
const std::atomic<bool>& interrupt_flag();

inline bool interrupted() { return interrupt_flag().load(); }

/// "SIGINT", "SIGTERM" or "SIGHUP": the first signal that set the flag ("" before any).
const char* interrupt_signal_name();
/// The number of that signal (0 before any), e.g. for an exit status of 128 + N.
int interrupt_signal();

}  // namespace testbed::util
