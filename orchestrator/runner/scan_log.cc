#include "orchestrator/runner/scan_log.h"

#include <fmt/format.h>

#include "orchestrator/analysis/scanner_model.h"
#include "orchestrator/util/files.h"

namespace testbed::runner {

ScanLog::ScanLog(const Clock& clock, std::unique_ptr<analysis::ConsoleTracker> tracker,
                 double latency, double boundary_slack)
    : clock_(clock),
      latency_(latency),
      boundary_slack_(boundary_slack),
      tracker_(std::move(tracker)) {}

ScanLog::~ScanLog() = default;

void ScanLog::add(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  double t = clock_.now() - latency_;
  lines_.emplace_back(t, std::string(line));
  tracker_->on_line(t, line);
}

std::string ScanLog::current_phase() const { return tracker_->current_phase(); }
bool ScanLog::lingering() const { return tracker_->lingering(); }

util::Status ScanLog::write(const std::filesystem::path& log_path,
                            const std::filesystem::path& phases_path, double started,
                            double finished) const {
  std::string text;
  for (const auto& [t, l] : lines_) text += fmt::format("{:.6f} {}\n", t, l);
  if (auto st = util::write_file_atomic(log_path, text); !st) return st;
  tracker_->on_exit(finished);
  analysis::PhaseTimeline tl = tracker_->timeline();
  if (boundary_slack_ >= 0) tl.boundary_slack = boundary_slack_;
  tl.start = started;
  tl.end = finished;
  if (latency_ > 0)
    tl.source += fmt::format(" (line times corrected by the measured line latency, {:.2f} ms)",
                             latency_ * 1e3);
  return analysis::write_phase_timeline(phases_path, tl);
}

}  // namespace testbed::runner
