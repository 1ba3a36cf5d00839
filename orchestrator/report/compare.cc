#include "orchestrator/report/compare.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>

#include "orchestrator/report/inert.h"

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
                         const analysis::SimilarityOptions& opts, size_t tolerance,
                         bool allow_missing) {
  DriftReport d;
  d.tolerance = tolerance;
  d.allow_missing = allow_missing;
  std::vector<std::string> va = versions_of(a), vb = versions_of(b);
  for (const auto& v : va)
    if (std::find(vb.begin(), vb.end(), v) == vb.end()) d.only_in_a.push_back(v);
  for (const auto& v : vb)
    if (std::find(va.begin(), va.end(), v) == va.end()) d.only_in_b.push_back(v);
  d.missing_drift = !allow_missing && (!d.only_in_a.empty() || !d.only_in_b.empty());
  d.drift = d.missing_drift;
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

std::string drift_summary(const DriftReport& d) {
  std::vector<std::string> parts;
  std::vector<std::string> cells;
  for (const DriftCell& c : d.cells)
    if (c.drift) cells.push_back(c.version + " " + c.phase);
  if (!cells.empty())
    parts.push_back(
        fmt::format("traffic changed beyond the noise floor ({})", fmt::join(cells, ", ")));
  if (d.drift && d.provenance_compared)
    parts.push_back(d.provenance.empty()
                        ? std::string("provenance identical (images, packages, nmap, kernel, "
                                      "libvirt, testbed): the drift is not explained by a change "
                                      "of software")
                        : fmt::format("provenance changed: {}", fmt::join(d.provenance, "; ")));
  if (d.missing_drift) {
    std::vector<std::string> vs;
    for (const auto* side : {&d.only_in_a, &d.only_in_b})
      for (const auto& v : *side) {
        auto w = d.missing_why.find(v);
        vs.push_back(w == d.missing_why.end() ? v : v + ": " + w->second);
      }
    parts.push_back(
        fmt::format("no run to compare on one side for {} (--allow-missing accepts this)",
                    fmt::join(vs, "; ")));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string why_missing(const ResultsDir& results, const std::string& version) {
  std::vector<std::string> states;
  for (const RunRecord& r : results.runs) {
    if (r.version != version) continue;
    std::string s = r.name() + " " + r.status;
    if (!r.stage.empty()) s += " at " + r.stage;
    if (!r.error.empty()) s += ": " + r.error;
    states.push_back(std::move(s));
  }
  if (states.empty()) return "not in the plan";
  return fmt::format("{}", fmt::join(states, "; "));
}

void explain_missing(DriftReport& d, const ResultsDir& a, const ResultsDir& b) {
  for (const auto& v : d.only_in_a) d.missing_why[v] = why_missing(b, v);
  for (const auto& v : d.only_in_b) d.missing_why[v] = why_missing(a, v);
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
  nlohmann::json why = nlohmann::json::object();
  for (const auto& [v, w] : missing_why) why[v] = w;
  return {{"drift", drift},
          {"tolerance", tolerance},
          {"noise_floor_known", noise_known},
          {"only_in_a", only_in_a},
          {"only_in_b", only_in_b},
          {"missing_why", why},
          {"allow_missing", allow_missing},
          {"missing_drift", missing_drift},
          {"provenance_compared", provenance_compared},
          {"provenance_changes", provenance},
          {"cells", cs}};
}

std::string DriftReport::to_markdown(const std::string& a_name, const std::string& b_name) const {
  // The two paths as given (the user's own; `testbed diff` prints this on a terminal).
  std::string o = fmt::format("A = {}\nB = {}\n\n", a_name, b_name);
  o += "| version | phase | A only | B only | between | noise floor | threshold | drift |\n";
  o += "|---|---|---:|---:|---:|---:|---:|---|\n";
  for (const DriftCell& c : cells)
    o += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", md_text(c.version), c.phase,
                     c.a_only, c.b_only, c.between, c.noise ? std::to_string(*c.noise) : "unknown",
                     c.threshold, c.drift ? "**DRIFT**" : "no");
  auto missing = [&](const std::vector<std::string>& vs, const char* has, const char* lacks) {
    if (vs.empty()) return;
    o += fmt::format("\nVersions with a complete run in {} but none in {} ({}):\n", has, lacks,
                     allow_missing ? "allowed by --allow-missing, not compared"
                                   : "**DRIFT**; --allow-missing accepts this");
    for (const auto& v : vs) {
      auto w = missing_why.find(v);
      o += w == missing_why.end() ? fmt::format("- {}\n", md_text(v))
                                  : fmt::format("- {}: in {} {}\n", md_text(v), lacks,
                                                md_text(w->second));
    }
  };
  missing(only_in_a, "A", "B");
  missing(only_in_b, "B", "A");
  if (!noise_known)
    o += "\nNoise floor unknown (fewer than 2 runs per version on both sides): any difference "
         "beyond the "
         "tolerance counts as drift. Run with repetitions >= 2 to measure it.\n";
  if (provenance_compared) {
    o += provenance.empty() ? "\nProvenance: identical (image recipes and packages, nmap --version, "
                              "kernel, libvirt, testbed).\n"
                            : "\nProvenance changed (A → B):\n";
    for (const auto& p : provenance) o += "- " + md_text(p) + "\n";
  }
  bool cell_drift =
      std::any_of(cells.begin(), cells.end(), [](const DriftCell& c) { return c.drift; });
  std::string result =
      cell_drift ? "drift beyond the noise floor" : "no drift beyond the noise floor";
  if (missing_drift)
    result = (cell_drift ? "drift beyond the noise floor, and " : "drift: ") +
             std::string("a version has runs on one side only");
  if (cell_drift && provenance_compared && provenance.empty())
    result += " with identical provenance";
  o += fmt::format("\nResult: {}\n", result);
  return o;
}

}  // namespace testbed::report
