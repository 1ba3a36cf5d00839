#include "orchestrator/util/log.h"
#include "orchestrator/util/clock.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace testbed::util {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_timestamps{false};
std::mutex g_mu;
bool g_status_shown = false;  // a TTY status line is on screen (guarded by g_mu)

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string stamp() { return util::utc_now("%Y-%m-%dT%H:%M:%SZ"); }

void clear_status_locked() {
  if (g_status_shown) {
    std::fputs("\r\033[K", stderr);
    g_status_shown = false;
  }
}
}  // namespace

void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }
void set_log_timestamps(bool on) { g_timestamps = on; }

size_t location_prefix(std::string_view line) {
  // PATH:LINE: or PATH:LINE:COL: — the path without blanks or ':' (as compilers print it).
  size_t colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return 0;
  for (size_t i = 0; i < colon; ++i)
    if (line[i] == ' ' || line[i] == '\t') return 0;
  size_t pos = colon;
  for (int field = 0; field < 2; ++field) {
    size_t start = pos + 1, end = start;
    while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
    if (end == start || end >= line.size() || line[end] != ':') break;
    pos = end;
  }
  if (pos == colon) return 0;  // no line number
  if (pos + 1 >= line.size() || line[pos + 1] != ' ') return 0;
  return pos + 2;
}
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }
bool stderr_is_tty() {
  static const bool tty = ::isatty(2) == 1;
  return tty;
}

void log_line(LogLevel level, const std::string& msg) {
  static const char* names[] = {"debug", "info", "warning", "error"};
  const char* name = names[static_cast<int>(level)];
  const bool tty = stderr_is_tty();
  std::string out;
  // Each line of the message: one about a file starts with its PATH:LINE:COL: (so editors
  // and CI annotators jump to it) and the level follows, as compilers print; the first
  // other line gets the level; later ones stay as they are. Info on a TTY has no level.
  size_t begin = 0;
  bool first = true;
  while (begin <= msg.size()) {
    size_t end = msg.find('\n', begin);
    std::string_view line(msg.data() + begin,
                          (end == std::string::npos ? msg.size() : end) - begin);
    std::string stamp_part = g_timestamps ? stamp() + " " : "";
    if (size_t loc = location_prefix(line)) {
      out += fmt::format("{}{}{}: {}\n", stamp_part, line.substr(0, loc), name, line.substr(loc));
    } else if (first) {
      if (tty && level == LogLevel::kInfo)
        out += fmt::format("{}{}\n", stamp_part, line);
      else
        out += fmt::format("{}{}: {}\n", stamp_part, name, line);
    } else {
      out += fmt::format("{}\n", line);
    }
    first = false;
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  std::lock_guard lock(g_mu);
  clear_status_locked();
  std::fputs(out.c_str(), stderr);
  std::fflush(stderr);
}

Progress::Progress(std::string what, double plain_interval_s)
    : what_(std::move(what)), interval_(plain_interval_s) {}

Progress::~Progress() {
  if (active_) {
    std::lock_guard lock(g_mu);
    clear_status_locked();
  }
}

void Progress::update(const std::string& status) {
  if (log_level() > LogLevel::kInfo) return;
  double t = now_s();
  if (stderr_is_tty()) {
    if (t - last_ < 0.1) return;
    last_ = t;
    std::lock_guard lock(g_mu);
    fmt::print(stderr, "\r\033[K{}: {}", what_, status);
    std::fflush(stderr);
    g_status_shown = true;
    active_ = true;
  } else {
    if (t - last_ < interval_) return;
    last_ = t;
    log_line(LogLevel::kInfo, fmt::format("{}: {}", what_, status));
  }
}

void Progress::finish(const std::string& final_status) {
  active_ = false;
  if (log_level() > LogLevel::kInfo) return;
  log_line(LogLevel::kInfo, fmt::format("{}: {}", what_, final_status));
}

}  // namespace testbed::util
