#include "orchestrator/analysis/classifier.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <unordered_map>

namespace testbed::analysis {

double jaccard(const PacketKeySet& a, const PacketKeySet& b) {
  if (a.empty() && b.empty()) return 1.0;
  const PacketKeySet& small = a.size() <= b.size() ? a : b;
  const PacketKeySet& big = a.size() <= b.size() ? b : a;
  size_t inter = 0;
  for (const PacketKey& k : small) inter += big.count(k);
  size_t uni = a.size() + b.size() - inter;
  return static_cast<double>(inter) / static_cast<double>(uni);
}

RunComparison::RunComparison(const std::vector<const RunPhaseSets*>& runs,
                             const PayloadStore& payloads, const SimilarityOptions& opts)
    : informative_(runs.size(), 0), differing_(runs.size(), std::vector<size_t>(runs.size(), 0)) {
  static const PacketKeySet kEmpty;
  const size_t n = runs.size();
  size_t rows = 0;
  for (const RunPhaseSets* r : runs) rows = std::max(rows, r->rows.size());
  for (size_t row = 0; row < rows; ++row) {
    auto set = [&](size_t i) -> const PacketKeySet& {
      return row < runs[i]->rows.size() ? runs[i]->rows[row] : kEmpty;
    };
    // apart[i][j]: the keys of run i with neither an equal nor a similar packet in run j.
    std::vector<std::vector<std::vector<PacketKey>>> apart(n,
                                                           std::vector<std::vector<PacketKey>>(n));
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j) {
        std::vector<UniqueSetResult> u = compute_unique_sets({&set(i), &set(j)}, payloads, opts);
        apart[i][j] = std::move(u[0].unique);
        apart[j][i] = std::move(u[1].unique);
      }
    for (size_t i = 0; i < n; ++i) {
      // How many other runs each key of run i stands apart from. All of them: the run's own
      // (a random closed port, a token no similar packet explains); none: every run has it
      // or a variant of it (never in any apart list). Neither: informative.
      std::unordered_map<PacketKey, size_t, PacketKeyHash> count;
      for (size_t j = 0; j < n; ++j)
        for (const PacketKey& k : apart[i][j]) ++count[k];
      for (const auto& [k, c] : count) informative_[i] += c < n - 1;
      for (size_t j = 0; j < n; ++j)
        for (const PacketKey& k : apart[i][j]) differing_[i][j] += count[k] < n - 1;
    }
  }
}

double RunComparison::similarity(size_t i, size_t j) const {
  if (i == j) return 1.0;
  const size_t keys = informative_[i] + informative_[j];
  if (keys == 0) return 1.0;
  return 1.0 - static_cast<double>(differing_[i][j] + differing_[j][i]) / static_cast<double>(keys);
}

std::vector<std::vector<double>> RunComparison::matrix() const {
  std::vector<std::vector<double>> s(size(), std::vector<double>(size(), 1.0));
  for (size_t i = 0; i < size(); ++i)
    for (size_t j = i + 1; j < size(); ++j) s[i][j] = s[j][i] = similarity(i, j);
  return s;
}

namespace {

// Scores pool[s] against the other runs of the pool, by version (average linkage).
VersionPrediction predict(const RunComparison& cmp, const std::vector<const RunPhaseSets*>& pool,
                          size_t s) {
  const RunPhaseSets& sample = *pool[s];
  VersionPrediction p;
  p.run = sample.run;
  p.actual = sample.version;
  std::vector<std::string> order;
  std::map<std::string, std::pair<double, size_t>> acc;  // version -> (sum, count)
  for (size_t j = 0; j < pool.size(); ++j) {
    if (j == s || (!sample.run.empty() && pool[j]->run == sample.run)) continue;
    if (!acc.count(pool[j]->version)) order.push_back(pool[j]->version);
    auto& [sum, n] = acc[pool[j]->version];
    sum += cmp.similarity(s, j);
    ++n;
  }
  double best = -1;
  for (const std::string& v : order) {
    double score = acc[v].first / static_cast<double>(acc[v].second);
    p.scores.emplace_back(v, score);
    // Exact float equality is intended: a tie means the same set arithmetic, not closeness.
    if (score > best) {
      best = score;
      p.predicted = v;
      p.tie = false;
    } else if (score == best) {
      p.tie = true;
    }
  }
  return p;
}

}  // namespace

VersionPrediction classify_version(const RunPhaseSets& sample,
                                   const std::vector<const RunPhaseSets*>& training,
                                   const PayloadStore& payloads, const SimilarityOptions& opts) {
  std::vector<const RunPhaseSets*> pool;
  for (const RunPhaseSets* t : training)
    if (sample.run.empty() || t->run != sample.run) pool.push_back(t);
  pool.push_back(&sample);
  return predict(RunComparison(pool, payloads, opts), pool, pool.size() - 1);
}

ConfusionMatrix leave_one_out(const std::vector<const RunPhaseSets*>& runs,
                              const PayloadStore& payloads, const SimilarityOptions& opts) {
  // The pool classify_version builds for a left-out run is always all of `runs`: compare once.
  return leave_one_out(runs, RunComparison(runs, payloads, opts));
}

ConfusionMatrix leave_one_out(const std::vector<const RunPhaseSets*>& runs,
                              const RunComparison& cmp) {
  assert(cmp.size() == runs.size());
  ConfusionMatrix m;
  std::map<std::string, size_t> per_version;
  for (const RunPhaseSets* r : runs) {
    if (!per_version.count(r->version)) m.versions.push_back(r->version);
    ++per_version[r->version];
  }
  if (m.versions.size() < 2) {
    m.reason = "leave-one-out needs at least two versions";
    return m;
  }
  for (const auto& [v, n] : per_version) {
    if (n < 2) {
      m.reason =
          "leave-one-out needs at least 2 runs of every version (repetitions >= 2); version " + v +
          " has " + std::to_string(n);
      return m;
    }
  }
  m.available = true;
  m.counts.assign(m.versions.size(), std::vector<size_t>(m.versions.size(), 0));
  auto index = [&](const std::string& v) {
    return static_cast<size_t>(std::find(m.versions.begin(), m.versions.end(), v) -
                               m.versions.begin());
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    VersionPrediction p = predict(cmp, runs, i);
    ++m.total;
    if (!p.predicted.empty()) ++m.counts[index(p.actual)][index(p.predicted)];
    if (!p.tie && p.predicted == p.actual) ++m.correct;
    m.predictions.push_back(std::move(p));
  }
  return m;
}

std::vector<std::vector<double>> similarity_matrix(const std::vector<const RunPhaseSets*>& runs,
                                                   const PayloadStore& payloads,
                                                   const SimilarityOptions& opts) {
  return RunComparison(runs, payloads, opts).matrix();
}

}  // namespace testbed::analysis
