#include "orchestrator/util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

extern char** environ;

namespace testbed::util {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() { close_both(); }
  void close_both() {
    for (int& f : fd) {
      if (f >= 0) ::close(f);
      f = -1;
    }
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

std::string tail_lines(const std::string& s, int n) {
  size_t pos = s.size();
  while (pos > 0 && (s[pos - 1] == '\n')) --pos;
  size_t end = pos;
  for (int i = 0; i < n && pos > 0; ++i) {
    pos = s.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  return s.substr(pos == 0 ? 0 : pos + 1, end - (pos == 0 ? 0 : pos + 1));
}

}  // namespace

std::string format_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && a.find_first_of(" \t\n'\"\\$`*?;&|<>(){}") == std::string::npos;
    if (plain) {
      out += a;
    } else {
      out += '\'';
      for (char c : a) {
        if (c == '\'')
          out += "'\\''";
        else
          out += c;
      }
      out += '\'';
    }
  }
  return out;
}

bool have_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& opts) {
  if (argv.empty()) return fail("run_process: empty command");
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) || ::pipe2(out.fd, O_CLOEXEC) || ::pipe2(err.fd, O_CLOEXEC))
    return fail("pipe: {}", std::strerror(errno));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.fd[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err.fd[1], 2);
  if (opts.cwd) posix_spawn_file_actions_addchdir_np(&fa, opts.cwd->c_str());

  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& e : opts.extra_env) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  // A cancellable child leads a process group of its own, so that stopping it stops
  // everything it started.
  const bool own_group = opts.cancel != nullptr;
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  if (own_group) {
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
  }
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, cargv[0], &fa, &attr, cargv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return fail("cannot run {}: {}", argv[0], std::strerror(rc));
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  if (opts.stdin_data) {
    const std::string& d = *opts.stdin_data;
    size_t off = 0;
    ::signal(SIGPIPE, SIG_IGN);
    while (off < d.size()) {
      ssize_t n = ::write(in.fd[1], d.data() + off, d.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }
  in.close_end(1);

  ProcessResult res;
  std::string line_buf;
  auto deadline = opts.timeout ? std::chrono::steady_clock::now() + *opts.timeout
                               : std::chrono::steady_clock::time_point::max();
  bool term_sent = false;
  auto kill_at = std::chrono::steady_clock::time_point::max();
  auto give_up_at = std::chrono::steady_clock::time_point::max();
  auto signal_child = [&](int sig) { ::kill(own_group ? -pid : pid, sig); };
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    pollfd pfd[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    int wait_ms = 200;
    int pr = ::poll(pfd, 2, wait_ms);
    if (pr < 0 && errno != EINTR) break;
    auto now = std::chrono::steady_clock::now();
    if (!term_sent && !res.cancelled && opts.cancel && opts.cancel->load()) {
      signal_child(SIGTERM);
      res.cancelled = true;
      kill_at = now + opts.cancel_grace;
    } else if (!term_sent && !res.cancelled && now > deadline) {
      signal_child(SIGTERM);
      term_sent = true;
      kill_at = now + std::chrono::seconds(5);
    } else if (now > kill_at) {
      signal_child(SIGKILL);
      kill_at = std::chrono::steady_clock::time_point::max();
      // Something outside the group may still hold our pipes: stop reading soon.
      give_up_at = now + std::chrono::seconds(5);
    } else if (now > give_up_at) {
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(pfd[i].fd, buf, sizeof buf);
      if (n <= 0) {
        if (i == 0)
          out.close_end(0);
        else
          err.close_end(0);
        --open_fds;
        continue;
      }
      if (i == 1) {
        res.err.append(buf, static_cast<size_t>(n));
      } else if (opts.on_stdout_line) {
        line_buf.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = line_buf.find('\n')) != std::string::npos) {
          opts.on_stdout_line(line_buf.substr(0, nl));
          line_buf.erase(0, nl + 1);
        }
      } else {
        res.out.append(buf, static_cast<size_t>(n));
      }
    }
  }
  if (opts.on_stdout_line && !line_buf.empty()) opts.on_stdout_line(line_buf);
  if (res.cancelled) {
    // Whatever of the group outlived its leader goes too. The leader is waited for but
    // not reaped yet, so its PID (the group's ID) cannot have been reused.
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 &&
           errno == EINTR) {
    }
    ::kill(-pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status))
    res.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    res.exit_code = 128 + WTERMSIG(status);
  if (term_sent) res.err += fmt::format("\n(killed after timeout of {} ms)", opts.timeout->count());
  if (res.cancelled) res.err += "\n(stopped: interrupted)";
  return res;
}

Result<ProcessResult> run_checked(const std::vector<std::string>& argv,
                                  const ProcessOptions& opts) {
  auto r = run_process(argv, opts);
  if (!r) return r.error();
  if (r->exit_code != 0) {
    return fail("`{}` exited with status {}:\n{}", format_argv(argv), r->exit_code,
                tail_lines(r->err.empty() ? r->out : r->err, 15));
  }
  return r;
}

}  // namespace testbed::util
