#pragma once
// SSH to lab nodes through libssh: public-key login with pinned host keys, commands run
// from an argument vector (quoted for the remote shell), output streamed line by line or
// raw (optionally on a PTY), standard input given or streamed from a descriptor, and file
// transfer by SFTP.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/remote/handles.h"
#include "orchestrator/util/result.h"

namespace testbed::remote {

/// Where and how to log in. Host keys are pinned: only keys listed in known_hosts_file
/// (OpenSSH known_hosts format, "[host]:port" for ports other than 22) are accepted.
/// No ~/.ssh/config, agent or system known_hosts is consulted.
/// A host the connection to a node goes through (the libvirt host of a remote lab, whose
/// lab networks only it can reach): OpenSSH's `ssh -W` run as libssh's ProxyCommand, with
/// the same rules — this key, this pinned known_hosts, no ssh_config, no agent, no prompt.
struct SshJump {
  std::string host;
  int port = 22;
  std::string user = "root";
  std::filesystem::path identity_file;
  std::filesystem::path known_hosts_file;
};

/// The ProxyCommand that carries a connection to host:port through `jump` (quoted for
/// the shell libssh runs it with).
std::string jump_proxy_command(const SshJump& jump, const std::string& host, int port,
                               std::chrono::milliseconds connect_timeout);

struct SshTarget;
/// Logging in to the jump host itself (e.g. to run a command on a lab host).
SshTarget target_of(const SshJump& jump);

struct SshTarget {
  std::string host;
  int port = 22;
  std::string user = "root";
  std::filesystem::path identity_file;     ///< private key (OpenSSH format), e.g. ed25519
  std::filesystem::path known_hosts_file;  ///< the accepted host keys; must exist
  std::chrono::milliseconds connect_timeout{10000};
  std::optional<SshJump> jump;  ///< reach `host` through this one
};

struct ExecOptions {
  /// Run on a pseudo-terminal: stdout and stderr are merged as on a terminal (lines go to
  /// `out` and on_line; `err` stays empty), '\r' is stripped, and closing the channel
  /// hangs the remote process up. Programs that buffer when not on a TTY print live.
  bool pty = false;
  /// Called with each output line (without '\n' / '\r') as soon as it arrives; a last line
  /// without '\n' is delivered at the end. Without a PTY: standard output lines only. With
  /// a PTY a lone '\r' ends a line too (a status line rewritten in place, as masscan's).
  std::function<void(std::string_view line)> on_line;
  /// Without a PTY, called with each standard error line as it arrives.
  std::function<void(std::string_view line)> on_err_line;
  /// The whole command must finish within this time, else it is ended and exec fails
  /// naming host and command. Ending it: without a PTY its process group gets TERM (KILL
  /// 2 s later) from a second channel — OpenSSH refuses "signal" requests for root
  /// sessions; with a PTY closing the channel hangs it up (SIGHUP).
  std::optional<std::chrono::milliseconds> timeout;
  /// Written to the command's standard input, which is then closed (EOF).
  std::optional<std::string> stdin_data;
  /// When set and it becomes true (e.g. from a signal-watching thread), the command is
  /// ended as on a timeout and exec fails with "cancelled" within ~50 ms.
  const std::atomic<bool>* cancel = nullptr;
  /// Standard output (with a PTY: the terminal's output, '\r' kept) is handed over raw, as
  /// it arrives (binary data such as a pcap stream), instead of being split into lines and
  /// kept in ExecResult::out.
  std::function<void(std::string_view data)> on_out_data;
  /// Without a PTY: when it becomes true the command's process group gets SIGTERM and
  /// exec waits for it to end and returns its exit status and output as usual, for
  /// commands that finish cleanly on TERM (tcpdump writes its statistics). Unlike
  /// `cancel` this is not a failure; `timeout` still bounds the whole.
  const std::atomic<bool>* stop = nullptr;
  /// Standard input streamed from this file descriptor (a pipe, file or terminal) as it
  /// becomes readable, and its end forwarded as EOF: an interactive remote shell (`lab
  /// exec`). Sent only as fast as the channel's window allows, so output keeps flowing
  /// meanwhile (no deadlock with a command that echoes its input). -1: not used; then
  /// stdin_data, or an immediate EOF without a PTY. The descriptor is only read, never
  /// switched to non-blocking mode (a terminal's flags are shared with other processes).
  int stdin_fd = -1;
  /// Without a PTY: standard error handed over raw, as it arrives (the counterpart of
  /// on_out_data), instead of being split into lines and kept in ExecResult::err.
  std::function<void(std::string_view data)> on_err_data;
  /// With a PTY: its terminal type and size in characters.
  std::string pty_term = "dumb";
  int pty_cols = 512;
  int pty_rows = 50;
  /// With a PTY: polled while the command runs; a size it returns is sent as the
  /// terminal's new size (the local terminal was resized).
  std::function<std::optional<std::pair<int, int>>()> pty_resize;
};

struct ExecResult {
  /// The command's exit status; 128+N when it died of signal N (as a shell reports it),
  /// -1 when the server reported neither.
  int exit_status = -1;
  std::string out;  ///< standard output ('\r' stripped in PTY mode), also when streamed
  std::string err;  ///< standard error (empty in PTY mode)
};

/// One authenticated SSH connection. Move-only; not thread-safe (one call at a time).
/// TCP keep-alive is on (idle 10 s, then 3 probes 5 s apart), so a node that vanishes
/// without closing the connection (its container destroyed) fails a running exec within
/// about 25 s instead of hanging it.
class SshSession {
 public:
  /// Connects, verifies the server's host key against target.known_hosts_file (an unknown
  /// or changed key is refused) and logs in with target.identity_file.
  static util::Result<SshSession> connect(const SshTarget& target);

  /// connect(), retried every `interval` while the server is not (yet) accepting
  /// connections — a node still booting — until `total` has passed. Host-key and login
  /// refusals are final at once: retrying cannot fix them.
  static util::Result<SshSession> connect_retrying(
      const SshTarget& target, std::chrono::milliseconds total,
      std::chrono::milliseconds interval = std::chrono::milliseconds(200));

  SshSession(SshSession&&) noexcept = default;
  SshSession& operator=(SshSession&&) noexcept = default;
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;
  ~SshSession() = default;

  /// Runs argv on the node. Every argument is single-quoted for the remote POSIX shell, so
  /// the remote program receives exactly argv. argv[0] is a program found in the node's
  /// PATH (the shell exec()s it; shell builtins such as `cd` are not commands here; a
  /// missing program exits 127). A non-zero exit status is not an error (see ExecResult);
  /// a timeout or a dropped connection is.
  util::Result<ExecResult> exec(const std::vector<std::string>& argv, const ExecOptions& opts = {});

  /// Runs `script` as the remote shell's command line, unquoted. Only for fixed scripts
  /// written in our own source code — never for strings taken from config files.
  util::Result<ExecResult> exec_shell(const std::string& script, const ExecOptions& opts = {});

  /// Copies remote_path to `local` by SFTP: written to local + ".part", fsynced, then
  /// renamed, so `local` is either absent/old or complete. Once `cancel` is true the copy
  /// stops, removes its .part and fails with "cancelled".
  util::Status download(const std::string& remote_path, const std::filesystem::path& local,
                        const std::atomic<bool>* cancel = nullptr);

  /// Copies `local` to remote_path by SFTP (via remote_path + ".part", then renamed),
  /// and sets its mode. `cancel` as for download.
  util::Status upload(const std::filesystem::path& local, const std::string& remote_path,
                      int mode = 0644, const std::atomic<bool>* cancel = nullptr);

  /// "user@host:port", for messages.
  std::string where() const;
  const SshTarget& target() const { return target_; }

 private:
  SshSession(SshTarget t, SessionHandle s) : target_(std::move(t)), session_(std::move(s)) {}
  /// connect(); *transient says whether the failure was at the TCP/handshake stage.
  static util::Result<SshSession> connect_impl(const SshTarget& target, bool* transient);
  /// Runs `command` (already a shell command line). `shown` names it in messages; with
  /// `exec_last`, the command is a simple command that may replace the shell (exec).
  util::Result<ExecResult> run(const std::string& command, const std::string& shown,
                               const ExecOptions& opts, bool exec_last);
  /// Ends the process group `pgid` on the node (TERM, KILL 2 s later) over a new channel.
  void kill_process_group(long pgid);
  util::Result<SftpHandle> open_sftp();

  SshTarget target_;
  SessionHandle session_;
};

/// Generates an ed25519 key pair: the private key (OpenSSH format) at private_key_path with
/// mode 0600 and the public key at private_key_path + ".pub" ("ssh-ed25519 AAAA… comment").
/// Existing files are replaced atomically.
util::Status generate_ed25519_keypair(const std::filesystem::path& private_key_path,
                                      const std::string& comment = "testbed");

/// One known_hosts line pinning the public key in `public_key_file` (an OpenSSH .pub file,
/// e.g. a node's /etc/ssh/ssh_host_ed25519_key.pub) for host:port. Port 22 gives "host …",
/// other ports "[host]:port …".
util::Result<std::string> known_hosts_line(const std::string& host, int port,
                                           const std::filesystem::path& public_key_file);

/// Same from the public key text itself ("ssh-ed25519 AAAA… [comment]").
util::Result<std::string> known_hosts_line_from_text(const std::string& host, int port,
                                                     std::string_view public_key_text);

}  // namespace testbed::remote
