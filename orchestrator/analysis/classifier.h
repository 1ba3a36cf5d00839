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

/// Similarity of two runs: Jaccard of their keys pooled over the phase rows (a key in two
/// different phases counts as two keys), so each key weighs the same whatever its phase's
/// size. 1 when neither run has a key. Rows one run lacks count as empty sets.
double run_similarity(const RunPhaseSets& a, const RunPhaseSets& b);

/// Per row, the keys that occur in at least two of `runs` but not in all of them. A key
/// seen in one run only (a random token in a payload, a random closed port, a DNS id)
/// identifies that run, not its version; a key every run has tells nothing apart. The
/// classifier and the similarity matrix compare runs on these keys only. (Measured on the
/// nmap7 experiment, 2 repetitions: leave-one-out on all keys, mean of per-phase Jaccard:
/// 2 of 8 runs right.)
std::vector<PacketKeySet> informative_keys(const std::vector<const RunPhaseSets*>& runs);
/// `r` with every row reduced to the keys in the same row of `keys`.
RunPhaseSets keep_only(const RunPhaseSets& r, const std::vector<PacketKeySet>& keys);

/// The classifier's answer for one capture.
struct VersionPrediction {
  std::string run;        ///< the capture classified ("" for an unlabelled one)
  std::string actual;     ///< its true version ("" if unknown)
  std::string predicted;  ///< best-scoring version ("" when there is no training data)
  bool tie = false;       ///< another version scored the same (counted as wrong)
  /// Score per candidate version: mean run_similarity to that version's training runs.
  std::vector<std::pair<std::string, double>> scores;
};

/// Scores `sample` against every version in `training`, on the informative keys of the
/// sample and the training runs (runs grouped by version; the mean
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

/// Pairwise run_similarity between runs on their informative keys: [i][j], symmetric, 1 on
/// the diagonal.
std::vector<std::vector<double>> similarity_matrix(const std::vector<const RunPhaseSets*>& runs);

}  // namespace testbed::analysis
