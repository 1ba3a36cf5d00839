#pragma once
// The experiment report: everything the study shows (Tables 1 and 2, unique packets, the
// port-scan port usage of its Fig. 2) plus what it did not (phase timelines, noise floor,
// version classifier, capture drops, provenance, drift against a baseline), written as a
// self-contained report.html, report.md, report.json and csv/*.csv into the results directory.
#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/report/results.h"
#include "orchestrator/util/result.h"

namespace testbed::report {

/// A section a module above report adds (ids/: "Can an IDS tell them apart?"): rendered after
/// the classifier section in HTML and Markdown, and under "sections"/<id> in report.json.
struct ExtraSection {
  std::string id, title;  ///< HTML anchor and heading
  std::string html;       ///< body, escaped by its maker
  std::string markdown;   ///< body
  nlohmann::json json;
};
using SectionProvider = std::function<ExtraSection(const AnalysedResults&)>;

struct ReportOptions {
  /// Extra sections, in order (none by default: the report is then as before).
  std::vector<SectionProvider> sections;
  /// An older results directory to compare with (drift beyond the noise floor).
  std::optional<std::filesystem::path> baseline;
  /// Unique packets a drift cell may exceed the noise floor by before it counts as drift.
  size_t drift_tolerance = 0;
  /// A version with complete runs on one side only is not drift (`--allow-missing`).
  bool allow_missing = false;
  /// Unique packets listed per phase and version in the HTML/Markdown (all are in the CSV).
  size_t unique_limit = analysis::kDefaultUniqueLimit;
  /// Checked between the analysis of runs and before anything is written: once set,
  /// write_report fails with "interrupted" and writes nothing (SIGINT/SIGTERM).
  const std::atomic<bool>* cancel = nullptr;
};

struct ReportOutcome {
  std::filesystem::path html, markdown, json;
  bool drift = false;        ///< a baseline was given and traffic changed beyond the noise floor
                             ///< or a version has complete runs on one side only (drift_reason)
  std::string drift_reason;  ///< one line saying why drift is set
};

/// Reads the run directories of `results_dir` alone (runner.h layout), analyses the complete
/// runs (failed/incomplete ones are listed, not analysed) and writes report.html, report.md,
/// report.json and csv/ into `results_dir` (each file atomically). Fails when the directory
/// is not a results directory, no run is complete, or a file cannot be written.
util::Result<ReportOutcome> write_report(const std::filesystem::path& results_dir,
                                         const ReportOptions& opts);

}  // namespace testbed::report
