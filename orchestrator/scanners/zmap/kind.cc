#include "orchestrator/scanners/zmap/kind.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "orchestrator/scanners/raw_guard.h"
#include "orchestrator/scanners/scope.h"
#include "orchestrator/scanners/zmap/options.h"

namespace testbed::scanners::zmap {
namespace {

const RawGuardRules kRules{"ZMap", /*ranges=*/false, "-o {output}", "-i {scan_interface}",
                           "-G {router_mac}", kLabBlocklist};

// ZMap logs "<date> [INFO] zmap: …" lines and, once a second, a status line
//   " 0:01 33% (2s left); send: 3 done (1 p/s avg); recv: 3 3 p/s (3 p/s avg); …"
// It sends its probes, then waits --cooldown-time (8 s) for replies: one phase, the SYN
// scan (tcp_synscan), from its first line until it exits.
class Tracker : public analysis::SinglePhaseTracker {
 public:
  Tracker() : SinglePhaseTracker(analysis::Phase::kPortScan, "SYN scan", "zmap console") {}

 protected:
  bool counts(std::string_view line) const override {
    return line.find("send:") != std::string_view::npos ||
           line.find("sent:") != std::string_view::npos ||
           line.find("zmap:") != std::string_view::npos;
  }
};

}  // namespace

std::vector<Refusal> check(const std::vector<std::string>& command, const LabScope& scope) {
  return check_raw(kRules, command, scanners::parse(grammar(), command), scope);
}

std::vector<std::string> targets(const std::vector<std::string>& command) {
  return raw_targets(command, scanners::parse(grammar(), command));
}

util::Result<analysis::ScanResult> parse_result(std::string_view text, const std::string& name) {
  std::istringstream in{std::string(text)};
  std::string line;
  if (!std::getline(in, line) || line.find("saddr") == std::string::npos)
    return util::fail("{}:1: expected ZMap's CSV header row naming saddr (-O csv with "
                      "--output-fields including saddr)",
                      name);
  std::vector<std::string> cols = split_list(line, ",");
  auto col = [&](std::string_view n) -> int {
    for (size_t i = 0; i < cols.size(); ++i)
      if (cols[i] == n) return static_cast<int>(i);
    return -1;
  };
  const int saddr = col("saddr"), sport = col("sport"), success = col("success");
  analysis::ScanResult r;
  std::set<std::string> hosts;
  size_t n = 1;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    // Fields are plain (addresses, numbers, short words): no quoting to undo.
    std::vector<std::string> f;
    std::string cur;
    for (char c : line) {
      if (c == ',') {
        f.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    f.push_back(cur);
    if (f.size() != cols.size())
      return util::fail("{}:{}: {} fields where the header names {}", name, n, f.size(), cols.size());
    if (success >= 0 && f[success] != "1" && f[success] != "true") continue;
    hosts.insert(f[saddr]);
    if (sport >= 0) r.open_ports.push_back(fmt::format("{} {}/tcp", f[saddr], f[sport]));
  }
  r.hosts_up = static_cast<int>(hosts.size());
  r.finished = false;  // the CSV records no duration: the capture span is the duration
  return r;
}

const analysis::ScannerModel& model() {
  static const analysis::ScannerModel m{
      "zmap", "zmap.csv", "zmap.log", "zmap",
      [] { return std::unique_ptr<analysis::ConsoleTracker>(std::make_unique<Tracker>()); },
      [] {
        // Every packet of the run is its SYN scan's (probes, replies, the kernel's RSTs).
        return std::unique_ptr<analysis::ShapeClassifier>(
            std::make_unique<analysis::SinglePhaseShapes>(analysis::Phase::kPortScan));
      },
      &parse_result};
  return m;
}

}  // namespace testbed::scanners::zmap
