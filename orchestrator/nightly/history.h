#pragma once
// An experiment across nights (`testbed history RESULTS_ROOT/EXPERIMENT`): every results
// directory of it, oldest first, with its runs' state, drops and durations and its
// report's figures (packets sent, unique packets and noise floor per version and phase;
// drift and the provenance change that explains it). Read through the results module only
// (results::load_runs, results::read_report_figures): no capture is analysed, so a
// thousand nights load in well under a second (bench/history). Rendered as one
// self-contained HTML page (inline SVG, no network) or as JSON.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/results/report_figures.h"
#include "orchestrator/util/result.h"

namespace testbed::nightly {

/// One results directory of the experiment.
struct Night {
  std::string name;  ///< the directory's name: its UTC start time, e.g. 20261126T020000Z
  /// "complete" (every planned run has its manifest), "failed" (a run failed, was
  /// interrupted or is unreadable), "incomplete" (a run is missing or did not finish),
  /// "unreadable" (not readable as a results directory: `error` says why).
  std::string status;
  std::string error;
  std::vector<std::string> problems;  ///< "7.93/1 failed at scan: …", "7.93/2 missing"
  std::vector<std::string> retries;   ///< "zmap/2: retried after signal 6 (SIGABRT)"
  int runs = 0, complete_runs = 0;
  std::map<std::string, uint64_t> dropped;  ///< per version: capture drops, complete runs
  double wall_seconds = 0;  ///< sum of the complete runs' wall times
  std::optional<results::ReportFigures> figures;  ///< none: no (readable) report.json
  std::string report_error;                       ///< why figures are absent
  bool has_report_html = false;                   ///< NAME/report.html exists
  bool drift() const { return figures && figures->drift; }
};

struct History {
  std::string experiment;
  std::filesystem::path dir;
  std::vector<std::string> versions;  ///< every version of any night, first-seen order
  std::vector<std::string> phases;    ///< the study's phases
  std::vector<Night> nights;          ///< oldest first (names are UTC times)
};

/// Reads every results directory under `experiment_dir` (RESULTS_ROOT/<experiment>; the
/// latest/latest-good pointers and hidden entries are skipped). Fails when it is not a
/// directory, is itself a results directory, or holds none.
util::Result<History> load_history(const std::filesystem::path& experiment_dir);

/// {"format": "testbed-history", "version": 1, "experiment", "dir", "versions", "phases",
///  "nights": [...]} (docs/results.md).
nlohmann::json history_json(const History& h);

/// The self-contained page: per version a chart each of packets sent, unique packets and
/// noise floor per phase night by night; durations and drops per version; every night in a
/// table with its state, failed or missing runs, drift marked with its provenance change,
/// and a link to that night's report.html.
std::string history_html(const History& h);

}  // namespace testbed::nightly
