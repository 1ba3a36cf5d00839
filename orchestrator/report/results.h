#pragma once
// Reading a results directory (runner.h layout) back: the plan, the analysis settings of the
// experiment copy, every run directory with its state, and the analysed complete runs.
#include <atomic>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/util/result.h"

namespace testbed::report {

/// One <label>/<rep> run directory.
struct RunRecord {
  std::string version;  ///< scanner label, e.g. "7.80"
  int rep = 1;
  std::filesystem::path dir;
  /// "complete" (manifest.json), "failed" / "interrupted" (failure.json), "incomplete"
  /// (neither: a crashed or running run), "missing" (planned, no directory).
  std::string status;
  std::string stage, error;  ///< from failure.json, or why analysis failed
  nlohmann::json manifest;   ///< complete runs only
  std::string name() const { return version + "/" + std::to_string(rep); }
  bool complete() const { return status == "complete"; }
};

/// What a results directory holds, before any capture is read.
struct ResultsDir {
  std::filesystem::path dir;
  std::string experiment;  ///< plan.json "experiment" (or the directory name)
  int repetitions = 1;
  std::vector<std::string> versions;  ///< plan order
  std::vector<RunRecord> runs;        ///< version-major, repetition order
  analysis::AnalysisOptions options;  ///< from experiment.yaml `analysis:` and the manifests
  std::string options_source;         ///< where the settings came from, for the report
  std::vector<std::string> warnings;
};

/// Reads plan.json (falls back to the <label>/<rep>/ directories found), experiment.yaml's
/// `analysis:` key (key_fields, similarity, scanner_ip; its `topology:` is not resolved), and
/// each run's manifest.json / failure.json. The scanner address, unless the experiment sets
/// it, is the lab's (manifest lab.scanner_address) when every complete run agrees.
/// Fails when `dir` is not a results directory or experiment.yaml's analysis key is invalid.
util::Result<ResultsDir> load_results(const std::filesystem::path& dir);

/// A complete run that was analysed.
struct AnalysedRun {
  size_t record = 0;  ///< index into ResultsDir::runs
  analysis::CaptureAnalysis capture;
};

struct AnalysedResults {
  ResultsDir results;
  std::shared_ptr<analysis::PayloadStore> payloads;
  std::vector<AnalysedRun> runs;
  /// The first analysed run of each version (plan order): the study's one capture per version.
  std::vector<const AnalysedRun*> primary() const;
  /// Per-phase key sets of every analysed run (grouped: the study's three phases + other).
  std::vector<analysis::RunPhaseSets> phase_sets(bool grouped) const;
};

/// Analyses every complete run of `results` with `opts`, adding payloads to `store` (shared
/// with a baseline so that both can be compared). A run whose files fail to analyse is marked
/// "unreadable" with the reason and left out; it is not an error of the whole report.
/// Once `cancel` is set no further run is analysed (the caller checks it too).
AnalysedResults analyse_results(ResultsDir results, const analysis::AnalysisOptions& opts,
                                std::shared_ptr<analysis::PayloadStore> store,
                                const std::atomic<bool>* cancel = nullptr);

}  // namespace testbed::report
