#include "orchestrator/remote/host_key.h"

#include <fmt/format.h>

#include <fstream>
#include <set>
#include <sstream>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::remote {

namespace fs = std::filesystem;

namespace {

/// "type base64" of a known_hosts or keyscan line (without name and comment).
std::string key_part(const std::string& line) {
  std::istringstream in(line);
  std::string name, type, blob;
  in >> name >> type >> blob;
  if (!name.empty() && name[0] == '@') in >> type >> blob;  // @cert-authority / @revoked
  return type + " " + blob;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty() && l[0] != '#') out.push_back(l);
  return out;
}

}  // namespace

std::string known_hosts_name(const std::string& host, int port) {
  return port == 22 ? host : fmt::format("[{}]:{}", host, port);
}

HostKeyCheck compare_host_keys(const std::string& host, int port,
                               const std::vector<std::string>& offered,
                               const fs::path& known_hosts) {
  HostKeyCheck c;
  c.offered = offered;
  if (offered.empty()) return c;  // kUnreachable
  std::vector<std::string> entries;
  std::error_code ec;
  if (fs::exists(known_hosts, ec)) {
    auto r = util::run_process(
        {"ssh-keygen", "-F", known_hosts_name(host, port), "-f", known_hosts.string()});
    if (r) entries = lines_of(r->out);
  }
  std::set<std::string> pinned;
  for (const auto& e : entries) pinned.insert(key_part(e));
  c.state = entries.empty() ? HostKeyState::kUnknown : HostKeyState::kChanged;
  for (const auto& o : offered)
    if (pinned.count(key_part(o))) c.state = HostKeyState::kPinned;
  // The fingerprint the user compares before accepting (ssh-keygen -lf reads stdin).
  util::ProcessOptions po;
  po.stdin_data = offered.front() + "\n";
  if (auto fp = util::run_process({"ssh-keygen", "-lf", "-"}, po); fp && fp->exit_code == 0) {
    std::istringstream in(fp->out);
    std::string bits;
    in >> bits >> c.fingerprint;
  }
  return c;
}

util::Result<HostKeyCheck> check_host_key(const std::string& host, int port,
                                          const fs::path& known_hosts, int timeout_s) {
  auto r = util::run_process({"ssh-keyscan", "-T", std::to_string(timeout_s), "-p",
                              std::to_string(port), "-t", "ed25519,ecdsa,rsa", host});
  if (!r) return r.error();
  return compare_host_keys(host, port, lines_of(r->out), known_hosts);
}

util::Status pin_host_key(const HostKeyCheck& check, const fs::path& known_hosts) {
  if (check.state != HostKeyState::kUnknown)
    return util::fail("{}: only an unknown host key is pinned here", known_hosts.string());
  std::string text;
  std::error_code ec;
  if (fs::exists(known_hosts, ec)) {
    auto old = util::read_file(known_hosts);
    if (!old) return old.error();
    text = *old;
    if (!text.empty() && text.back() != '\n') text += '\n';
  }
  for (const auto& o : check.offered) text += o + "\n";
  return util::write_file_atomic(known_hosts, text, 0600);
}

}  // namespace testbed::remote
