#include "orchestrator/report/compare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>

namespace testbed::report {

using analysis::RunPhaseSets;

namespace {

std::vector<std::string> versions_of(const std::vector<const RunPhaseSets*>& runs) {
  std::vector<std::string> v;
  for (const RunPhaseSets* r : runs)
    if (std::find(v.begin(), v.end(), r->version) == v.end()) v.push_back(r->version);
  return v;
}

std::vector<const RunPhaseSets*> of_version(const std::vector<const RunPhaseSets*>& runs,
                                            const std::string& v) {
  std::vector<const RunPhaseSets*> out;
  for (const RunPhaseSets* r : runs)
    if (r->version == v) out.push_back(r);
  return out;
}

}  // namespace

DriftReport compare_runs(const std::vector<const RunPhaseSets*>& a,
                         const std::vector<const RunPhaseSets*>& b,
                         const analysis::PayloadStore& payloads,
                         const analysis::SimilarityOptions& opts, size_t tolerance) {
  DriftReport d;
  d.tolerance = tolerance;
  std::vector<std::string> va = versions_of(a), vb = versions_of(b);
  for (const auto& v : va)
    if (std::find(vb.begin(), vb.end(), v) == vb.end()) d.only_in_a.push_back(v);
  for (const auto& v : vb)
    if (std::find(va.begin(), va.end(), v) == va.end()) d.only_in_b.push_back(v);
  size_t nrows = a.empty() || b.empty() ? 0 : SIZE_MAX;
  for (const auto* side : {&a, &b})
    for (const RunPhaseSets* r : *side) nrows = std::min(nrows, r->rows.size());
  bool grouped = nrows == static_cast<size_t>(analysis::kPhaseGroupCount);
  std::vector<std::string> rows = analysis::phase_rows(grouped);
  for (const std::string& v : va) {
    if (std::find(vb.begin(), vb.end(), v) == vb.end()) continue;
    auto ra = of_version(a, v), rb = of_version(b, v);
    for (size_t row = 0; row < nrows && row < rows.size(); ++row) {
      DriftCell c;
      c.version = v;
      c.phase = rows[row];
      c.between = std::numeric_limits<size_t>::max();
      for (const RunPhaseSets* x : ra) {
        for (const RunPhaseSets* y : rb) {
          auto u = analysis::pair_unique(x->rows[row], y->rows[row], payloads, opts);
          if (u.max() < c.between) {
            c.between = u.max();
            c.a_only = u.a_only;
            c.b_only = u.b_only;
          }
        }
      }
      for (const auto* side : {&ra, &rb}) {
        for (size_t i = 0; i < side->size(); ++i) {
          for (size_t j = i + 1; j < side->size(); ++j) {
            auto u =
                analysis::pair_unique((*side)[i]->rows[row], (*side)[j]->rows[row], payloads, opts);
            c.noise = std::max(c.noise.value_or(0), u.max());
          }
        }
      }
      if (c.noise) d.noise_known = true;
      c.threshold = c.noise.value_or(0) + tolerance;
      c.drift = c.between > c.threshold;
      d.drift = d.drift || c.drift;
      d.cells.push_back(std::move(c));
    }
  }
  return d;
}

nlohmann::json DriftReport::to_json() const {
  nlohmann::json cs = nlohmann::json::array();
  for (const DriftCell& c : cells) {
    nlohmann::json j = {{"version", c.version}, {"phase", c.phase},   {"between", c.between},
                        {"a_only", c.a_only},   {"b_only", c.b_only}, {"threshold", c.threshold},
                        {"drift", c.drift}};
    j["noise_floor"] = c.noise ? nlohmann::json(*c.noise) : nlohmann::json(nullptr);
    cs.push_back(j);
  }
  return {{"drift", drift},         {"tolerance", tolerance}, {"noise_floor_known", noise_known},
          {"only_in_a", only_in_a}, {"only_in_b", only_in_b}, {"cells", cs}};
}

std::string DriftReport::to_markdown(const std::string& a_name, const std::string& b_name) const {
  std::string o = fmt::format("A = {}\nB = {}\n\n", a_name, b_name);
  o += "| version | phase | A only | B only | between | noise floor | threshold | drift |\n";
  o += "|---|---|---:|---:|---:|---:|---:|---|\n";
  for (const DriftCell& c : cells)
    o += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", c.version, c.phase, c.a_only,
                     c.b_only, c.between, c.noise ? std::to_string(*c.noise) : "unknown",
                     c.threshold, c.drift ? "**DRIFT**" : "no");
  if (!only_in_a.empty())
    o += fmt::format("\nVersions only in A (not compared): {}\n", fmt::join(only_in_a, ", "));
  if (!only_in_b.empty())
    o += fmt::format("\nVersions only in B (not compared): {}\n", fmt::join(only_in_b, ", "));
  if (!noise_known)
    o += "\nNoise floor unknown (fewer than 2 runs per version on both sides): any difference "
         "beyond the "
         "tolerance counts as drift. Run with repetitions >= 2 to measure it.\n";
  o += fmt::format("\nResult: {}\n",
                   drift ? "drift beyond the noise floor" : "no drift beyond the noise floor");
  return o;
}

}  // namespace testbed::report
