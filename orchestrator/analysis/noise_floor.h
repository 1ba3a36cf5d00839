#pragma once
// The noise floor (docs/method.md "Where testbed goes further"): how many "unique" packets
// the study's method finds between two runs of the SAME scanner version, per phase. A
// between-version figure is only meaningful when it stands above this floor.
#include <cstddef>
#include <string>
#include <vector>

#include "orchestrator/analysis/analyze.h"

namespace testbed::analysis {

/// One run's deduplicated sent keys, one set per phase row (rows as in UniqueTable::rows:
/// the study's groups when `grouped`, else the fine phases).
struct RunPhaseSets {
  std::string version;             ///< scanner label, e.g. "7.80"
  std::string run;                 ///< run name, e.g. "7.80/2"
  std::vector<PacketKeySet> rows;  ///< owned copies
};

/// Row names: phase_group_name() for the groups, phase_name() for the fine phases.
std::vector<std::string> phase_rows(bool grouped);
/// Copies a capture's sent key sets into rows.
RunPhaseSets run_phase_sets(const CaptureAnalysis& c, std::string version, std::string run,
                            bool grouped);

/// |U_a| and |U_b| of the study's method applied to two sets only (after the similarity
/// exclusion), i.e. the packets of a not in b and of b not in a that are not mere variants.
struct PairUnique {
  size_t a_only = 0;
  size_t b_only = 0;
  size_t max() const { return a_only > b_only ? a_only : b_only; }
};
PairUnique pair_unique(const PacketKeySet& a, const PacketKeySet& b, const PayloadStore& payloads,
                       const SimilarityOptions& opts);

/// The noise floor of one version in one phase row.
struct NoiseCell {
  size_t pairs = 0;  ///< run pairs compared (0 = unknown: fewer than 2 runs)
  size_t max = 0;    ///< largest |U| of either run of any pair
  double mean = 0;   ///< mean |U| over both runs of every pair
};

struct NoiseFloor {
  bool grouped = true;
  std::vector<std::string> rows;              ///< phase rows
  std::vector<std::string> versions;          ///< in first-seen order of `runs`
  std::vector<std::vector<NoiseCell>> cells;  ///< [row][version]
  /// True when at least one version has two runs.
  bool available() const;
  /// The cell for (row, version); nullptr when either is unknown.
  const NoiseCell* find(const std::string& row, const std::string& version) const;
};

/// Compares every pair of runs of the same version (runs of different versions are never
/// paired). Rows a run lacks count as empty sets. `runs` are borrowed for the call. Cost: one
/// two-set unique computation per pair and row, i.e. reps*(reps-1)/2 per version.
NoiseFloor noise_floor(const std::vector<const RunPhaseSets*>& runs, bool grouped,
                       const PayloadStore& payloads, const SimilarityOptions& opts);

}  // namespace testbed::analysis
