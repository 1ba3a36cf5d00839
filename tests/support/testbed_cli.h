#pragma once
// For the tests that run the built `testbed` binary as a user does (labels e2e, faults):
// launching it with its output streamed to a callback, and Table 1's columns counted
// independently of testbed by tshark. Header-only; each test binary defines
// TESTBED_BINARY_DIR (CMake's testbed_add_live_test does).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/util/subprocess.h"

namespace testbed::test_support {

/// The results directory `testbed run --output OUT` made in OUT/<experiment>/ (its
/// timestamped directory, not the latest/latest-good links); empty if there is none.
inline std::filesystem::path run_results_dir(const std::filesystem::path& experiment_dir) {
  std::filesystem::path found;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(experiment_dir, ec))
    if (e.is_directory() && !e.is_symlink()) found = e.path();
  return found;
}

inline const std::string& testbed_binary() {
  static const std::string path = std::string(TESTBED_BINARY_DIR) + "/testbed";
  return path;
}

struct Launch {
  int exit_code = -1;
  std::string log;  ///< stderr + stdout lines
};

/// Runs testbed with `args` (and `env` added); `on_line` sees each output line with the
/// child's PID and may signal it. Every line is echoed to stderr. Returns when it exits.
inline Launch launch(const std::vector<std::string>& args,
                     const std::function<void(const std::string&, pid_t)>& on_line,
                     const std::vector<std::pair<std::string, std::string>>& env = {}) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const std::string& bin = testbed_binary();
  pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(bin.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    _exit(127);
  }
  ::close(fds[1]);
  Launch l;
  FILE* f = ::fdopen(fds[0], "r");
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f)) {
    std::string line(buf);
    l.log += line;
    std::fputs(line.c_str(), stderr);
    if (on_line) on_line(line, pid);
  }
  std::fclose(f);
  int status = 0;
  ::waitpid(pid, &status, 0);
  l.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return l;
}

/// Table 1's columns for one direction, counted independently of testbed by tshark
/// (outer IPv4 header only: -E occurrence=f, so ICMP errors quoting a TCP header count as
/// ICMP, as in the study).
struct Counts {
  uint64_t packets = 0, bytes = 0, icmp = 0, tcp = 0, udp = 0, other = 0;
};

/// {sent, received}: from and to `scanner` in `pcap`.
inline std::pair<Counts, Counts> tshark_counts(const std::filesystem::path& pcap,
                                               const std::string& scanner) {
  auto r = util::run_process({"tshark", "-n", "-r", pcap.string(), "-Y", "ip", "-T", "fields", "-E",
                              "occurrence=f", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.proto",
                              "-e", "frame.len"});
  EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.error().message);
  Counts sent, recv;
  std::istringstream in(r.ok() ? r->out : "");
  std::string src, dst;
  int proto = 0;
  uint64_t len = 0;
  while (in >> src >> dst >> proto >> len) {
    Counts* c = src == scanner ? &sent : dst == scanner ? &recv : nullptr;
    if (!c) continue;
    ++c->packets;
    c->bytes += len;
    (proto == 1 ? c->icmp : proto == 6 ? c->tcp : proto == 17 ? c->udp : c->other)++;
  }
  return {sent, recv};
}

/// Domains and networks of lab `lab` (names tb-<lab>-*) that libvirt at `uri` still has,
/// as "list: NAME" / "net-list: NAME" lines; a failing virsh is a line too.
inline std::vector<std::string> libvirt_objects_of(const std::string& uri, const std::string& lab) {
  std::vector<std::string> out;
  const std::string prefix = "tb-" + lab + "-";
  for (const char* what : {"list", "net-list"}) {
    auto r = util::run_process({"virsh", "-q", "-c", uri, what, "--all", "--name"});
    if (!r || r->exit_code != 0) {
      out.push_back(std::string("virsh ") + what + " failed");
      continue;
    }
    std::istringstream in(r->out);
    for (std::string l; std::getline(in, l);)
      if (l.rfind(prefix, 0) == 0) out.push_back(std::string(what) + ": " + l);
  }
  return out;
}

}  // namespace testbed::test_support
