#pragma once
// Is a remote lab host ready for a VM lab? `testbed host check URI`, and `testbed run`
// before it creates anything. What is gathered (HostFacts: over SSH and libvirt) is kept
// apart from what is judged (judge_host: pure), so each missing piece is tested alone.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/remote/host_key.h"
#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"

namespace testbed::backends::vm {

struct HostFacts {
  std::string uri;
  remote::SshJump login;                 ///< how testbed logs in (registry.h lab_host_ssh)
  remote::HostKeyCheck key;              ///< the host key against login.known_hosts_file
  std::optional<std::string> ssh_error;  ///< login or the probe command failed
  std::vector<std::string> missing_tools;  ///< of kRequiredTools, not found in PATH there
  bool dev_kvm = false;                  ///< /dev/kvm exists there
  bool cpu_virtualisation = false;       ///< vmx or svm in its /proc/cpuinfo
  std::optional<std::string> libvirt_error;  ///< libvirt did not answer at the URI
  std::string driver;                    ///< virConnectGetType ("QEMU")
  std::optional<std::string> emulator_error;  ///< no x86_64 QEMU emulator there
  std::optional<std::string> storage_error;   ///< the storage driver failed
  std::string pool_path;                 ///< the `testbed` pool's directory (or where it goes)
  std::optional<uint64_t> free_bytes;    ///< free space there
};

/// Programs a lab host needs, and the Debian package of each.
struct RequiredTool {
  const char* program;
  const char* package;
  const char* why;
};
inline constexpr RequiredTool kRequiredTools[] = {
    {"tcpdump", "tcpdump", "captures on the lab router's tap"},
    {"ip", "iproute2", "the subnet check reads the host's addresses"},
    {"sha256sum", "coreutils", "uploaded images are checked by hash"},
};

struct HostProblem {
  std::string what;  ///< what is wrong
  std::string fix;   ///< what to install or do
};

/// Every problem of `facts` for a lab needing `needed_bytes` of new volumes. Empty: ready.
std::vector<HostProblem> judge_host(const HostFacts& facts, uint64_t needed_bytes);

/// "KVM" or "TCG" as the lab host would run guests (no usable /dev/kvm: TCG).
std::string host_accel(const HostFacts& facts);

struct HostCheckOptions {
  /// Pin an unknown host key (never a changed one) before logging in.
  bool accept_new_host_key = false;
  int ssh_timeout_s = 5;
};

/// Gathers the facts about the lab host of `uri` (qemu+ssh://…): host key, SSH login,
/// tools, /dev/kvm, libvirt, QEMU driver and emulator, pool and free space. An Error only
/// when the URI itself is unusable (not remote, no key file…): what the host lacks is in
/// the facts. With accept_new_host_key an unknown key is pinned (facts.key says kPinned).
util::Result<HostFacts> probe_host(const std::string& uri, const HostCheckOptions& opts = {});

/// The report `testbed host check` prints: one line per fact, then the problems.
std::string format_host_report(const HostFacts& facts, const std::vector<HostProblem>& problems);

/// probe_host, then judge_host for images of `needed_bytes`: ready, and the report
/// (format_host_report) when it is to be shown. An Error "lab host URI: why" when the host
/// cannot be probed at all.
struct HostVerdict {
  bool ready = false;
  std::string report;  ///< empty when ready and not asked for (with_report false)
};
util::Result<HostVerdict> check_host(const std::string& uri, uint64_t needed_bytes,
                                     const HostCheckOptions& opts, bool with_report);

}  // namespace testbed::backends::vm
