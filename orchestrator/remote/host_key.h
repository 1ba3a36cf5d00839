#pragma once
// Is a server's SSH host key pinned? The keys it offers (`ssh-keyscan`) against the
// entries of one known_hosts file (`ssh-keygen -F`, hashed entries included), and, only
// when the user says so, pinning an unknown one.
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::remote {

enum class HostKeyState {
  kPinned,       ///< a key the server offers is in the file
  kUnknown,      ///< the file has no entry for the server
  kChanged,      ///< the file has entries for it, none of them offered: refuse
  kUnreachable,  ///< the server offered no key (down, filtered, not SSH)
};

struct HostKeyCheck {
  HostKeyState state = HostKeyState::kUnreachable;
  std::vector<std::string> offered;  ///< known_hosts lines of the keys offered
  std::string fingerprint;           ///< SHA256 fingerprint of the first offered key
};

/// "host" for port 22, else "[host]:port" (OpenSSH's known_hosts spelling).
std::string known_hosts_name(const std::string& host, int port);

/// Compares what `host:port` offers with `known_hosts`. `offered` lines are as
/// `ssh-keyscan` prints them ("name type base64"), for tests without a server.
HostKeyCheck compare_host_keys(const std::string& host, int port,
                               const std::vector<std::string>& offered,
                               const std::filesystem::path& known_hosts);

/// Asks the server (ssh-keyscan, `timeout_s`) and compares.
util::Result<HostKeyCheck> check_host_key(const std::string& host, int port,
                                          const std::filesystem::path& known_hosts,
                                          int timeout_s = 5);

/// Appends the offered keys of `check` to `known_hosts` (created 0600), but only for an
/// unknown host: a changed key is never overwritten here.
util::Status pin_host_key(const HostKeyCheck& check, const std::filesystem::path& known_hosts);

}  // namespace testbed::remote
