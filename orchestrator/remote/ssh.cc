#include "orchestrator/remote/ssh.h"

#include <fcntl.h>
#include <libssh/callbacks.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "orchestrator/remote/quote.h"
#include "orchestrator/util/files.h"

namespace testbed::remote {
namespace {

using util::fail;
using Clock = std::chrono::steady_clock;

void init_libssh_once() {
  static std::once_flag once;
  std::call_once(once, [] { ssh_init(); });
}

/// "SHA256:…" fingerprint of the server's host key, for messages.
std::string server_key_fingerprint(ssh_session s) {
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(s, &raw) != SSH_OK) return "(unavailable)";
  KeyHandle key(raw);
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key.get(), SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != 0) {
    return "(unavailable)";
  }
  char* fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
  ssh_clean_pubkey_hash(&hash);
  std::string out = fp ? fp : "(unavailable)";
  ssh_string_free_char(fp);
  return std::string(ssh_key_type_to_char(ssh_key_type(key.get()))) + " " + out;
}

/// Splits a byte stream into lines, delivering each complete one.
class LineSplitter {
 public:
  LineSplitter(const std::function<void(std::string_view)>* sink, bool strip_cr)
      : sink_(sink), strip_cr_(strip_cr) {}
  /// Appends data to `all` (\r removed in PTY mode) and delivers complete lines. On a PTY
  /// a '\r' not followed by '\n' also ends a line, as on a terminal: a status line that a
  /// program rewrites in place (masscan's countdown) arrives update by update.
  void feed(const char* data, size_t n, std::string& all) {
    for (size_t i = 0; i < n; ++i) {
      char c = data[i];
      if (strip_cr_ && c == '\r') {
        cr_pending_ = true;
        continue;
      }
      if (cr_pending_ && c != '\n' && sink_ && *sink_ && !partial_.empty()) {
        (*sink_)(partial_);
        partial_.clear();
      }
      cr_pending_ = false;
      all += c;
      if (!sink_ || !*sink_) continue;
      if (c == '\n') {
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        (*sink_)(partial_);
        partial_.clear();
      } else {
        partial_ += c;
      }
    }
  }
  void finish() {
    if (sink_ && *sink_ && !partial_.empty()) (*sink_)(partial_);
    partial_.clear();
  }

 private:
  const std::function<void(std::string_view)>* sink_;
  bool strip_cr_;
  bool cr_pending_ = false;  ///< PTY mode: the last byte was a '\r'
  std::string partial_;
};

/// Exit signal name (RFC 4254 §6.10, without "SIG") → number, as a shell would report.
int signal_number(const char* name) {
  static const std::array<std::pair<const char*, int>, 13> kSignals{{{"HUP", 1},
                                                                     {"INT", 2},
                                                                     {"QUIT", 3},
                                                                     {"ILL", 4},
                                                                     {"ABRT", 6},
                                                                     {"FPE", 8},
                                                                     {"KILL", 9},
                                                                     {"USR1", 10},
                                                                     {"SEGV", 11},
                                                                     {"USR2", 12},
                                                                     {"PIPE", 13},
                                                                     {"ALRM", 14},
                                                                     {"TERM", 15}}};
  for (const auto& [n, v] : kSignals) {
    if (name && std::strcmp(name, n) == 0) return v;
  }
  return 0;
}

struct ExitSignal {
  int number = -1;
};

void on_exit_signal(ssh_session, ssh_channel, const char* signal, int, const char*, const char*,
                    void* userdata) {
  static_cast<ExitSignal*>(userdata)->number = signal_number(signal);
}

/// Streams a local file descriptor to a channel's standard input: read when readable,
/// written no faster than the remote window allows, EOF forwarded after the last byte.
class StdinPump {
 public:
  explicit StdinPump(int fd) : fd_(fd) {}
  /// Still something to read or send.
  bool active() const { return fd_ >= 0 && !done_; }
  /// Waiting for local input (nothing buffered).
  bool reading() const { return active() && !eof_ && pending_.empty(); }

  /// Moves what it can without blocking. True when bytes moved or EOF was sent; an error
  /// when the channel refused a write.
  util::Result<bool> pump(ssh_channel ch) {
    bool moved = false;
    if (pending_.empty() && !eof_ && readable(0)) {
      std::array<char, 32 * 1024> buf;
      ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n > 0) {
        pending_.assign(buf.data(), static_cast<size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        eof_ = true;  // end of input, or it cannot be read any more (closed terminal)
      }
    }
    while (!pending_.empty()) {
      uint32_t window = ssh_channel_window_size(ch);
      if (window == 0) break;  // the node has not consumed yet; output keeps flowing
      uint32_t len = static_cast<uint32_t>(std::min<size_t>(pending_.size(), window));
      int n = ssh_channel_write(ch, pending_.data(), len);
      if (n == SSH_ERROR) return util::fail("write");
      pending_.erase(0, static_cast<size_t>(n));
      moved = moved || n > 0;
    }
    if (eof_ && pending_.empty()) {
      ssh_channel_send_eof(ch);
      done_ = true;
      moved = true;
    }
    return moved;
  }

  /// Sleeps until `ssh_fd` or the input is readable, at most ms milliseconds.
  void wait(int ssh_fd, int ms) const {
    std::array<pollfd, 2> p{{{ssh_fd, POLLIN, 0}, {fd_, POLLIN, 0}}};
    ::poll(p.data(), p.size(), ms);  // a negative fd is ignored
  }

 private:
  bool readable(int ms) const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;  // POLLHUP/POLLERR too: read() then tells which
  }
  int fd_;
  bool eof_ = false;
  bool done_ = false;
  std::string pending_;
};

std::string describe(const std::string& shown) {
  constexpr size_t kMax = 200;
  return shown.size() <= kMax ? shown : shown.substr(0, kMax) + "…";
}

}  // namespace

namespace {
/// user@host:port, and " via user@jump:port" when it goes through a jump host.
std::string describe_target(const SshTarget& t) {
  std::string w = t.user + "@" + t.host + ":" + std::to_string(t.port);
  if (t.jump) w += " via " + t.jump->user + "@" + t.jump->host + ":" + std::to_string(t.jump->port);
  return w;
}
}  // namespace

std::string SshSession::where() const { return describe_target(target_); }

util::Result<SshSession> SshSession::connect(const SshTarget& t) {
  bool transient = false;
  return connect_impl(t, &transient);
}

util::Result<SshSession> SshSession::connect_retrying(const SshTarget& t,
                                                      std::chrono::milliseconds total,
                                                      std::chrono::milliseconds interval) {
  const auto deadline = Clock::now() + total;
  int attempts = 0;
  for (;;) {
    bool transient = false;
    ++attempts;
    auto s = connect_impl(t, &transient);
    if (s.ok() || !transient || Clock::now() + interval >= deadline) {
      if (!s.ok() && transient) {
        return fail("{} (gave up after {} attempts in {} ms)", s.error().message, attempts,
                    total.count());
      }
      return s;
    }
    std::this_thread::sleep_for(interval);
  }
}

SshTarget target_of(const SshJump& j) {
  SshTarget t;
  t.host = j.host;
  t.port = j.port;
  t.user = j.user;
  t.identity_file = j.identity_file;
  t.known_hosts_file = j.known_hosts_file;
  return t;
}

std::string jump_proxy_command(const SshJump& j, const std::string& host, int port,
                               std::chrono::milliseconds connect_timeout) {
  const long secs = std::max<long>(1, static_cast<long>((connect_timeout.count() + 999) / 1000));
  return shell_join(
      {"ssh",
       "-F",
       "/dev/null",
       "-o",
       "BatchMode=yes",
       "-o",
       "IdentitiesOnly=yes",
       "-o",
       "IdentityAgent=none",
       "-o",
       "StrictHostKeyChecking=yes",
       "-o",
       "UserKnownHostsFile=" + j.known_hosts_file.string(),
       "-o",
       "GlobalKnownHostsFile=/dev/null",
       "-o",
       "ConnectTimeout=" + std::to_string(secs),
       "-o",
       "LogLevel=ERROR",
       "-o",  // the keep-alive of the class comment, for the jump's leg
       "ServerAliveInterval=5",
       "-o",
       "ServerAliveCountMax=3",
       "-i",
       j.identity_file.string(),
       "-p",
       std::to_string(j.port),
       "-l",
       j.user,
       "-W",
       (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port),
       "--",
       j.host});
}

util::Result<SshSession> SshSession::connect_impl(const SshTarget& t, bool* transient) {
  init_libssh_once();
  *transient = false;
  const std::string where = describe_target(t);
  if (t.jump) {
    for (const auto& [what, path] : {std::pair{"known-hosts", t.jump->known_hosts_file},
                                     std::pair{"identity", t.jump->identity_file}}) {
      if (path.empty() || !std::filesystem::exists(path))
        return fail("ssh {}: the jump host's {} file '{}' does not exist", where, what,
                    path.string());
    }
  }
  if (t.known_hosts_file.empty() || !std::filesystem::exists(t.known_hosts_file)) {
    return fail(
        "ssh {}: known-hosts file '{}' does not exist; host keys are pinned, so the "
        "node's host key must be written there first",
        where, t.known_hosts_file.string());
  }
  if (t.identity_file.empty() || !std::filesystem::exists(t.identity_file)) {
    return fail("ssh {}: identity file '{}' does not exist", where, t.identity_file.string());
  }
  SessionHandle s(ssh_new());
  if (!s) return fail("ssh {}: ssh_new failed (out of memory?)", where);

  const std::string kh = t.known_hosts_file.string();
  bool process_config = false;
  unsigned int port = static_cast<unsigned int>(t.port);
  long timeout_s = static_cast<long>(t.connect_timeout.count() / 1000);
  long timeout_us = static_cast<long>((t.connect_timeout.count() % 1000) * 1000);
  int strict = 1;
  // Small request/reply exchanges (SFTP writes, PTY lines) must not wait for Nagle +
  // delayed ACK (~40 ms each): that made a 5 MB upload take 5 s instead of 0.1 s.
  int nodelay = 1;
  // Only our own known_hosts file counts: the same file stands in for the global one so
  // that nothing in /etc/ssh can add an accepted key.
  if (ssh_options_set(s.get(), SSH_OPTIONS_PROCESS_CONFIG, &process_config) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_HOST, t.host.c_str()) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_PORT, &port) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_USER, t.user.c_str()) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_KNOWNHOSTS, kh.c_str()) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_GLOBAL_KNOWNHOSTS, kh.c_str()) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_NODELAY, &nodelay) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT, &timeout_s) != SSH_OK ||
      ssh_options_set(s.get(), SSH_OPTIONS_TIMEOUT_USEC, &timeout_us) != SSH_OK) {
    return fail("ssh {}: cannot set session options: {}", where, ssh_get_error(s.get()));
  }
  if (t.jump) {
    const std::string proxy = jump_proxy_command(*t.jump, t.host, t.port, t.connect_timeout);
    if (ssh_options_set(s.get(), SSH_OPTIONS_PROXYCOMMAND, proxy.c_str()) != SSH_OK)
      return fail("ssh {}: cannot set the jump: {}", where, ssh_get_error(s.get()));
  }
  if (ssh_connect(s.get()) != SSH_OK) {
    *transient = true;
    return fail("ssh {}: cannot connect: {} ({})", where, ssh_get_error(s.get()),
                t.jump ? "can the jump host be reached with that key, and its key is pinned? "
                         "Is the node up behind it?"
                       : "is the node up and its sshd listening?");
  }
  // Keep-alive: detect a peer that disappeared without a FIN/RST (see class comment).
  if (socket_t fd = ssh_get_fd(s.get()); fd != SSH_INVALID_SOCKET) {
    int on = 1, idle = 10, intvl = 5, cnt = 3;
    ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
  }
  switch (ssh_session_is_known_server(s.get())) {
    case SSH_KNOWN_HOSTS_OK:
      break;
    case SSH_KNOWN_HOSTS_CHANGED:
      return fail(
          "ssh {}: host key CHANGED: the server presented {} which differs from the key "
          "pinned in '{}'; refusing to log in (a rebuilt node needs its new key pinned, "
          "otherwise something is impersonating it)",
          where, server_key_fingerprint(s.get()), kh);
    case SSH_KNOWN_HOSTS_OTHER:
      return fail(
          "ssh {}: host key of another type than the one pinned in '{}' (server "
          "presented {}); refusing to log in",
          where, kh, server_key_fingerprint(s.get()));
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      return fail(
          "ssh {}: host key {} is not pinned in '{}'; refusing an unknown host key (the "
          "lab writes each node's host key there when it creates the node)",
          where, server_key_fingerprint(s.get()), kh);
    case SSH_KNOWN_HOSTS_ERROR:
    default:
      return fail("ssh {}: cannot check the host key against '{}': {}", where, kh,
                  ssh_get_error(s.get()));
  }
  ssh_key raw = nullptr;
  if (ssh_pki_import_privkey_file(t.identity_file.c_str(), nullptr, nullptr, nullptr, &raw) !=
      SSH_OK) {
    return fail("ssh {}: cannot read private key '{}' (unreadable, not a key, or encrypted)", where,
                t.identity_file.string());
  }
  KeyHandle key(raw);
  int rc = ssh_userauth_publickey(s.get(), nullptr, key.get());
  if (rc != SSH_AUTH_SUCCESS) {
    return fail(
        "ssh {}: public-key login with '{}' refused: {} (is its .pub in the node's "
        "authorized_keys?)",
        where, t.identity_file.string(),
        rc == SSH_AUTH_DENIED ? std::string("denied") : ssh_get_error(s.get()));
  }
  return SshSession(t, std::move(s));
}

util::Result<ExecResult> SshSession::exec(const std::vector<std::string>& argv,
                                          const ExecOptions& opts) {
  if (argv.empty()) return fail("ssh {}: exec with an empty argument vector", where());
  for (const auto& a : argv) {
    if (a.find('\0') != std::string::npos) {
      return fail("ssh {}: argument contains a NUL byte, which no shell can pass", where());
    }
  }
  const std::string cmd = shell_join(argv);
  return run(cmd, cmd, opts, /*exec_last=*/true);
}

util::Result<ExecResult> SshSession::exec_shell(const std::string& script,
                                                const ExecOptions& opts) {
  return run(script, script, opts, /*exec_last=*/false);
}

// Without a PTY there is no hang-up to end a command, and OpenSSH ignores "signal"
// requests in root sessions ("session signalling requires privilege separation"). sshd
// starts each session's shell with setsid(), so the shell's PID is also the process group
// of everything the command starts: the command first reports it on stderr behind this
// marker (removed from the output), and a timeout or cancel kills that group.
constexpr std::string_view kPidMarker = "\036testbed-pid ";

void SshSession::kill_process_group(long pgid) {
  if (pgid <= 1) return;
  const std::string g = std::to_string(pgid);
  ExecOptions o;
  o.timeout = std::chrono::milliseconds(5000);
  auto r = run("kill -TERM -- -" + g + " 2>/dev/null; (sleep 2; kill -KILL -- -" + g +
                   " 2>/dev/null) </dev/null >/dev/null 2>&1 &",
               "kill -TERM -- -" + g, o, false);
  (void)r;  // best effort: the caller reports the timeout itself
}

util::Result<ExecResult> SshSession::run(const std::string& command_in, const std::string& shown,
                                         const ExecOptions& opts, bool exec_last) {
  const bool want_pid = !opts.pty;
  const std::string command = want_pid ? "printf '\\036testbed-pid %d\\n' $$ >&2; " +
                                             std::string(exec_last ? "exec " : "") + command_in
                                       : command_in;
  ssh_session s = session_.get();
  const std::string what = describe(shown);
  auto dropped = [&](const char* during) {
    return fail("ssh {}: connection lost while {} `{}`: {}", where(), during, what,
                ssh_get_error(s));
  };
  ChannelHandle ch(ssh_channel_new(s));
  if (!ch) return dropped("opening a channel for");
  if (ssh_channel_open_session(ch.get()) != SSH_OK) return dropped("opening a channel for");

  ExitSignal sig;
  ssh_channel_callbacks_struct cb{};
  cb.userdata = &sig;
  cb.channel_exit_signal_function = on_exit_signal;
  ssh_callbacks_init(&cb);
  ssh_set_channel_callbacks(ch.get(), &cb);
  // libssh keeps a locally freed channel until the server closes it and would still call
  // our callbacks (with `sig` long gone): unregister them before the channel is released.
  struct CallbackGuard {
    ChannelHandle& ch;
    ssh_channel_callbacks_struct* cb;
    void release() {
      if (ch) ssh_remove_channel_callbacks(ch.get(), cb);
      ch.reset();
    }
    ~CallbackGuard() { release(); }
  } guard{ch, &cb};

  // Wide terminal by default so long lines are never wrapped by a program that asks.
  if (opts.pty && ssh_channel_request_pty_size(ch.get(), opts.pty_term.c_str(), opts.pty_cols,
                                               opts.pty_rows) != SSH_OK) {
    return dropped("requesting a PTY for");
  }
  if (ssh_channel_request_exec(ch.get(), command.c_str()) != SSH_OK) {
    return dropped("starting");
  }
  const auto start = Clock::now();
  if (opts.stdin_data) {
    const std::string& in = *opts.stdin_data;
    size_t off = 0;
    while (off < in.size()) {
      int n = ssh_channel_write(ch.get(), in.data() + off,
                                static_cast<uint32_t>(std::min<size_t>(in.size() - off, 1 << 20)));
      if (n == SSH_ERROR) return dropped("sending standard input to");
      off += static_cast<size_t>(n);
    }
  }
  StdinPump pump(opts.stdin_fd);
  if (!pump.active() && (opts.stdin_data || !opts.pty)) ssh_channel_send_eof(ch.get());

  ExecResult res;
  long pgid = -1;
  bool stop_sent = false;
  Clock::time_point stop_sent_at;
  bool need_marker = want_pid;
  std::string err_head;  // stderr until the PID marker line is complete
  LineSplitter out_lines(&opts.on_line, opts.pty);
  LineSplitter err_lines(&opts.on_err_line, opts.pty);
  std::array<char, 64 * 1024> buf;
  for (;;) {
    bool got = false;
    for (int is_err = 0; is_err <= 1; ++is_err) {
      int n = ssh_channel_read_nonblocking(ch.get(), buf.data(), buf.size(), is_err);
      if (n == SSH_ERROR) return dropped("running");
      if (n > 0) {
        got = true;
        if (is_err && need_marker) {
          err_head.append(buf.data(), static_cast<size_t>(n));
          const size_t nl = err_head.find('\n');
          if (nl == std::string::npos) continue;
          size_t from = 0;
          if (err_head.compare(0, kPidMarker.size(), kPidMarker) == 0) {
            pgid = std::strtol(err_head.c_str() + kPidMarker.size(), nullptr, 10);
            from = nl + 1;
          }
          need_marker = false;
          if (opts.on_err_data) {
            if (err_head.size() > from) opts.on_err_data(std::string_view(err_head).substr(from));
          } else {
            err_lines.feed(err_head.data() + from, err_head.size() - from, res.err);
          }
        } else if (is_err && opts.on_err_data) {
          opts.on_err_data(std::string_view(buf.data(), static_cast<size_t>(n)));
        } else if (is_err) {
          err_lines.feed(buf.data(), static_cast<size_t>(n), res.err);
        } else if (opts.on_out_data) {
          opts.on_out_data(std::string_view(buf.data(), static_cast<size_t>(n)));
        } else {
          out_lines.feed(buf.data(), static_cast<size_t>(n), res.out);
        }
      }
    }
    // Checked before waiting for more: a command streaming without pause must stop too.
    if (opts.stop && !stop_sent && pgid > 1 && opts.stop->load()) {
      kill_process_group(pgid);  // TERM now, KILL 2 s later if it is still there
      stop_sent = true;
      stop_sent_at = Clock::now();
    }
    if (pump.active()) {
      auto moved = pump.pump(ch.get());
      if (!moved) return dropped("sending standard input to");
      got = got || *moved;
    }
    if (opts.pty && opts.pty_resize) {
      if (auto size = opts.pty_resize())
        ssh_channel_change_pty_size(ch.get(), size->first, size->second);
    }
    if (got) continue;
    if (ssh_channel_is_eof(ch.get()) || ssh_channel_is_closed(ch.get())) break;
    if (!ssh_is_connected(s)) return dropped("running");
    // Stopped, yet no end 30 s later: the server went away without a word (a lab host
    // whose network was cut), and TCP alone would wait for many minutes.
    if (stop_sent && Clock::now() - stop_sent_at > std::chrono::seconds(30))
      return fail("ssh {}: `{}` did not end within 30 s of being stopped (connection lost?)",
                  where(), what);
    if (opts.cancel && opts.cancel->load()) {
      guard.release();
      kill_process_group(pgid);
      return fail("ssh {}: command `{}` cancelled", where(), what);
    }
    int slice_ms = 50;
    if (opts.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*opts.timeout -
                                                                        (Clock::now() - start));
      if (left.count() <= 0) {
        // Closing the channel hangs up a PTY session; otherwise kill the process group.
        guard.release();
        kill_process_group(pgid);
        return fail("ssh {}: command `{}` timed out after {} ms", where(), what,
                    opts.timeout->count());
      }
      slice_ms = static_cast<int>(std::min<long>(slice_ms, left.count()));
    }
    // Waits for stdout data or EOF; stderr data arriving meanwhile is buffered by libssh
    // and read on the next round (at most one slice late).
    if (pump.reading()) {
      // Wake for either side: data from the node or from our standard input.
      pump.wait(ssh_get_fd(s), slice_ms);
      continue;
    }
    int p = ssh_channel_poll_timeout(ch.get(), slice_ms, 0);
    if (p == SSH_ERROR) return dropped("running");
  }
  if (need_marker) err_lines.feed(err_head.data(), err_head.size(), res.err);
  out_lines.finish();
  err_lines.finish();
  int status = ssh_channel_get_exit_status(ch.get());
  if (status < 0 && !ssh_is_connected(s)) return dropped("waiting for the exit status of");
  if (status < 0 && sig.number > 0) status = 128 + sig.number;
  res.exit_status = status;
  return res;
}

util::Result<SftpHandle> SshSession::open_sftp() {
  SftpHandle sftp(sftp_new(session_.get()));
  if (!sftp) return fail("ssh {}: cannot start SFTP: {}", where(), ssh_get_error(session_.get()));
  if (sftp_init(sftp.get()) != SSH_OK) {
    return fail("ssh {}: SFTP subsystem refused (sftp error {}): {}", where(),
                sftp_get_error(sftp.get()), ssh_get_error(session_.get()));
  }
  return sftp;
}

util::Status SshSession::download(const std::string& remote_path,
                                  const std::filesystem::path& local,
                                  const std::atomic<bool>* cancel) {
  auto sftp = open_sftp();
  if (!sftp) return sftp.error();
  SftpFileHandle f(sftp_open(sftp->get(), remote_path.c_str(), O_RDONLY, 0));
  if (!f) {
    return fail("ssh {}: cannot open remote file '{}' for download (sftp error {}): {}", where(),
                remote_path, sftp_get_error(sftp->get()), ssh_get_error(session_.get()));
  }
  const std::filesystem::path part = local.string() + ".part";
  int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fail("cannot create '{}' for the download of {}:{}: {}", part.string(), where(),
                remote_path, std::strerror(errno));
  }
  auto abandon = [&](util::Error e) {
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove(part, ec);
    return e;
  };
  std::vector<char> buf(64 * 1024);
  for (;;) {
    if (cancel && cancel->load())
      return abandon(fail("ssh {}: download of '{}' cancelled", where(), remote_path));
    ssize_t n = sftp_read(f.get(), buf.data(), buf.size());
    if (n < 0) {
      return abandon(fail("ssh {}: reading remote file '{}' failed: {}", where(), remote_path,
                          ssh_get_error(session_.get())));
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(fd, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        return abandon(fail("writing '{}' (download of {}:{}) failed: {}", part.string(), where(),
                            remote_path, std::strerror(errno)));
      }
      off += w;
    }
  }
  if (::fsync(fd) != 0) {
    return abandon(fail("fsync of '{}' failed: {}", part.string(), std::strerror(errno)));
  }
  if (::close(fd) != 0) {
    fd = -1;
    std::error_code ec;
    std::filesystem::remove(part, ec);
    return fail("closing '{}' failed: {}", part.string(), std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(part, local, ec);
  if (ec) {
    std::filesystem::remove(part, ec);
    return fail("cannot rename '{}' to '{}': {}", part.string(), local.string(), ec.message());
  }
  return {};
}

util::Status SshSession::upload(const std::filesystem::path& local, const std::string& remote_path,
                                int mode, const std::atomic<bool>* cancel) {
  int fd = ::open(local.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail("cannot open '{}' for upload: {}", local.string(), std::strerror(errno));
  }
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  auto sftp = open_sftp();
  if (!sftp) return sftp.error();
  const std::string part = remote_path + ".part";
  SftpFileHandle f(sftp_open(sftp->get(), part.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                             static_cast<mode_t>(mode)));
  if (!f) {
    return fail("ssh {}: cannot create remote file '{}' (sftp error {}): {}", where(), part,
                sftp_get_error(sftp->get()), ssh_get_error(session_.get()));
  }
  std::vector<char> buf(32 * 1024);  // SFTP servers accept writes of at least 32 KiB
  for (;;) {
    if (cancel && cancel->load()) {
      f.reset();
      sftp_unlink(sftp->get(), part.c_str());
      return fail("ssh {}: upload to '{}' cancelled", where(), remote_path);
    }
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("reading '{}' failed: {}", local.string(), std::strerror(errno));
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = sftp_write(f.get(), buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0) {
        sftp_unlink(sftp->get(), part.c_str());
        return fail("ssh {}: writing remote file '{}' failed (sftp error {}): {}", where(), part,
                    sftp_get_error(sftp->get()), ssh_get_error(session_.get()));
      }
      off += w;
    }
  }
  f.reset();  // closes the remote file before it is renamed
  // The open mode is filtered by the server's umask; set it exactly.
  if (sftp_chmod(sftp->get(), part.c_str(), static_cast<mode_t>(mode)) != SSH_OK) {
    return fail("ssh {}: cannot chmod '{}': {}", where(), part, ssh_get_error(session_.get()));
  }
  // SFTPv3 rename refuses to replace an existing file, so replace it explicitly.
  if (sftp_rename(sftp->get(), part.c_str(), remote_path.c_str()) != SSH_OK) {
    sftp_unlink(sftp->get(), remote_path.c_str());
    if (sftp_rename(sftp->get(), part.c_str(), remote_path.c_str()) != SSH_OK) {
      return fail("ssh {}: cannot rename '{}' to '{}': {}", where(), part, remote_path,
                  ssh_get_error(session_.get()));
    }
  }
  return {};
}

util::Status generate_ed25519_keypair(const std::filesystem::path& private_key_path,
                                      const std::string& comment) {
  init_libssh_once();
  ssh_key raw = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &raw) != SSH_OK) {
    return fail("cannot generate an ed25519 key for '{}'", private_key_path.string());
  }
  KeyHandle key(raw);
  char* priv = nullptr;
  if (ssh_pki_export_privkey_base64(key.get(), nullptr, nullptr, nullptr, &priv) != SSH_OK) {
    return fail("cannot export the private key for '{}'", private_key_path.string());
  }
  std::string priv_text(priv);
  ssh_string_free_char(priv);
  if (priv_text.empty() || priv_text.back() != '\n') priv_text += '\n';
  char* pub = nullptr;
  if (ssh_pki_export_pubkey_base64(key.get(), &pub) != SSH_OK) {
    return fail("cannot export the public key for '{}'", private_key_path.string());
  }
  std::string pub_text = std::string("ssh-ed25519 ") + pub + " " + comment + "\n";
  ssh_string_free_char(pub);
  // write_file_atomic creates the temporary with the final mode, so the private key is
  // never readable by others, not even briefly.
  if (auto st = util::write_file_atomic(private_key_path, priv_text, 0600); !st) return st;
  return util::write_file_atomic(private_key_path.string() + ".pub", pub_text, 0644);
}

util::Result<std::string> known_hosts_line_from_text(const std::string& host, int port,
                                                     std::string_view text) {
  // "type base64 [comment]" — keep the first two fields.
  auto next_field = [&](size_t& pos) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    size_t b = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t' && text[pos] != '\n' &&
           text[pos] != '\r')
      ++pos;
    return std::string(text.substr(b, pos - b));
  };
  size_t pos = 0;
  std::string type = next_field(pos);
  std::string blob = next_field(pos);
  if (type.rfind("ssh-", 0) != 0 && type.rfind("ecdsa-", 0) != 0) {
    return fail("not an OpenSSH public key (expected 'ssh-ed25519 AAAA…', got '{}')",
                describe(std::string(text.substr(0, 40))));
  }
  if (blob.empty()) return fail("OpenSSH public key '{}' has no key data", type);
  if (host.empty() || host.find_first_of(" \t\n[],") != std::string::npos) {
    return fail("'{}' is not a usable host name for known_hosts", host);
  }
  std::string h = port == 22 ? host : "[" + host + "]:" + std::to_string(port);
  return h + " " + type + " " + blob;
}

util::Result<std::string> known_hosts_line(const std::string& host, int port,
                                           const std::filesystem::path& public_key_file) {
  auto text = util::read_file(public_key_file);
  if (!text) return text.error();
  auto line = known_hosts_line_from_text(host, port, *text);
  if (!line) return fail("{}: {}", public_key_file.string(), line.error().message);
  return line;
}

}  // namespace testbed::remote
