#include "orchestrator/report/results.h"

#include "orchestrator/util/log.h"

namespace testbed::report {

std::vector<const AnalysedRun*> AnalysedResults::primary() const {
  std::vector<const AnalysedRun*> out;
  for (const std::string& v : results.versions) {
    for (const AnalysedRun& a : runs) {
      if (results.runs[a.record].version == v) {
        out.push_back(&a);
        break;
      }
    }
  }
  return out;
}

std::vector<analysis::RunPhaseSets> AnalysedResults::phase_sets(bool grouped) const {
  std::vector<analysis::RunPhaseSets> out;
  for (const AnalysedRun& a : runs) {
    const RunRecord& rec = results.runs[a.record];
    out.push_back(analysis::run_phase_sets(a.capture, rec.version, rec.name(), grouped));
  }
  return out;
}

analysis::AnalysisResult AnalysedResults::study(const std::vector<const AnalysedRun*>& columns,
                                                std::vector<std::string>* runs) const {
  analysis::AnalysisResult s;
  s.options = options;
  s.payloads = payloads;
  for (const AnalysedRun* a : columns) {
    analysis::CaptureAnalysis c = a->capture;  // a copy: the study's columns are labelled by version
    c.input.label = results.runs[a->record].version;
    if (runs) runs->push_back(results.runs[a->record].name());
    s.captures.push_back(std::move(c));
  }
  std::vector<const analysis::CaptureAnalysis*> cols;
  for (const auto& c : s.captures) cols.push_back(&c);
  s.three_phase = analysis::unique_table(cols, true, *payloads, options.similarity);
  s.fine = analysis::unique_table(cols, false, *payloads, options.similarity);
  return s;
}

AnalysedResults analyse_results(ResultsDir results, const analysis::AnalysisOptions& opts,
                                std::shared_ptr<analysis::PayloadStore> store,
                                const std::atomic<bool>* cancel) {
  AnalysedResults out;
  out.options = opts;
  out.payloads = std::move(store);
  for (size_t i = 0; i < results.runs.size(); ++i) {
    if (cancel && cancel->load()) break;
    RunRecord& rec = results.runs[i];
    if (!rec.complete()) continue;
    auto kind = rec.kind();  // from the manifest already read
    if (!kind) {
      rec.status = "unreadable";
      rec.error = kind.error().message;
      util::log_warn("{}: left out of the report: {}", rec.name(), rec.error);
      continue;
    }
    analysis::CaptureInput in = rec.run_dir().capture_input(rec.name(), (*kind)->model());
    util::log_info("analysing {} ({})", rec.name(), in.pcap.string());
    auto c = analysis::analyze_capture(in, opts, *out.payloads);
    if (!c) {
      rec.status = "unreadable";
      rec.error = c.error().message;
      util::log_warn("{}: left out of the report: {}", rec.name(), rec.error);
      continue;
    }
    out.runs.push_back(AnalysedRun{i, std::move(*c)});
  }
  out.results = std::move(results);
  return out;
}

}  // namespace testbed::report
