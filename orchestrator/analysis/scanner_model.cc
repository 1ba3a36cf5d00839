#include "orchestrator/analysis/scanner_model.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "orchestrator/util/files.h"

namespace testbed::analysis {

util::Result<PhaseTimeline> parse_console_log(const ScannerModel& kind, std::string_view text,
                                              const std::string& name) {
  auto tr = kind.tracker();
  std::istringstream in{std::string(text)};
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    char* end = nullptr;
    double ts = std::strtod(line.c_str(), &end);
    if (end == line.c_str() || !std::isfinite(ts))
      return util::fail("{}:{}: expected \"<epoch seconds> <{} output line>\"", name, n, kind.kind);
    std::string_view rest(end);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    tr->on_line(ts, rest);
  }
  return tr->timeline();
}

util::Result<PhaseTimeline> read_console_log(const ScannerModel& kind,
                                             const std::filesystem::path& path) {
  auto text = util::read_file(path);
  if (!text) return text.error();
  return parse_console_log(kind, *text, path.string());
}

util::Result<ScanResult> read_result_file(const ScannerModel& kind,
                                          const std::filesystem::path& path) {
  auto text = util::read_file(path);
  if (!text) return util::fail("cannot read {} {}: {}", kind.kind, kind.result_file, text.error().message);
  return kind.parse_result(*text, path.string());
}

void SinglePhaseTracker::on_line(double ts, std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' '))
    line.remove_suffix(1);
  if (!counts(line)) return;
  if (!any_) first_ = ts;
  any_ = true;
  last_ = std::max(last_, ts);
}

void SinglePhaseTracker::on_exit(double ts) { exit_ = ts; }

PhaseTimeline SinglePhaseTracker::timeline() const {
  PhaseTimeline tl;
  tl.source = source_;
  tl.start = first_;
  tl.end = std::max(last_, exit_);
  if (any_) tl.intervals.push_back({phase_, first_, std::max(last_, exit_), label_});
  return tl;
}

std::string SinglePhaseTracker::current_phase() const { return any_ ? phase_name(phase_) : ""; }

}  // namespace testbed::analysis
