#pragma once
// Running helper programs (mmdebstrap, virt-xml-validate, tshark, ip …) by argument
// vector: never through a shell, so no config string is ever parsed as shell syntax.
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::util {

struct ProcessResult {
  int exit_code = -1;      ///< exit status, or 128+signal when killed by a signal
  std::string out;         ///< captured stdout (empty when streamed)
  std::string err;         ///< captured stderr
  bool cancelled = false;  ///< stopped because ProcessOptions::cancel became true
};

struct ProcessOptions {
  std::optional<std::string> stdin_data;  ///< written to the child's stdin, then closed
  std::optional<std::string> cwd;
  std::vector<std::string> extra_env;  ///< "NAME=value" added to the environment
  /// When set, stdout lines are passed here as they arrive instead of being captured.
  std::function<void(const std::string& line)> on_stdout_line;
  /// Kill the child (SIGTERM, then SIGKILL after 5 s) when this expires.
  std::optional<std::chrono::milliseconds> timeout;
  /// When set, the child runs in a process group of its own, and once the flag becomes
  /// true (checked every 200 ms) the whole group is stopped: SIGTERM, then SIGKILL after
  /// `cancel_grace`. Everything the child started (mmdebstrap's apt, dpkg, hooks) goes
  /// with it, and a terminal's Ctrl-C reaches only testbed, which decides. The result
  /// then has `cancelled` set.
  const std::atomic<bool>* cancel = nullptr;
  std::chrono::milliseconds cancel_grace{10000};
};

/// Runs argv[0] (looked up in PATH) with argv. Fails only if it cannot be started;
/// a non-zero exit is reported in ProcessResult, not as an Error.
Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& opts = {});

/// Like run_process but a non-zero exit becomes an Error quoting the command and the
/// last lines of its stderr.
Result<ProcessResult> run_checked(const std::vector<std::string>& argv,
                                  const ProcessOptions& opts = {});

/// True when `name` is an executable found in PATH.
bool have_program(const std::string& name);

/// Human-readable command line for messages (arguments quoted where needed).
std::string format_argv(const std::vector<std::string>& argv);

}  // namespace testbed::util
