#pragma once
// Shared by the live lab tests (LXC, VM, containment): a PID no process has, a shell
// script on a node with its output, the host's network interfaces by name prefix.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/util/subprocess.h"
#include "orchestrator/lab/lab.h"

namespace testbed::virt::live {
using lab::Lab;

/// A PID that certainly belongs to no running process: a reaped child's.
inline int64_t dead_pid() {
  pid_t p = fork();
  if (p == 0) _exit(0);
  waitpid(p, nullptr, 0);
  return p;
}

/// `script` under /bin/sh on `node`; its stdout. With `rc`, the exit status goes there;
/// without, anything but 0 is a failed expectation.
inline std::string run_on(Lab& lab, const std::string& node, const std::string& script,
                          int* rc = nullptr) {
  auto r = lab.exec(node, {"/bin/sh", "-c", script});
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return "";
  if (rc)
    *rc = r->exit_status;
  else
    EXPECT_EQ(r->exit_status, 0) << node << ": " << script << "\n" << r->out << r->err;
  return r->out;
}

/// Host interfaces whose name starts with `prefix`.
inline std::vector<std::string> host_links_with_prefix(const std::string& prefix) {
  std::vector<std::string> out;
  auto r = util::run_checked({"ip", "-o", "link", "show"});
  if (!r) return out;
  size_t pos = 0;
  while ((pos = r->out.find(": " + prefix, pos)) != std::string::npos) {
    size_t end = r->out.find_first_of(":@", pos + 2);
    out.push_back(r->out.substr(pos + 2, end - pos - 2));
    pos = end;
  }
  return out;
}

}  // namespace testbed::virt::live
