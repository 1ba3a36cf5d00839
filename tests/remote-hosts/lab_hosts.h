#pragma once
// Lab hosts for tests: tests/remote-hosts/lab-hosts.sh driven from C++. `up` makes the
// named hosts (A, B, ...: own network and mount namespace, libvirtd, sshd) and the
// destructor removes them and everything they held. Needs root.
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::test_support {

class LabHosts {
 public:
  static std::string script() {
    return std::string(TESTBED_SOURCE_DIR) + "/tests/remote-hosts/lab-hosts.sh";
  }
  /// Makes lab hosts `names`; an error carries the script's output.
  static util::Result<std::unique_ptr<LabHosts>> up(const std::vector<std::string>& names) {
    std::unique_ptr<LabHosts> h(new LabHosts());
    h->state_ = "/var/tmp/testbed-lab-hosts-" + std::to_string(::getpid());
    std::vector<std::string> argv = {script(), "up", h->state_.string()};
    argv.insert(argv.end(), names.begin(), names.end());
    auto r = util::run_process(argv);
    if (!r || r->exit_code != 0)
      return util::fail("lab-hosts.sh up failed: {}", r ? r->err + r->out : r.error().message);
    return h;
  }
  ~LabHosts() { util::run_process({script(), "down", state_.string()}).ok(); }

  /// qemu+ssh://root@198.18.0.1N/system?keyfile=…&known_hosts=…&command=…
  std::string uri(const std::string& name) const { return run("uri", name); }
  /// Runs argv inside host `name`'s namespaces; its stdout, or an error.
  util::Result<std::string> exec(const std::string& name, std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {script(), "exec", state_.string(), name});
    auto r = util::run_process(argv);
    if (!r) return r.error();
    if (r->exit_code != 0) return util::fail("exit {}: {}", r->exit_code, r->err);
    return r->out;
  }
  /// Stops host `name`'s libvirtd and cuts its network / undoes that.
  bool stop(const std::string& name) const { return exit_of("stop", name) == 0; }
  bool revive(const std::string& name) const { return exit_of("revive", name) == 0; }
  const std::filesystem::path& state() const { return state_; }
  std::filesystem::path known_hosts() const { return state_ / "known_hosts"; }

 private:
  LabHosts() = default;
  std::string run(const std::string& cmd, const std::string& name) const {
    auto r = util::run_process({script(), cmd, state_.string(), name});
    if (!r) return {};
    std::string out = r->out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  int exit_of(const std::string& cmd, const std::string& name) const {
    auto r = util::run_process({script(), cmd, state_.string(), name});
    return r ? r->exit_code : -1;
  }
  std::filesystem::path state_;
};

}  // namespace testbed::test_support
