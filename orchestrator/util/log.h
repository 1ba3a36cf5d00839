#pragma once
// Logging for people and for nightly jobs: on a TTY, progress redraws one status line;
// otherwise every message is a plain line (greppable in CI logs). A line about a file
// starts with its PATH:LINE:COL: ("f.yaml:3:1: error: …", as compilers print), so editors
// and CI annotators can jump to it; time stamps only with set_log_timestamps (--timestamps).
#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace testbed::util {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Global log threshold (set from --verbose/--quiet).
void set_log_level(LogLevel level);
/// Prefix every log line with its UTC time (`testbed --timestamps`, for nightly logs).
void set_log_timestamps(bool on);
/// Length of the "PATH:LINE: " or "PATH:LINE:COL: " prefix that starts `line`, else 0.
size_t location_prefix(std::string_view line);
LogLevel log_level();
/// True when stderr is a terminal (progress lines are redrawn in place).
bool stderr_is_tty();

void log_line(LogLevel level, const std::string& msg);

template <typename... A>
void log_debug(fmt::format_string<A...> f, A&&... a) {
  if (log_level() <= LogLevel::kDebug) log_line(LogLevel::kDebug, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_info(fmt::format_string<A...> f, A&&... a) {
  if (log_level() <= LogLevel::kInfo) log_line(LogLevel::kInfo, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_warn(fmt::format_string<A...> f, A&&... a) {
  log_line(LogLevel::kWarn, fmt::format(f, std::forward<A>(a)...));
}
template <typename... A>
void log_error(fmt::format_string<A...> f, A&&... a) {
  log_line(LogLevel::kError, fmt::format(f, std::forward<A>(a)...));
}

/// A status line for long work. On a TTY it is redrawn in place (rate-limited);
/// off a TTY, update() logs a plain line at most every `plain_interval_s` seconds.
class Progress {
 public:
  explicit Progress(std::string what, double plain_interval_s = 10.0);
  ~Progress();
  void update(const std::string& status);
  /// Ends the status line with a final message (always printed).
  void finish(const std::string& final_status);

 private:
  std::string what_;
  double interval_;
  double last_ = -1e9;
  bool active_ = false;
};

}  // namespace testbed::util
