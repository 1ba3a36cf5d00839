#include "orchestrator/report/render_common.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "orchestrator/config/backend.h"

namespace testbed::report {

std::string lab_backend_note(const std::vector<RunRecord>& runs) {
  std::set<std::string> kinds;
  bool tcg = false;
  for (const RunRecord& r : runs) {
    const auto backend = config::parse_backend_kind(r.manifest.lab.backend);
    const std::string& accel = r.manifest.lab.accel;
    if (backend == config::BackendKind::kVm) {
      kinds.insert(accel == "tcg" ? "QEMU virtual machines under TCG (software emulation)"
                                  : "QEMU/KVM virtual machines");
      tcg = tcg || accel == "tcg";
    } else if (backend == config::BackendKind::kLxc) {
      kinds.insert("LXC containers");
    }
  }
  if (kinds.empty()) return "";
  std::string s = fmt::format("Lab nodes: {}.", fmt::join(kinds, "; "));
  if (tcg)
    s += " Durations and rates under TCG are not comparable with KVM or LXC runs (every guest "
         "instruction is emulated); packet contents, counts and phases are.";
  return s;
}

std::string first_line(const std::string& s) {
  size_t a = s.find_first_not_of(" \r\n\t");
  if (a == std::string::npos) return "";
  size_t e = s.find_first_of("\r\n", a);
  return s.substr(a, e == std::string::npos ? std::string::npos : e - a);
}

std::string port_str(const analysis::PacketKey& k) {
  return (k.proto == 6 || k.proto == 17) ? std::to_string(k.dport) : "";
}

namespace {
/// The kinds of the runs that say, in first-seen order.
std::vector<std::string> kinds_of(const std::vector<RunRecord>& runs) {
  std::vector<std::string> kinds;
  for (const RunRecord& r : runs) {
    auto k = r.kind();
    if (!k) continue;
    std::string name(k.value()->program);
    if (std::find(kinds.begin(), kinds.end(), name) == kinds.end()) kinds.push_back(name);
  }
  return kinds;
}
}  // namespace

bool across_tools(const std::vector<RunRecord>& runs) { return kinds_of(runs).size() > 1; }

std::string report_title(const std::vector<RunRecord>& runs) {
  auto kinds = kinds_of(runs);
  if (kinds.size() <= 1 && (kinds.empty() || kinds[0] == "nmap")) return "Nmap traffic by version";
  std::string list;
  for (const auto& k : kinds) list += (list.empty() ? "" : ", ") + k;
  return (kinds.size() > 1 ? "Scanner traffic: " : "Scanner traffic by version: ") + list;
}

std::string classifier_question(const std::vector<RunRecord>& runs) {
  return across_tools(runs) ? "Which scanner produced a capture?"
                            : "Which version produced a capture?";
}

std::string run_note(const RunRecord& r) {
  std::string note = r.error.empty() ? "" : (r.stage.empty() ? "" : r.stage + ": ") + r.error;
  for (const auto& t : r.manifest.retries)
    note += fmt::format("{}retried after attempt {} ({} at {})", note.empty() ? "" : "; ",
                        t.attempt, t.reason, t.stage);
  // Runs spread over several lab hosts (`hosts:`): which one ran it (its URI's options,
  // such as keyfile=, left out).
  if (const std::string& h = r.manifest.lab.host; !h.empty())
    note += fmt::format("{}ran on {}", note.empty() ? "" : "; ", h.substr(0, h.find('?')));
  return note;
}

}  // namespace testbed::report
