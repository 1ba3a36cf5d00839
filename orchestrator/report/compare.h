#pragma once
// Drift between two results directories (`testbed diff A B`, `testbed run --baseline`):
// per version and phase, the unique packets between A's and B's runs of that version,
// flagged when they exceed the noise floor (unique packets between runs of the same version).
// A version with a complete run on one side and none on the other (failed, interrupted,
// unreadable, never run or not planned) is drift too, unless the caller allows it: a nightly
// comparison must not pass a night whose run of one version broke.
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/report/results.h"

namespace testbed::report {

struct DriftCell {
  std::string version;
  std::string phase;
  /// Between A and B: the smallest, over all pairs (A run, B run), of the larger side's
  /// unique count. The minimum makes one odd run on either side not count as drift.
  size_t between = 0;
  size_t a_only = 0, b_only = 0;  ///< of that closest pair
  /// Noise floor: the largest unique count between two runs of this version within A or
  /// within B; unset when neither side has two runs.
  std::optional<size_t> noise;
  size_t threshold = 0;  ///< noise (or 0) + tolerance
  bool drift = false;    ///< between > threshold
};

struct DriftReport {
  std::vector<DriftCell> cells;        ///< versions in A's order, phases in row order
  std::vector<std::string> only_in_a;  ///< versions A has a compared run of and B has not
  std::vector<std::string> only_in_b;
  /// Why a version of only_in_a / only_in_b has no run on the other side (explain_missing),
  /// e.g. "failed: 7.93/1 at scan: nmap exited with status 1"; empty when not explained.
  std::map<std::string, std::string> missing_why;
  /// What changed in the provenance between A and B (provenance.h), "what: before → after".
  std::vector<std::string> provenance;
  bool provenance_compared = false;  ///< explain_provenance ran (else nothing is said)
  size_t tolerance = 0;
  bool allow_missing = false;  ///< versions on one side only are not drift (--allow-missing)
  bool noise_known = false;    ///< some cell had a noise floor
  bool missing_drift = false;  ///< some version is on one side only and that is not allowed
  bool drift = false;          ///< any cell drifted, or missing_drift
  nlohmann::json to_json() const;
  std::string to_markdown(const std::string& a_name, const std::string& b_name) const;
};

/// Compares run sets A and B (same row grouping; payloads of both in `payloads`). Runs are
/// borrowed for the call. A version with runs on one side only is drift unless
/// `allow_missing`.
DriftReport compare_runs(const std::vector<const analysis::RunPhaseSets*>& a,
                         const std::vector<const analysis::RunPhaseSets*>& b,
                         const analysis::PayloadStore& payloads,
                         const analysis::SimilarityOptions& opts, size_t tolerance = 0,
                         bool allow_missing = false);

/// One line saying why `d.drift` is set: which versions and phases drifted, which versions
/// have runs on one side only. Empty without drift.
std::string drift_summary(const DriftReport& d);

/// Why `results` has no analysed run of `version`: "not in the plan", or the state of each
/// of its runs ("7.93/1 failed at scan: …", "7.93/2 incomplete", "7.93/3 missing", …).
std::string why_missing(const ResultsDir& results, const std::string& version);

/// Fills d.missing_why for d.only_in_a from B and for d.only_in_b from A.
void explain_missing(DriftReport& d, const ResultsDir& a, const ResultsDir& b);

}  // namespace testbed::report
