// `testbed prune RESULTS_ROOT/<experiment> --keep N` — retention of results directories
// (orchestrator/nightly/prune.h).
#include <iostream>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/nightly/prune.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

struct PruneArgs {
  std::string dir;
  size_t keep = 0;
  bool dry_run = false;
  std::vector<std::string> baselines;
};

int run_prune(const PruneArgs& a) {
  std::vector<std::filesystem::path> baselines(a.baselines.begin(), a.baselines.end());
  auto plan = nightly::plan_prune(a.dir, a.keep, baselines);
  if (!plan) {
    util::log_error("{}", plan.error().message);
    return kExitBadInput;
  }
  size_t removed = 0;
  for (const auto& e : *plan) {
    std::cout << (e.remove ? (a.dry_run ? "would remove " : "remove ") : "keep ")
              << e.dir.string() << ": " << e.reason << '\n';
    removed += e.remove;
  }
  if (a.dry_run) {
    std::cout << removed << " of " << plan->size() << " would be removed (--dry-run)\n";
    return kExitOk;
  }
  if (auto st = nightly::apply_prune(*plan); !st) {
    util::log_error("{}", st.error().message);
    return kExitFailure;
  }
  std::cout << removed << " of " << plan->size() << " removed\n";
  return kExitOk;
}

}  // namespace

void add_prune_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<PruneArgs>();
  auto* sub = app.add_subcommand(
      "prune",
      "Remove old results directories of one experiment: keep the N newest complete ones.");
  sub->footer(
      "Never removed: the directory latest-good or latest points at, a baseline (--baseline,\n"
      "or the one a kept directory's report was compared with), an incomplete results\n"
      "directory (testbed run --resume can continue it, or a run is writing it), and anything\n"
      "that is not a results directory. Every entry is listed with the reason it is kept or\n"
      "removed. `testbed run --keep-results N` does the same after each run.\n"
      "Exit codes: 0 done (or --dry-run), 1 a removal failed, 2 bad input.\n"
      "Example: testbed prune /srv/results/nmap7 --keep 14 --dry-run");
  sub->add_option("dir", args->dir, "RESULTS_ROOT/<experiment>, e.g. results/nmap7")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--keep", args->keep, "Complete results directories to keep (newest first)")
      ->required()
      ->check(CLI::Range(1, 100000));
  sub->add_flag("--dry-run", args->dry_run, "Only list what would be removed and kept");
  sub->add_option("--baseline", args->baselines,
                  "A results directory that must stay whatever its age (repeatable)");
  sub->callback([args, &ctx] { ctx.exit_code = run_prune(*args); });
}

}  // namespace testbed::cli
