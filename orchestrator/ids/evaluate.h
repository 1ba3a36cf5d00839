#pragma once
// Can an IDS tell the versions apart? Every generated rule set replayed over every run's
// capture with Suricata (offline), counted as a confusion matrix: rules of version X × runs
// of version Y. With repetitions >= 2 it is leave-one-out: run r is judged by rules generated
// without r (not in-sample); with one run per version the matrix is in-sample, and says so.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/ids/rule.h"
#include "orchestrator/ids/suricata.h"
#include "orchestrator/report/results.h"
#include "orchestrator/util/result.h"

namespace testbed::ids {

/// One rule of the full set (generated from every run), replayed over every run.
struct RuleOutcome {
  RuleSpec rule;
  std::map<std::string, uint64_t> alerts_by_version;  ///< run version -> alerts
  std::map<std::string, size_t> runs_by_version;      ///< run version -> runs it fired on
  uint64_t total() const;
  /// Alerts on runs of the rule's own version / all its alerts (0 when it never fired).
  double precision() const;
};

/// Alerts of one run's sensor (ids/eve.json of the run directory), beside the replay.
struct LiveRun {
  std::string run;
  uint64_t live_alerts = 0, replay_alerts = 0;  ///< testbed's rules (full set) only
  uint64_t other_alerts = 0;                    ///< Suricata's own decoder/stream rules
  std::optional<uint64_t> drops;                ///< capture.kernel_drops of the sensor
};

struct IdsEvaluation {
  std::string suricata_version;
  bool leave_one_out = false;             ///< every run judged by rules made without it
  std::vector<std::string> versions;      ///< matrix order
  std::vector<std::string> runs;          ///< run names
  std::vector<std::string> run_versions;  ///< version of each run
  /// [rule version][run]: alerts of that version's rules on that run (the run's own set
  /// when leave_one_out).
  std::vector<std::vector<uint64_t>> alerts;
  /// [rule version][run version]: runs of that version on which the rules fired at all.
  std::vector<std::vector<size_t>> fired_runs;
  std::vector<size_t> runs_per_version;
  std::vector<RuleOutcome> rules;     ///< the full set, sid order
  std::vector<RuleError> rejected;    ///< every rule Suricata refused, any set
  std::vector<LiveRun> live;          ///< runs with a sensor
  /// Rules of the full set that fired on runs of every version (useless for classing).
  std::vector<const RuleOutcome*> everywhere() const;
  /// Runs whose most-alerting rule set is their own version's (ties count as wrong).
  size_t classed_right() const;
};

/// Generates the rule sets (all runs; and without each run when every version has >= 2
/// runs), checks them with `suricata -T`, replays them over the runs' captures in `workdir`.
util::Result<IdsEvaluation> evaluate(const Suricata& s, const report::AnalysedResults& data,
                                     const std::filesystem::path& workdir);

}  // namespace testbed::ids
