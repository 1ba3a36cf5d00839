#pragma once
// The analysed complete runs of a results directory (read by results/results_dir.h).
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/results/results_dir.h"
#include "orchestrator/util/result.h"

namespace testbed::report {

// The results directory is read by the results module (results/results_dir.h).
using results::load_results;
using results::ResultsDir;
using results::RunRecord;

/// A complete run that was analysed.
struct AnalysedRun {
  size_t record = 0;  ///< index into ResultsDir::runs
  analysis::CaptureAnalysis capture;
};

struct AnalysedResults {
  ResultsDir results;
  analysis::AnalysisOptions options;  ///< what the runs were analysed with
  std::shared_ptr<analysis::PayloadStore> payloads;
  std::vector<AnalysedRun> runs;
  /// The first analysed run of each version (plan order): the study's one capture per version.
  std::vector<const AnalysedRun*> primary() const;
  /// Per-phase key sets of every analysed run (grouped: the study's three phases + other).
  std::vector<analysis::RunPhaseSets> phase_sets(bool grouped) const;
  /// The study's comparison over `columns` (one analysed run per version, e.g. primary()):
  /// one capture per column labelled by its version, Table 2 in both groupings, with this
  /// analysis's options and payloads. `runs` (optional) receives each column's run name
  /// ("7.80/1"). The report's Table 2 and unique packets, and `testbed export`, come from it.
  analysis::AnalysisResult study(const std::vector<const AnalysedRun*>& columns,
                                 std::vector<std::string>* runs = nullptr) const;
};

/// Analyses every complete run of `results` with `opts`, adding payloads to `store` (shared
/// with a baseline so that both can be compared). A run whose files fail to analyse is marked
/// "unreadable" with the reason and left out; it is not an error of the whole report.
/// Once `cancel` is set no further run is analysed (the caller checks it too).
AnalysedResults analyse_results(ResultsDir results, const analysis::AnalysisOptions& opts,
                                std::shared_ptr<analysis::PayloadStore> store,
                                const std::atomic<bool>* cancel = nullptr);

}  // namespace testbed::report
