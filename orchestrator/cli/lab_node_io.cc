#include "orchestrator/cli/lab_node_io.h"

#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include "orchestrator/cli/commands.h"
#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace fs = std::filesystem;
namespace {

/// Writes all of `data` to fd (a signal may interrupt a write: our handlers have no
/// SA_RESTART). False when the reader is gone.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

/// The local terminal in raw mode for as long as it lives (keys go to the remote PTY
/// unchanged, Ctrl-C included, as with `ssh -t`); restored on every return path.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd_, TCSADRAIN, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

/// SIGINT, SIGTERM, SIGHUP and SIGWINCH taken by a thread of their own (sigwait) instead of
/// a handler: a handler would interrupt libssh's poll(), which libssh takes for a broken
/// connection, and the remote command could then not be ended over a second channel.
class SignalWatch {
 public:
  SignalWatch() {
    sigemptyset(&set_);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGWINCH}) sigaddset(&set_, s);
    ::pthread_sigmask(SIG_BLOCK, &set_, nullptr);  // before any thread: all inherit it
    std::thread([this] {
      for (;;) {
        int sig = 0;
        if (::sigwait(&set_, &sig) != 0) continue;
        if (sig == SIGWINCH) {
          winch.store(true);
        } else {
          int none = 0;
          signal.compare_exchange_strong(none, sig);
          cancel.store(true);
        }
      }
    }).detach();  // lives until the process exits; it only sets flags
  }
  std::atomic<bool> cancel{false};
  std::atomic<int> signal{0};
  std::atomic<bool> winch{false};

 private:
  sigset_t set_;
};

/// The one SignalWatch of the process, started on first use.
SignalWatch& signals() {
  static SignalWatch w;
  return w;
}

std::optional<std::pair<int, int>> terminal_size(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return std::nullopt;
  return std::pair<int, int>{ws.ws_col, ws.ws_row};
}

bool remote_test(remote::SshSession& s, const char* flag, const std::string& path) {
  auto r = s.exec({"test", flag, path});
  return r.ok() && r->exit_status == 0;
}

}  // namespace

int exec_on_node(const lab::Lab& lab, const std::string& node,
                 const std::vector<std::string>& command, const ExecFlags& flags) {
  // From here on SIGINT/SIGTERM/SIGHUP only set a flag: the exec loop sees it, ends the
  // remote command (its process group; with a PTY the hang-up) and we exit 128+N.
  SignalWatch& sig = signals();
  remote::ExecOptions eo;
  eo.cancel = &sig.cancel;
  eo.stdin_fd = flags.no_stdin ? -1 : STDIN_FILENO;
  bool out_ok = true;
  eo.on_out_data = [&](std::string_view d) { out_ok = write_all(STDOUT_FILENO, d) && out_ok; };
  eo.on_err_data = [](std::string_view d) { (void)write_all(STDERR_FILENO, d); };
  std::optional<RawTerminal> raw;
  if (flags.tty) {
    eo.pty = true;
    const char* term = std::getenv("TERM");
    eo.pty_term = term && *term ? term : "dumb";
    const bool local_tty = ::isatty(STDIN_FILENO) == 1;
    auto size = terminal_size(local_tty ? STDIN_FILENO : STDOUT_FILENO);
    eo.pty_cols = size ? size->first : 80;
    eo.pty_rows = size ? size->second : 24;
    if (local_tty) {
      eo.pty_resize = []() -> std::optional<std::pair<int, int>> {
        if (!signals().winch.exchange(false)) return std::nullopt;
        return terminal_size(STDIN_FILENO);
      };
      raw.emplace(STDIN_FILENO);
    }
  }
  auto r = lab.exec(node, command, eo);
  raw.reset();  // the terminal back to normal before any message
  if (sig.cancel.load()) {
    const int n = sig.signal.load();
    util::log_error("SIG{}: the command on node '{}' was ended", ::sigabbrev_np(n), node);
    return 128 + n;
  }
  if (!r) {
    util::log_error("{}", r.error().message);
    return kExitExecFailed;
  }
  if (r->exit_status < 0) {
    util::log_error("node '{}': the command ended without an exit status (connection closed?)",
                    node);
    return kExitExecFailed;
  }
  (void)out_ok;  // a closed standard output is the reader's choice, as with ssh
  return r->exit_status;
}

CopyEnd parse_copy_end(const std::string& arg, const std::vector<std::string>& nodes) {
  const size_t colon = arg.find(':');
  if (colon != std::string::npos && colon > 0) {
    std::string node = arg.substr(0, colon);
    if (std::find(nodes.begin(), nodes.end(), node) != nodes.end())
      return {node, arg.substr(colon + 1)};
  }
  return {"", arg};
}

int copy_with_node(const lab::Lab& lab, const CopyEnd& src, const CopyEnd& dst) {
  if (src.node.empty() == dst.node.empty()) {
    util::log_error("lab cp: exactly one of SOURCE and DEST must be NODE:PATH (nodes of lab "
                    "'{}': {})",
                    lab.name(), fmt::join(lab.node_names(), ", "));
    return kExitBadInput;
  }
  const CopyEnd& remote_end = src.node.empty() ? dst : src;
  if (remote_end.path.empty()) {
    util::log_error("lab cp: {}: give a path after the ':'", remote_end.node + ":");
    return kExitBadInput;
  }
  // SIGINT/SIGTERM/SIGHUP stop the copy between blocks; its .part file is removed.
  const std::atomic<bool>* cancel = &signals().cancel;
  auto interrupted = [&](const util::Error& e) {
    util::log_error("lab cp: {}", e.message);
    return cancel->load() ? kExitInterrupted : kExitFailure;
  };
  auto t = lab.ssh_target(remote_end.node);
  t.connect_timeout = std::chrono::milliseconds(5000);
  auto s = remote::SshSession::connect(t);
  if (!s) {
    util::log_error("node '{}' of lab '{}': {}", remote_end.node, lab.name(), s.error().message);
    return kExitFailure;
  }
  if (dst.node.empty()) {  // download
    const std::string from = src.node + ":" + src.path;
    if (!remote_test(*s, "-f", src.path)) {
      util::log_error("lab cp: {}: no such regular file on the node", from);
      return kExitBadInput;
    }
    fs::path to = dst.path;
    std::error_code ec;
    if (fs::is_directory(to, ec) || (!dst.path.empty() && dst.path.back() == '/'))
      to /= fs::path(src.path).filename();
    if (auto st = s->download(src.path, to, cancel); !st) return interrupted(st.error());
    return kExitOk;
  }
  // upload
  struct stat st {};
  if (::stat(src.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    util::log_error("lab cp: {}: {}", src.path,
                    ::stat(src.path.c_str(), &st) != 0 ? "no such file"
                                                       : "not a regular file (directories are "
                                                         "not copied; make a tar of it)");
    return kExitBadInput;
  }
  std::string to = dst.path;
  if (to.back() == '/' || remote_test(*s, "-d", to))
    to += (to.back() == '/' ? "" : "/") + fs::path(src.path).filename().string();
  const std::string parent = fs::path(to).parent_path().string();
  if (!parent.empty() && !remote_test(*s, "-d", parent)) {
    util::log_error("lab cp: {}:{}: no such directory on the node", dst.node, parent);
    return kExitBadInput;
  }
  if (auto up = s->upload(src.path, to, static_cast<int>(st.st_mode & 07777), cancel); !up)
    return interrupted(up.error());
  return kExitOk;
}

}  // namespace testbed::cli
