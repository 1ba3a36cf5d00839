#pragma once
// Nmap's console output (-v) as live progress and a phase timeline.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/analysis/scanner_model.h"

namespace testbed::scanners::nmap {

/// Turns Nmap's -v console lines, each stamped with the host clock when it arrived, into a
/// PhaseTimeline. Recognises "Initiating <task> at HH:MM", "Completed <task> at …",
/// "Retrying OS detection", "NSE: Script scanning …". Feed lines in arrival order.
class ConsoleTracker : public analysis::ConsoleTracker {
 public:
  /// One console line (no trailing newline needed) seen at `epoch_ts`.
  void on_line(double epoch_ts, std::string_view line) override;
  /// The intervals so far; an interval still open ends at the last line's time.
  /// start/end are the first/last line times (the runner may overwrite them).
  analysis::PhaseTimeline timeline() const override;
  /// Name of the phase the latest lines announced ("" before the first, "other" between).
  std::string current_phase() const override;

  /// The phase a task name from "Initiating <task>" belongs to, e.g. "SYN Stealth Scan" ->
  /// port-scan, "Ping Scan" -> discovery; kOther when unknown.
  static analysis::Phase phase_of_task(std::string_view task);

 private:
  void open(double ts, analysis::Phase p, std::string label);
  void close(double ts);
  std::vector<analysis::PhaseInterval> done_;
  std::optional<analysis::PhaseInterval> open_;
  double first_ts_ = 0, last_ts_ = 0;
  bool any_ = false;
  bool announced_ = false;
};

std::unique_ptr<analysis::ConsoleTracker> make_tracker();

}  // namespace testbed::scanners::nmap
