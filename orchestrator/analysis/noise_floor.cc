#include "orchestrator/analysis/noise_floor.h"

#include <algorithm>

namespace testbed::analysis {

std::vector<std::string> phase_rows(bool grouped) {
  std::vector<std::string> rows;
  if (grouped) {
    for (int g = 0; g < kPhaseGroupCount; ++g)
      rows.push_back(phase_group_name(static_cast<PhaseGroup>(g)));
  } else {
    for (Phase p : kAllPhases) rows.push_back(phase_name(p));
  }
  return rows;
}

RunPhaseSets run_phase_sets(const CaptureAnalysis& c, std::string version, std::string run,
                            bool grouped) {
  RunPhaseSets r;
  r.version = std::move(version);
  r.run = std::move(run);
  if (grouped) {
    for (int g = 0; g < kPhaseGroupCount; ++g)
      r.rows.push_back(c.group_keys(static_cast<PhaseGroup>(g)));
  } else {
    for (int p = 0; p < kPhaseCount; ++p) r.rows.push_back(c.sent_keys[p]);
  }
  return r;
}

PairUnique pair_unique(const PacketKeySet& a, const PacketKeySet& b, const PayloadStore& payloads,
                       const SimilarityOptions& opts) {
  auto res = compute_unique_sets({&a, &b}, payloads, opts);
  return PairUnique{res[0].unique.size(), res[1].unique.size()};
}

bool NoiseFloor::available() const {
  for (const auto& row : cells)
    for (const NoiseCell& c : row)
      if (c.pairs > 0) return true;
  return false;
}

const NoiseCell* NoiseFloor::find(const std::string& row, const std::string& version) const {
  auto r = std::find(rows.begin(), rows.end(), row);
  auto v = std::find(versions.begin(), versions.end(), version);
  if (r == rows.end() || v == versions.end()) return nullptr;
  return &cells[r - rows.begin()][v - versions.begin()];
}

NoiseFloor noise_floor(const std::vector<const RunPhaseSets*>& runs, bool grouped,
                       const PayloadStore& payloads, const SimilarityOptions& opts) {
  NoiseFloor nf;
  nf.grouped = grouped;
  nf.rows = phase_rows(grouped);
  for (const RunPhaseSets* r : runs)
    if (std::find(nf.versions.begin(), nf.versions.end(), r->version) == nf.versions.end())
      nf.versions.push_back(r->version);
  nf.cells.assign(nf.rows.size(), std::vector<NoiseCell>(nf.versions.size()));
  for (size_t v = 0; v < nf.versions.size(); ++v) {
    std::vector<const RunPhaseSets*> same;
    for (const RunPhaseSets* r : runs)
      if (r->version == nf.versions[v]) same.push_back(r);
    for (size_t row = 0; row < nf.rows.size(); ++row) {
      NoiseCell& cell = nf.cells[row][v];
      double sum = 0;
      for (size_t i = 0; i < same.size(); ++i) {
        for (size_t j = i + 1; j < same.size(); ++j) {
          // A run with fewer rows (built by hand) has empty sets there.
          static const PacketKeySet kEmpty;
          const PacketKeySet& a = row < same[i]->rows.size() ? same[i]->rows[row] : kEmpty;
          const PacketKeySet& b = row < same[j]->rows.size() ? same[j]->rows[row] : kEmpty;
          PairUnique u = pair_unique(a, b, payloads, opts);
          ++cell.pairs;
          cell.max = std::max(cell.max, u.max());
          sum += static_cast<double>(u.a_only + u.b_only) / 2.0;
        }
      }
      if (cell.pairs) cell.mean = sum / static_cast<double>(cell.pairs);
    }
  }
  return nf;
}

}  // namespace testbed::analysis
