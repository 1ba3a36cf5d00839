#include "orchestrator/backends/vm/host_check.h"

#include <fmt/format.h>
#include <libvirt/libvirt.h>

#include <sstream>

#include "orchestrator/backends/registry.h"
#include "orchestrator/backends/vm/volumes.h"
#include "orchestrator/virt/handles.h"

namespace testbed::backends::vm {

using virt::last_libvirt_error;
using virt::open_connection;

namespace {

std::string gib(uint64_t bytes) { return fmt::format("{:.1f} GiB", bytes / 1073741824.0); }

// One round trip: which tools exist, /dev/kvm, CPU flags, free space where the pool lives.
std::string probe_script(const std::string& pool_path) {
  std::string s;
  for (const auto& t : kRequiredTools)
    s += fmt::format("command -v {0} >/dev/null 2>&1 || echo missing {0}; ", t.program);
  s += "test -e /dev/kvm && echo dev_kvm; grep -qwE 'vmx|svm' /proc/cpuinfo && echo cpu_virt; ";
  s += fmt::format(
      "p={}; while [ ! -e \"$p\" ]; do p=$(dirname \"$p\"); done; "
      "echo free $(df -P -B1 \"$p\" | awk 'NR==2{{print $4}}'); true",
      pool_path);
  return s;
}

void read_probe(const std::string& out, HostFacts* f) {
  std::istringstream in(out);
  for (std::string word; in >> word;) {
    if (word == "missing") {
      std::string t;
      in >> t;
      f->missing_tools.push_back(t);
    } else if (word == "dev_kvm") {
      f->dev_kvm = true;
    } else if (word == "cpu_virt") {
      f->cpu_virtualisation = true;
    } else if (word == "free") {
      uint64_t n = 0;
      if (in >> n) f->free_bytes = n;
    }
  }
}

void probe_libvirt(const std::string& uri, HostFacts* f) {
  auto c = open_connection(uri);
  if (!c) {
    f->libvirt_error = c.error().message;
    return;
  }
  if (const char* type = virConnectGetType(c->get())) f->driver = type;
  if (f->driver != "QEMU") return;
  char* caps = virConnectGetDomainCapabilities(c->get(), nullptr, "x86_64", nullptr, "qemu", 0);
  if (!caps) f->emulator_error = last_libvirt_error();
  free(caps);
  virStoragePoolPtr* pools = nullptr;
  int n = virConnectListAllStoragePools(c->get(), &pools, 0);
  if (n < 0) {
    f->storage_error = last_libvirt_error();
    return;
  }
  for (int i = 0; i < n; ++i) virStoragePoolFree(pools[i]);
  free(pools);
}

}  // namespace

std::string host_accel(const HostFacts& f) {
  return f.dev_kvm && f.cpu_virtualisation ? "KVM" : "TCG";
}

std::vector<HostProblem> judge_host(const HostFacts& f, uint64_t needed_bytes) {
  std::vector<HostProblem> p;
  const auto& kh = f.login.known_hosts_file;
  const std::string name = remote::known_hosts_name(f.login.host, f.login.port);
  switch (f.key.state) {
    case remote::HostKeyState::kPinned:
      break;
    case remote::HostKeyState::kUnknown:
      p.push_back({fmt::format("the SSH host key of {} ({}) is not pinned in {}", name,
                               f.key.fingerprint, kh.string()),
                   "compare the fingerprint with the host's (`ssh-keygen -lf "
                   "/etc/ssh/ssh_host_ed25519_key.pub` there), then run `testbed host check "
                   "--accept-new-host-key URI`"});
      break;
    case remote::HostKeyState::kChanged:
      p.push_back({fmt::format("the SSH host key of {} changed: it offers {}, {} pins another",
                               name, f.key.fingerprint, kh.string()),
                   "find out why (a reinstalled host, or someone in between); remove the old "
                   "entry with `ssh-keygen -R` only once you know"});
      break;
    case remote::HostKeyState::kUnreachable:
      p.push_back({fmt::format("{} offers no SSH host key (down, unreachable or no sshd)", name),
                   "start sshd there (Debian package openssh-server) and check the address"});
      break;
  }
  if (f.key.state != remote::HostKeyState::kPinned) return p;  // nothing else was asked
  if (f.ssh_error) {
    p.push_back({fmt::format("cannot log in to {} as {}: {}", name, f.login.user, *f.ssh_error),
                 fmt::format("put {}.pub in {}'s ~/.ssh/authorized_keys there",
                             f.login.identity_file.string(), f.login.user)});
    return p;
  }
  for (const auto& t : kRequiredTools)
    for (const auto& m : f.missing_tools)
      if (m == t.program)
        p.push_back({fmt::format("{} is missing on the lab host ({})", t.program, t.why),
                     fmt::format("apt-get install {}", t.package)});
  if (f.libvirt_error) {
    p.push_back({fmt::format("libvirt does not answer at {}: {}", f.uri, *f.libvirt_error),
                 "install libvirt-daemon-system and start libvirtd there"});
    return p;
  }
  if (f.driver != "QEMU") {
    p.push_back({fmt::format("libvirt at {} runs the '{}' driver, not QEMU", f.uri, f.driver),
                 "install libvirt-daemon-driver-qemu there and restart libvirtd (no lab "
                 "running); remote lab hosts run VMs only"});
    return p;
  }
  if (f.emulator_error)
    p.push_back({fmt::format("no x86_64 QEMU emulator at {}: {}", f.uri, *f.emulator_error),
                 "apt-get install qemu-system-x86 there"});
  if (f.storage_error)
    p.push_back({fmt::format("libvirt's storage driver at {} failed: {}", f.uri, *f.storage_error),
                 "install libvirt-daemon-driver-storage (Debian: part of libvirt-daemon) "
                 "and restart libvirtd"});
  if (!f.free_bytes)
    p.push_back({fmt::format("cannot tell the free space at {} on the lab host", f.pool_path),
                 "check that df works there"});
  else if (*f.free_bytes < needed_bytes)
    p.push_back({fmt::format("{} free at {} on the lab host, the images need {}",
                             gib(*f.free_bytes), f.pool_path,
                             gib(needed_bytes)),
                 "free disk space there (or `testbed gc` old labs)"});
  return p;
}

util::Result<HostFacts> probe_host(const std::string& uri, const HostCheckOptions& opts) {
  HostFacts f;
  f.uri = uri;
  auto login = lab_host_ssh(uri);
  if (!login) return login.error();
  f.login = *login;
  f.pool_path = PoolSettings{}.path;
  auto key = remote::check_host_key(f.login.host, f.login.port, f.login.known_hosts_file,
                                    opts.ssh_timeout_s);
  if (!key) return key.error();
  f.key = *key;
  if (f.key.state == remote::HostKeyState::kUnknown && opts.accept_new_host_key) {
    if (auto s = remote::pin_host_key(f.key, f.login.known_hosts_file); !s) return s.error();
    f.key.state = remote::HostKeyState::kPinned;
  }
  if (f.key.state != remote::HostKeyState::kPinned) return f;
  auto session = remote::SshSession::connect(remote::target_of(f.login));
  if (!session) {
    f.ssh_error = session.error().message;
    return f;
  }
  auto r = session->exec({"sh", "-c", probe_script(f.pool_path)});
  if (!r) {
    f.ssh_error = r.error().message;
    return f;
  }
  if (r->exit_status != 0) {
    f.ssh_error = fmt::format("the probe command failed (exit {}): {}", r->exit_status, r->err);
    return f;
  }
  read_probe(r->out, &f);
  probe_libvirt(uri, &f);
  return f;
}

std::string format_host_report(const HostFacts& f, const std::vector<HostProblem>& problems) {
  std::string s = fmt::format("lab host {}\n", f.uri);
  auto line = [&](const std::string& what, bool ok, const std::string& detail) {
    s += fmt::format("  {:<10} {:<4} {}\n", what, ok ? "ok" : "FAIL", detail);
  };
  const bool pinned = f.key.state == remote::HostKeyState::kPinned;
  line("host key", pinned,
       fmt::format("{} in {}", f.key.fingerprint, f.login.known_hosts_file.string()));
  if (pinned) {
    line("ssh", !f.ssh_error, f.ssh_error ? *f.ssh_error : f.login.user + "@" + f.login.host);
    if (!f.ssh_error) {
      std::string tools;
      for (const auto& t : kRequiredTools) tools += std::string(tools.empty() ? "" : ", ") + t.program;
      std::string missing;
      for (const auto& m : f.missing_tools) missing += std::string(missing.empty() ? "" : ", ") + m;
      line("tools", f.missing_tools.empty(), missing.empty() ? tools : "missing: " + missing);
      line("libvirt", !f.libvirt_error && f.driver == "QEMU",
           f.libvirt_error ? *f.libvirt_error : "driver " + f.driver);
      if (!f.libvirt_error) {
        line("emulator", !f.emulator_error, f.emulator_error ? *f.emulator_error : "qemu x86_64");
        line("accel", true, host_accel(f));
        line("storage", !f.storage_error, f.storage_error ? *f.storage_error : "pool testbed");
      }
      line("space", f.free_bytes.has_value(),
           f.free_bytes ? gib(*f.free_bytes) + " free at " + f.pool_path : "?");
    }
  }
  for (const auto& p : problems) s += fmt::format("problem: {}\n  fix: {}\n", p.what, p.fix);
  s += problems.empty() ? "ready\n" : fmt::format("not ready: {} problem(s)\n", problems.size());
  return s;
}

util::Result<HostVerdict> check_host(const std::string& uri, uint64_t needed_bytes,
                                     const HostCheckOptions& opts, bool with_report) {
  auto facts = probe_host(uri, opts);
  if (!facts) return util::fail("lab host {}: {}", uri, facts.error().message);
  auto problems = judge_host(*facts, needed_bytes);
  HostVerdict v;
  v.ready = problems.empty();
  if (with_report || !v.ready) v.report = format_host_report(*facts, problems);
  return v;
}

}  // namespace testbed::backends::vm
