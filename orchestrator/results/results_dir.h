#pragma once
// Reading a results directory back (layout.h): the plan, the analysis settings of the
// experiment copy, and every run directory with its state and manifest. The one reader that
// `report`, `diff`, `results`, `report --baseline` and nightly comparisons use.
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/results/layout.h"
#include "orchestrator/results/manifest.h"
#include "orchestrator/util/result.h"

namespace testbed::results {

/// One <label>/<rep> run directory.
struct RunRecord {
  std::string version;  ///< scanner label, e.g. "7.80"
  int rep = 1;
  std::filesystem::path dir;
  /// "complete" (manifest.json), "failed" / "interrupted" (failure.json), "incomplete"
  /// (neither: a crashed or running run), "missing" (planned, no directory), "unreadable"
  /// (a manifest that cannot be read, e.g. of a newer schema; or files the analysis refused).
  std::string status;
  std::string stage, error;  ///< from failure.json, or why it is unreadable
  Manifest manifest;         ///< complete runs only (default-constructed otherwise)
  std::string name() const { return version + "/" + std::to_string(rep); }
  bool complete() const { return status == "complete"; }
  RunDir run_dir() const { return {dir}; }
  /// The scanner kind that made the run: a complete run's manifest says (already read),
  /// any other run's directory or plan (RunDir::kind).
  util::Result<const scanners::Kind*> kind() const {
    if (!complete()) return run_dir().kind();
    auto k = recorded_kind(manifest.scanner_kind);
    if (!k) return util::fail("{}: {}", dir.string(), k.error().message);
    return *k;
  }
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
/// `analysis:` key (config::load_analysis_settings; its `topology:` is not resolved), and
/// each run's manifest.json / failure.json. The scanner address, unless the experiment sets
/// it, is the lab's (manifest lab.scanner_address) when every complete run agrees.
/// Fails when `dir` is not a results directory or experiment.yaml's analysis key is invalid.
util::Result<ResultsDir> load_results(const std::filesystem::path& dir);

/// load_results without the analysis settings (experiment.yaml is not read; `options` are
/// the defaults): the plan, the runs and their manifests. For readers of many results
/// directories that never analyse a capture (the history page, metrics).
util::Result<ResultsDir> load_runs(const std::filesystem::path& dir);

/// The message load_results gives for a directory that is not a results directory.
inline constexpr const char* kNotResultsDir = "not a results directory";

}  // namespace testbed::results
