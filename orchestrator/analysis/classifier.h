#pragma once
// Which scanner version produced a capture? The study's motivating question answered
// directly: a nearest-class classifier over per-phase packet-key sets and its leave-one-out
// confusion matrix over the runs of an experiment. Runs are compared the way the study
// compares versions (docs/method.md steps 3-4): a packet of one run counts as different from
// another run only when that run has neither the packet itself nor a *similar* one (same
// protocol, port and flags, length and payload within the similarity rule). Without that,
// per-run variable elements decide: NSE's HTTP library sends its headers in an order that
// changes from run to run, and runs of different versions that drew the same order shared
// dozens of exact keys (nmap7, 2 repetitions: 3 of 8 runs right on exact keys, 8 of 8 after
// the similarity exclusion).
#include <cstddef>
#include <string>
#include <vector>

#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/analysis/unique.h"

namespace testbed::analysis {

/// |a ∩ b| / |a ∪ b|; 1 when both are empty (two empty phases agree).
double jaccard(const PacketKeySet& a, const PacketKeySet& b);

/// A pool of runs compared pair by pair, phase row by phase row, with the study's similarity
/// exclusion (pair_unique). Per run, a key is *informative* when some other run of the pool
/// has it or a similar packet (it recurs: not a run's own random port or token) and some
/// other run has neither (it tells runs apart). The similarity of runs a and b is the share
/// of their informative keys that have an equal or similar packet in the other run:
///   1 - (|U_a| + |U_b|) / (|inf(a)| + |inf(b)|),
/// U = the pair's unique packets after the similarity exclusion, restricted to informative
/// keys (a Dice coefficient modulo similarity; on packets without payload it is the Dice
/// coefficient of the informative keys). 1 when neither run has an informative key; with
/// only two runs in the pool nothing recurs and every similarity is 1. Rows a run lacks count
/// as empty sets. Cost: one pair_unique per pair of runs and row; the runs are borrowed for
/// the constructor only.
class RunComparison {
 public:
  RunComparison(const std::vector<const RunPhaseSets*>& runs, const PayloadStore& payloads,
                const SimilarityOptions& opts);
  size_t size() const { return informative_.size(); }
  /// In [0, 1], symmetric, 1 for i == j.
  double similarity(size_t i, size_t j) const;
  /// Informative keys of run i, summed over rows.
  size_t informative(size_t i) const { return informative_[i]; }
  /// Informative keys of run i without an equal or similar packet in run j, summed over rows.
  size_t differing(size_t i, size_t j) const { return differing_[i][j]; }
  /// similarity(i, j) for every pair: [i][j].
  std::vector<std::vector<double>> matrix() const;

 private:
  std::vector<size_t> informative_;
  std::vector<std::vector<size_t>> differing_;
};

/// The classifier's answer for one capture.
struct VersionPrediction {
  std::string run;        ///< the capture classified ("" for an unlabelled one)
  std::string actual;     ///< its true version ("" if unknown)
  std::string predicted;  ///< best-scoring version ("" when there is no training data)
  bool tie = false;       ///< another version scored the same (counted as wrong)
  /// Score per candidate version: mean RunComparison::similarity to that version's runs.
  std::vector<std::pair<std::string, double>> scores;
};

/// Scores `sample` against every version in `training` (runs grouped by version; the mean
/// similarity to a version's runs is its score — average linkage, which for one training run
/// per version is plain nearest neighbour) and returns the best. Similarities are those of a
/// RunComparison over the training runs plus the sample, with `payloads` (holding the runs'
/// payload bytes) and `opts` (the study's similarity rule, as used for Table 2). Runs in
/// `training` whose `run` equals sample.run are skipped (so leave-one-out can pass the full
/// list).
VersionPrediction classify_version(const RunPhaseSets& sample,
                                   const std::vector<const RunPhaseSets*>& training,
                                   const PayloadStore& payloads, const SimilarityOptions& opts);

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

/// Leave-one-out over `runs`: each run is classified against all the others (one
/// RunComparison over all of them, as classify_version would build for each).
ConfusionMatrix leave_one_out(const std::vector<const RunPhaseSets*>& runs,
                              const PayloadStore& payloads, const SimilarityOptions& opts);
/// The same with the comparison of `runs` already made (`cmp` built from `runs`, in order).
ConfusionMatrix leave_one_out(const std::vector<const RunPhaseSets*>& runs,
                              const RunComparison& cmp);

/// RunComparison(runs, payloads, opts).matrix(): [i][j], symmetric, 1 on the diagonal.
std::vector<std::vector<double>> similarity_matrix(const std::vector<const RunPhaseSets*>& runs,
                                                   const PayloadStore& payloads,
                                                   const SimilarityOptions& opts);

}  // namespace testbed::analysis
