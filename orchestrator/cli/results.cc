// `testbed results DIR [--json]` — the typed view of a results directory or of one run
// directory (orchestrator/results/summary.h; the fields in docs/results.md).
#include <iostream>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/results/summary.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

struct ResultsArgs {
  std::string dir;
  bool json = false;
};

int run_results(const ResultsArgs& a) {
  auto r = results::is_run_dir(a.dir) ? results::load_run_dir(a.dir) : results::load_results(a.dir);
  if (!r) {
    util::log_error("{}", r.error().message);
    return kExitBadInput;
  }
  if (a.json)
    std::cout << results::summary_json(*r).dump(2) << '\n';
  else
    std::cout << results::summary_text(*r);
  return kExitOk;
}

}  // namespace

void add_results_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<ResultsArgs>();
  auto* sub = app.add_subcommand(
      "results",
      "Show what a results directory (or one run directory) holds: every run with its state, "
      "scanner version, packets captured, drops and durations, from the manifests alone.");
  sub->footer(
      "Reads plan.json, the run directories' manifest.json / failure.json; analyses nothing.\n"
      "The files and the JSON fields: docs/results.md.\n"
      "Exit codes: 0 shown, 2 not a results or run directory (or a bad experiment.yaml).\n"
      "Example: testbed results results/nmap7/20261126T214900Z --json");
  sub->add_option("dir", args->dir,
                  "Results directory (results/<experiment>/<UTC time>) or a run directory "
                  "(<results>/<scanner>/<rep>)")
      ->required();
  sub->add_flag("--json", args->json, "Print JSON (format testbed-results, docs/results.md)");
  sub->callback([args, &ctx] { ctx.exit_code = run_results(*args); });
}

}  // namespace testbed::cli
