#include "orchestrator/util/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace testbed::util {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_mu;
bool g_status_shown = false;  // a TTY status line is on screen (guarded by g_mu)

double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

void clear_status_locked() {
  if (g_status_shown) {
    std::fputs("\r\033[K", stderr);
    g_status_shown = false;
  }
}
}  // namespace

void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load()); }
bool stderr_is_tty() {
  static const bool tty = ::isatty(2) == 1;
  return tty;
}

void log_line(LogLevel level, const std::string& msg) {
  static const char* names[] = {"debug", "info", "warning", "error"};
  std::lock_guard lock(g_mu);
  clear_status_locked();
  if (stderr_is_tty()) {
    if (level == LogLevel::kInfo) fmt::print(stderr, "{}\n", msg);
    else fmt::print(stderr, "{}: {}\n", names[static_cast<int>(level)], msg);
  } else {
    fmt::print(stderr, "{} {}: {}\n", stamp(), names[static_cast<int>(level)], msg);
  }
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
