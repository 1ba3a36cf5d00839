// `testbed history RESULTS_ROOT/EXPERIMENT [--json] [-o FILE.html]` — an experiment across
// nights: one self-contained HTML page, or JSON (orchestrator/nightly/history.h).
#include <iostream>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/nightly/history.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

struct HistoryArgs {
  std::string dir;
  bool json = false;
  std::string output;
};

int run_history(const HistoryArgs& a) {
  auto h = nightly::load_history(a.dir);
  if (!h) {
    util::log_error("{}", h.error().message);
    return kExitBadInput;
  }
  std::string text = a.json ? nightly::history_json(*h).dump(2) + "\n" : nightly::history_html(*h);
  if (a.output.empty() || a.output == "-") {
    std::cout << text;
    return kExitOk;
  }
  if (auto st = util::write_file_atomic(a.output, text); !st) {
    util::log_error("-o {}: {}", a.output, st.error().message);
    return kExitFailure;
  }
  std::cout << a.output << '\n';
  return kExitOk;
}

}  // namespace

void add_history_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<HistoryArgs>();
  auto* sub = app.add_subcommand(
      "history",
      "An experiment across nights: one self-contained HTML page (inline SVG, no network) with "
      "each version's packets sent, unique packets and noise floor per phase night by night, "
      "durations, drops, failed or missing runs, and every drift night with its provenance "
      "change and a link to that night's report.");
  sub->footer(
      "Reads every results directory of the experiment (their manifests and report.json; no "
      "capture\nis analysed). A night without report.json is listed without figures "
      "(`testbed report DIR` makes one).\n"
      "Exit codes: 0 written, 1 the output cannot be written, 2 not an experiment's results "
      "folder.\n"
      "Example: testbed history results/nmap7 -o results/nmap7/history.html");
  sub->add_option("dir", args->dir,
                  "The experiment's folder of results directories: RESULTS_ROOT/<experiment>")
      ->required();
  sub->add_flag("--json", args->json,
                "Print JSON instead (format testbed-history, docs/results.md)");
  sub->add_option("-o,--output", args->output,
                  "Write to FILE (atomically) instead of standard output");
  sub->callback([args, &ctx] { ctx.exit_code = run_history(*args); });
}

}  // namespace testbed::cli
