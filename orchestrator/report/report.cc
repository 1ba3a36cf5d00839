// write_report: the model (model.h) built once, then each format written (render.h).
#include "orchestrator/report/report.h"

#include "orchestrator/report/inert.h"
#include "orchestrator/report/model.h"
#include "orchestrator/report/render.h"
#include "orchestrator/results/layout.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"

namespace testbed::report {
namespace fs = std::filesystem;

util::Result<ReportOutcome> write_report(const fs::path& results_dir, const ReportOptions& opts) {
  auto m = build_model(results_dir, opts);
  if (!m) return m.error();
  // The last point of no return: from here the files are written (each atomically).
  if (auto st = check_cancel(opts); !st) return st.error();
  ReportOutcome out;
  const results::ResultsPaths paths{results_dir};
  out.html = paths.report_html();
  out.markdown = paths.report_markdown();
  out.json = paths.report_json();
  out.drift = m->drift && m->drift->drift;
  if (out.drift) out.drift_reason = drift_summary(*m->drift);
  if (auto st = write_report_csv(*m, paths.csv()); !st) return st.error();
  if (auto st = util::write_file_atomic(out.json, json_text(report_json(*m)) + "\n"); !st)
    return st.error();
  if (auto st = util::write_file_atomic(out.markdown, report_markdown(*m, opts.unique_limit)); !st)
    return st.error();
  if (auto st = util::write_file_atomic(out.html, report_html(*m, opts.unique_limit)); !st)
    return st.error();
  util::log_info("report written: {}", out.html.string());
  return out;
}

}  // namespace testbed::report
