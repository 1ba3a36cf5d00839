#include "orchestrator/report/model.h"

#include <memory>

#include "orchestrator/report/provenance.h"
#include "orchestrator/util/clock.h"

namespace testbed::report {
namespace fs = std::filesystem;

namespace {

std::string utc_now() { return util::utc_now("%Y-%m-%d %H:%M:%S UTC"); }

std::vector<const analysis::RunPhaseSets*> ptrs(const std::vector<analysis::RunPhaseSets>& v) {
  std::vector<const analysis::RunPhaseSets*> p;
  for (const auto& s : v) p.push_back(&s);
  return p;
}

}  // namespace

util::Status check_cancel(const ReportOptions& opts) {
  if (opts.cancel && opts.cancel->load())
    return util::fail("interrupted before the report was written (nothing written)");
  return {};
}

util::Result<Model> build_model(const fs::path& dir, const ReportOptions& opts) {
  auto loaded = load_results(dir);
  if (!loaded) return loaded.error();
  analysis::AnalysisOptions aopts = loaded->options;
  auto store = std::make_shared<analysis::PayloadStore>(aopts.payload_max, aopts.payload_budget);
  Model m;
  m.generated = utc_now();
  m.data = analyse_results(std::move(*loaded), aopts, store, opts.cancel);
  if (auto st = check_cancel(opts); !st) return st.error();
  if (m.data.runs.empty())
    return util::fail(
        "{}: no complete, readable run to report on (see the runs' failure.json files)",
        dir.string());

  std::vector<std::string> study_runs;  // the run behind each column
  m.study = m.data.study(m.data.primary(), &study_runs);
  for (const auto& c : m.study.captures) m.versions.push_back(c.input.label);
  m.places = locate_unique(m.study, study_runs);

  m.grouped_sets = m.data.phase_sets(true);
  m.fine_sets = m.data.phase_sets(false);
  m.noise_grouped = analysis::noise_floor(ptrs(m.grouped_sets), true, *store, aopts.similarity);
  m.noise_fine = analysis::noise_floor(ptrs(m.fine_sets), false, *store, aopts.similarity);
  const analysis::RunComparison compared(ptrs(m.fine_sets), *store, aopts.similarity);
  m.loo = analysis::leave_one_out(ptrs(m.fine_sets), compared);
  m.similarity = compared.matrix();
  for (const auto& s : m.fine_sets) m.run_names.push_back(s.run);
  m.findings = find_differences(m.study, m.versions, m.places, m.fine_sets, m.noise_fine);

  for (const auto& make : opts.sections) m.extra.push_back(make(m.data));
  if (opts.baseline) {
    auto base = load_results(*opts.baseline);
    if (!base) return util::fail("--baseline: {}", base.error().message);
    // The baseline is read with OUR settings: a comparison needs one packet key.
    AnalysedResults b = analyse_results(std::move(*base), aopts, store, opts.cancel);
    if (auto st = check_cancel(opts); !st) return st.error();
    if (b.runs.empty())
      return util::fail("--baseline {}: no complete, readable run", opts.baseline->string());
    auto bsets = b.phase_sets(true);
    m.drift = compare_runs(ptrs(bsets), ptrs(m.grouped_sets), *store, aopts.similarity,
                           opts.drift_tolerance, opts.allow_missing);
    explain_missing(*m.drift, b.results, m.data.results);
    explain_provenance(*m.drift, b.results, m.data.results);
    m.baseline_name = opts.baseline->string();
  }
  return m;
}

}  // namespace testbed::report
