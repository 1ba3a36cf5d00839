#pragma once
// The typed view of a results directory or of one run directory, for people and scripts
// (`testbed results DIR [--json]`): the runs, their state, scanner versions, packet counts,
// drops and durations. Its JSON is documented in docs/results.md.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "orchestrator/results/results_dir.h"

namespace testbed::results {

/// True when `dir` holds a run's own files (manifest.json, failure.json or capture.pcap).
bool is_run_dir(const std::filesystem::path& dir);

/// One run directory as a ResultsDir of one run: its label and repetition from the path
/// (<label>/<rep>, as in a results directory), the experiment from the manifest. Analysis
/// settings are not read.
util::Result<ResultsDir> load_run_dir(const std::filesystem::path& dir);

/// {"format": "testbed-results", "version": 1, "dir", "experiment", "repetitions",
///  "versions", "runs": [...], "totals": {...}} (docs/results.md).
nlohmann::json summary_json(const ResultsDir& r);
/// The same as an aligned table with a heading and totals.
std::string summary_text(const ResultsDir& r);

}  // namespace testbed::results
