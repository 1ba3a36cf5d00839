#pragma once
// The results directory's layout (docs/results.md): every file name, spelled here only, and
// the paths of a results directory and of its <label>/<rep>/ run directories.
//
//   <output>/<experiment>/<UTC time>/     results directory
//     plan.json  experiment.yaml          the plan (scanners, repetitions) and the experiment
//     <label>/<rep>/                      one run directory per scanner × repetition
//       capture.pcap nmap.xml nmap.log phases.json  manifest.json | failure.json
//     report.html report.md report.json csv/        written by `testbed report`
#include <filesystem>
#include <string>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/result.h"

namespace testbed::results {

namespace files {
inline constexpr const char* kPlan = "plan.json";
inline constexpr const char* kExperiment = "experiment.yaml";
/// A run is complete iff its manifest exists (written last, atomically).
inline constexpr const char* kManifest = "manifest.json";
/// Written (atomically) instead of the manifest when a run fails or is interrupted.
inline constexpr const char* kFailure = "failure.json";
inline constexpr const char* kCapture = "capture.pcap";
// The scanner's result file and its console output ("<epoch seconds> <line>" per line) are
// named by its kind (analysis::ScannerModel::result_file / console_log: nmap.xml, nmap.log).
inline constexpr const char* kPhases = "phases.json";
inline constexpr const char* kReportHtml = "report.html";
inline constexpr const char* kReportMarkdown = "report.md";
inline constexpr const char* kReportJson = "report.json";
inline constexpr const char* kCsvDir = "csv";
}  // namespace files

/// How far a run got, from the files of its directory.
enum class RunState {
  kComplete,     ///< manifest.json
  kFailed,       ///< failure.json, status "failed"
  kInterrupted,  ///< failure.json, status "interrupted"
  kIncomplete,   ///< the directory without either: crashed, or still running
  kMissing,      ///< planned, no directory
};
/// "complete", "failed", "interrupted", "incomplete", "missing".
const char* state_name(RunState s);

/// The kind a run records (`scanner_kind` of its manifest or plan entry); "" (recorded
/// nowhere: a run from before scanner kinds) is Nmap. Fails on a kind this build lacks.
util::Result<const scanners::Kind*> recorded_kind(const std::string& name);

/// One <label>/<rep>/ run directory.
struct RunDir {
  std::filesystem::path dir;

  std::filesystem::path manifest() const { return dir / files::kManifest; }
  std::filesystem::path failure() const { return dir / files::kFailure; }
  std::filesystem::path capture() const { return dir / files::kCapture; }
  /// The kind's result file (nmap.xml) and console log (nmap.log).
  std::filesystem::path result_file(const analysis::ScannerModel& kind) const {
    return dir / kind.result_file;
  }
  std::filesystem::path console_log(const analysis::ScannerModel& kind) const {
    return dir / kind.console_log;
  }
  std::filesystem::path phases() const { return dir / files::kPhases; }

  /// True when the run is complete (its manifest exists).
  bool complete() const;
  /// The state from the files present (failure.json's status decides failed/interrupted;
  /// an unreadable failure.json is "failed").
  RunState state() const;
  /// The scanner kind that made the run: its manifest's `scanner_kind`, else (a run that
  /// failed before its manifest) the plan.json entry of its label two levels up, else Nmap
  /// (every run from before scanner kinds). Fails on a kind this build does not know.
  util::Result<const scanners::Kind*> kind() const;
  /// What the analysis reads of this run, made by `kind`: capture.pcap, the timeline
  /// (phases.json, else the kind's console log) and the kind's result file, each only when
  /// present. `used` (optional) gets the file names.
  analysis::CaptureInput capture_input(std::string label, const analysis::ScannerModel& kind,
                                       std::vector<std::string>* used = nullptr) const;
};

/// A results directory's paths.
struct ResultsPaths {
  std::filesystem::path dir;

  std::filesystem::path plan() const { return dir / files::kPlan; }
  std::filesystem::path experiment() const { return dir / files::kExperiment; }
  std::filesystem::path report_html() const { return dir / files::kReportHtml; }
  std::filesystem::path report_markdown() const { return dir / files::kReportMarkdown; }
  std::filesystem::path report_json() const { return dir / files::kReportJson; }
  std::filesystem::path csv() const { return dir / files::kCsvDir; }
  RunDir run(const std::string& label, int rep) const {
    return {dir / label / std::to_string(rep)};
  }
};

/// True when `name` is a directory name of the results directory that is not a scanner
/// label (csv/, hidden directories).
bool is_reserved_dir(const std::string& name);

}  // namespace testbed::results
