#pragma once
// Drift between two results directories (`testbed diff A B`, `testbed run --baseline`):
// per version and phase, the unique packets between A's and B's runs of that version,
// flagged when they exceed the noise floor (unique packets between runs of the same version).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/analysis/noise_floor.h"

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
  std::vector<std::string> only_in_a;  ///< versions A has and B has not (not drift)
  std::vector<std::string> only_in_b;
  size_t tolerance = 0;
  bool noise_known = false;  ///< some cell had a noise floor
  bool drift = false;        ///< any cell drifted
  nlohmann::json to_json() const;
  std::string to_markdown(const std::string& a_name, const std::string& b_name) const;
};

/// Compares run sets A and B (same row grouping; payloads of both in `payloads`). Runs are
/// borrowed for the call.
DriftReport compare_runs(const std::vector<const analysis::RunPhaseSets*>& a,
                         const std::vector<const analysis::RunPhaseSets*>& b,
                         const analysis::PayloadStore& payloads,
                         const analysis::SimilarityOptions& opts, size_t tolerance = 0);

}  // namespace testbed::report
