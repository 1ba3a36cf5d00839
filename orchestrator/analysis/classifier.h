#pragma once
// Which scanner version produced a capture? The study's motivating question answered
// directly: a nearest-class classifier over per-phase packet-key sets, scored by Jaccard
// similarity, and its leave-one-out confusion matrix over the runs of an experiment.
#include <cstddef>
#include <string>
#include <vector>

#include "orchestrator/analysis/noise_floor.h"

namespace testbed::analysis {

/// |a ∩ b| / |a ∪ b|; 1 when both are empty (two empty phases agree).
double jaccard(const PacketKeySet& a, const PacketKeySet& b);

/// Similarity of two runs: the mean over phase rows of the per-row Jaccard, counting only
/// rows where at least one run has packets (a phase neither run has says nothing).
/// 1 when no row has packets. Rows one run lacks count as empty sets.
double run_similarity(const RunPhaseSets& a, const RunPhaseSets& b);

/// The classifier's answer for one capture.
struct VersionPrediction {
  std::string run;        ///< the capture classified ("" for an unlabelled one)
  std::string actual;     ///< its true version ("" if unknown)
  std::string predicted;  ///< best-scoring version ("" when there is no training data)
  bool tie = false;       ///< another version scored the same (counted as wrong)
  /// Score per candidate version: mean run_similarity to that version's training runs.
  std::vector<std::pair<std::string, double>> scores;
};

/// Scores `sample` against every version in `training` (runs grouped by version; the mean
/// similarity to a version's runs is its score — average linkage, which for one training
/// run per version is plain nearest neighbour) and returns the best. Runs in `training` whose
/// `run` equals sample.run are skipped (so leave-one-out can pass the full list).
VersionPrediction classify_version(const RunPhaseSets& sample,
                                   const std::vector<const RunPhaseSets*>& training);

struct ConfusionMatrix {
  /// False when some version has fewer than 2 runs: leaving its only run out leaves the
  /// classifier nothing to recognise it by. `reason` then says so.
  bool available = false;
  std::string reason;
  std::vector<std::string> versions;        ///< row/column order
  std::vector<std::vector<size_t>> counts;  ///< [actual][predicted]
  size_t correct = 0, total = 0;
  std::vector<VersionPrediction> predictions;  ///< one per run
  double accuracy() const {
    return total ? static_cast<double>(correct) / static_cast<double>(total) : 0;
  }
};

/// Leave-one-out over `runs`: each run is classified against all the others.
ConfusionMatrix leave_one_out(const std::vector<const RunPhaseSets*>& runs);

/// Pairwise run_similarity between runs: [i][j], symmetric, 1 on the diagonal.
std::vector<std::vector<double>> similarity_matrix(const std::vector<const RunPhaseSets*>& runs);

}  // namespace testbed::analysis
