#pragma once
// The scanner's console output during a run, each line stamped with the capture clock
// as it arrives. Written as the kind's console log (nmap.log, masscan.log, zmap.log:
// "<epoch seconds> <line>") and turned by the kind's tracker into the phase timeline
// phases.json (format: orchestrator/analysis/README.md).
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orchestrator/runner/drivers.h"
#include "orchestrator/util/result.h"

namespace testbed::analysis {
class ConsoleTracker;
}

namespace testbed::runner {

class ScanLog {
 public:
  /// `latency`: how long a line takes from the scanner to us (measured); subtracted from
  /// each arrival time so the timeline is in the scanner's (= the capture's) time.
  /// `boundary_slack`: written into the timeline (analysis::PhaseTimeline::boundary_slack).
  /// `tracker`: the scanner kind's (analysis::ScannerModel::tracker()).
  ScanLog(const Clock& clock, std::unique_ptr<analysis::ConsoleTracker> tracker,
          double latency = 0.0, double boundary_slack = -1);
  ~ScanLog();
  /// Records one output line (trailing \r stripped) at the current clock time minus the
  /// line latency. The log keeps these corrected times.
  void add(std::string_view line);
  size_t size() const { return lines_.size(); }
  /// The scan phase the latest lines announced ("" before the first).
  std::string current_phase() const;
  /// The scanner's output says it is done but it has not exited (ConsoleTracker::lingering).
  bool lingering() const;
  /// Writes the log and the phase timeline of a scan that ran from `started` to `finished`.
  util::Status write(const std::filesystem::path& log_path,
                     const std::filesystem::path& phases_path, double started,
                     double finished) const;

 private:
  const Clock& clock_;
  double latency_;
  double boundary_slack_;  ///< < 0: the analysis default
  std::vector<std::pair<double, std::string>> lines_;
  std::unique_ptr<analysis::ConsoleTracker> tracker_;
};

}  // namespace testbed::runner
