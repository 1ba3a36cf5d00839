// `testbed report RESULTS_DIR` — regenerates report.html/.md/.json and csv/ from the run
// directories alone (orchestrator/report/report.h).
#include "orchestrator/report/report.h"

#include <iostream>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/ids/section.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

struct ReportArgs {
  std::string results_dir;
  std::string baseline;
  size_t tolerance = 0;
  size_t unique_limit = analysis::kDefaultUniqueLimit;
  bool allow_missing = false;
  bool ids = false;
};

int run_report(const ReportArgs& a) {
  report::ReportOptions opts;
  if (!a.baseline.empty()) opts.baseline = a.baseline;
  opts.drift_tolerance = a.tolerance;
  opts.allow_missing = a.allow_missing;
  opts.unique_limit = a.unique_limit;
  if (a.ids || ids::enabled_in(a.results_dir)) opts.sections.push_back(ids::section_provider());
  util::catch_interrupts();  // Ctrl-C stops the analysis; no file is half-written
  opts.cancel = &util::interrupt_flag();
  auto out = report::write_report(a.results_dir, opts);
  if (!out && util::interrupted()) {
    util::log_warn("{}", out.error().message);
    return kExitInterrupted;
  }
  if (!out) {
    util::log_error("{}", out.error().message);
    return kExitBadInput;
  }
  std::cout << out->html.string() << '\n'
            << out->markdown.string() << '\n'
            << out->json.string() << '\n';
  if (out->drift) {
    util::log_warn("drift against {}: {} (see the report's baseline section)", a.baseline,
                   out->drift_reason);
    return kExitDrift;
  }
  return kExitOk;
}

}  // namespace

void add_report_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<ReportArgs>();
  auto* sub = app.add_subcommand("report",
                                 "Regenerate the report of a results directory: report.html "
                                 "(self-contained), report.md, report.json and "
                                 "csv/, from the run directories alone.");
  sub->footer(
      "Complete runs (with manifest.json) are analysed; failed and incomplete runs are listed, not "
      "analysed.\n"
      "Analysis settings come from the results directory's experiment.yaml (`analysis:`).\n"
      "Exit codes: 0 report written, 2 not a results directory / nothing to report, 3 drift "
      "against --baseline, 130 interrupted (nothing written).\n"
      "Example: testbed report results/nmap7/20261126T214900Z --baseline "
      "results/nmap7/20261125T020000Z");
  sub->add_option("results_dir", args->results_dir,
                  "Results directory: results/<experiment>/<UTC time>")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--baseline", args->baseline,
                  "An older results directory to compare with; exit 3 when traffic changed beyond "
                  "the noise floor")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--tolerance", args->tolerance,
                  "Unique packets a version/phase may exceed its noise floor by before it counts "
                  "as drift (default 0)");
  sub->add_flag("--allow-missing", args->allow_missing,
                "With --baseline: a scanner version with complete runs on one side only is not "
                "drift (default: it is, exit 3)");
  sub->add_option("--unique-limit", args->unique_limit,
                  fmt::format("Unique packets listed per phase and version in HTML/Markdown "
                              "(default {}, as in analyze; the CSV has all)",
                              analysis::kDefaultUniqueLimit));
  sub->add_flag("--ids", args->ids,
                "Add \"Can an IDS tell them apart?\": rules from the unique packets replayed by "
                "the sensor image's Suricata (default: when the experiment has ids: {enabled: "
                "true})");
  sub->callback([args, &ctx] { ctx.exit_code = run_report(*args); });
}

}  // namespace testbed::cli
