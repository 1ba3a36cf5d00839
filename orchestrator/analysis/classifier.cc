#include "orchestrator/analysis/classifier.h"

#include <algorithm>
#include <cassert>
#include <map>

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

double run_similarity(const RunPhaseSets& a, const RunPhaseSets& b) {
  static const PacketKeySet kEmpty;
  size_t inter = 0, uni = 0;
  for (size_t i = 0; i < std::max(a.rows.size(), b.rows.size()); ++i) {
    const PacketKeySet& x = i < a.rows.size() ? a.rows[i] : kEmpty;
    const PacketKeySet& y = i < b.rows.size() ? b.rows[i] : kEmpty;
    const PacketKeySet& small = x.size() <= y.size() ? x : y;
    const PacketKeySet& big = x.size() <= y.size() ? y : x;
    size_t in = 0;
    for (const PacketKey& k : small) in += big.count(k);
    inter += in;
    uni += x.size() + y.size() - in;
  }
  return uni ? static_cast<double>(inter) / static_cast<double>(uni) : 1.0;
}

std::vector<PacketKeySet> informative_keys(const std::vector<const RunPhaseSets*>& runs) {
  size_t rows = 0;
  for (const RunPhaseSets* r : runs) rows = std::max(rows, r->rows.size());
  std::vector<PacketKeySet> seen(rows), out(rows);
  for (const RunPhaseSets* r : runs)
    for (size_t i = 0; i < r->rows.size(); ++i)
      seen[i].insert(r->rows[i].begin(), r->rows[i].end());
  for (size_t i = 0; i < rows; ++i)
    for (const PacketKey& k : seen[i]) {
      size_t in = 0;
      for (const RunPhaseSets* r : runs) in += i < r->rows.size() && r->rows[i].contains(k);
      if (in >= 2 && in < runs.size()) out[i].insert(k);
    }
  return out;
}

RunPhaseSets keep_only(const RunPhaseSets& r, const std::vector<PacketKeySet>& keys) {
  RunPhaseSets out{r.version, r.run, std::vector<PacketKeySet>(r.rows.size())};
  for (size_t i = 0; i < r.rows.size() && i < keys.size(); ++i)
    for (const PacketKey& k : r.rows[i])
      if (keys[i].contains(k)) out.rows[i].insert(k);
  return out;
}

VersionPrediction classify_version(const RunPhaseSets& sample,
                                   const std::vector<const RunPhaseSets*>& training) {
  VersionPrediction p;
  p.run = sample.run;
  p.actual = sample.version;
  std::vector<const RunPhaseSets*> used;
  for (const RunPhaseSets* t : training)
    if (sample.run.empty() || t->run != sample.run) used.push_back(t);
  // Keys of one run only (random tokens, random closed ports, DNS ids) say which run, not
  // which version; keys of every run say nothing either: compare on the others.
  std::vector<const RunPhaseSets*> all = used;
  all.push_back(&sample);
  const std::vector<PacketKeySet> recurring = informative_keys(all);
  const RunPhaseSets s = keep_only(sample, recurring);
  std::vector<std::string> order;
  std::map<std::string, std::pair<double, size_t>> acc;  // version -> (sum, count)
  for (const RunPhaseSets* t : used) {
    if (!acc.count(t->version)) order.push_back(t->version);
    auto& [sum, n] = acc[t->version];
    sum += run_similarity(s, keep_only(*t, recurring));
    ++n;
  }
  double best = -1;
  for (const std::string& v : order) {
    double s = acc[v].first / static_cast<double>(acc[v].second);
    p.scores.emplace_back(v, s);
    // Exact float equality is intended: a tie means the same set arithmetic, not closeness.
    if (s > best) {
      best = s;
      p.predicted = v;
      p.tie = false;
    } else if (s == best) {
      p.tie = true;
    }
  }
  return p;
}

ConfusionMatrix leave_one_out(const std::vector<const RunPhaseSets*>& runs) {
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
  for (const RunPhaseSets* r : runs) {
    VersionPrediction p = classify_version(*r, runs);
    ++m.total;
    if (!p.predicted.empty()) ++m.counts[index(p.actual)][index(p.predicted)];
    if (!p.tie && p.predicted == p.actual) ++m.correct;
    m.predictions.push_back(std::move(p));
  }
  return m;
}

std::vector<std::vector<double>> similarity_matrix(const std::vector<const RunPhaseSets*>& runs) {
  const std::vector<PacketKeySet> recurring = informative_keys(runs);
  std::vector<RunPhaseSets> kept;
  for (const RunPhaseSets* r : runs) kept.push_back(keep_only(*r, recurring));
  std::vector<std::vector<double>> s(runs.size(), std::vector<double>(runs.size(), 1.0));
  for (size_t i = 0; i < runs.size(); ++i)
    for (size_t j = i + 1; j < runs.size(); ++j)
      s[i][j] = s[j][i] = run_similarity(kept[i], kept[j]);
  return s;
}

}  // namespace testbed::analysis
