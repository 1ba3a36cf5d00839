// `testbed run EXPERIMENT`: the whole study in one command. The options fill a
// runner::ExperimentRequest; runner/experiment.h does the work (checks, images, runs,
// report, pointers) and says what it found; here its outcome becomes the exit code.
#include "orchestrator/cli/commands.h"
#include "orchestrator/runner/experiment.h"

namespace testbed::cli {
namespace {

int exit_code(runner::ExperimentOutcome o) {
  using O = runner::ExperimentOutcome;
  switch (o) {
    case O::kComplete: return kExitOk;
    case O::kFailed: return kExitFailure;
    case O::kBadInput: return kExitBadInput;
    case O::kDrift: return kExitDrift;
    case O::kHostNotReady: return kExitEnvironment;
    case O::kInterrupted: return kExitInterrupted;
  }
  return kExitFailure;
}

}  // namespace

void add_run_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<runner::ExperimentRequest>();
  auto* sub = app.add_subcommand(
      "run",
      "Run an experiment end to end: build the lab, scan it with every scanner version, "
      "capture on the router, analyse, and write the report.");
  sub->footer(
      "Results go to <output>/<experiment>/<UTC time>/<scanner>/<repetition>/ with capture.pcap,\n"
      "nmap.xml, nmap.log, phases.json and manifest.json (written last: a run is complete only\n"
      "when it has one), and report.html/.md/.json plus CSV files beside them.\n"
      "Needs root and a running libvirtd (`make setup`). Images are built on first use.\n"
      "An experiment with several `hosts:` (qemu+ssh://HOST/system) runs one lab per host\n"
      "and spreads the runs over them in parallel (docs/backends.md, \"Remote lab hosts\").\n"
      "Exit codes: 0 every run complete, 1 a run failed, 2 bad input (nothing was created), 3\n"
      "drift against --baseline, 4 host not ready, 130 interrupted (--resume continues).\n"
      "Example: testbed run experiments/nmap7.yaml --repeat 3");
  sub->add_option("experiment", args->experiment, "Experiment file (experiments/*.yaml)")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("-o,--output", args->output,
                  "Results root (overrides the experiment's `output`)");
  sub->add_option("-r,--repeat", args->repeat,
                  "Repetitions per scanner (overrides `repetitions`; >= 2 adds the noise floor)")
      ->check(CLI::Range(1, 1000));
  sub->add_option("--resume", args->resume,
                  "Continue an earlier results directory: keep complete runs, redo the others")
      ->check(CLI::ExistingDirectory);
  sub->add_flag("--keep", args->keep,
                "Leave the lab up afterwards (`testbed lab down NAME` removes it); not about "
                "results: see --keep-results");
  sub->add_option("--keep-results", args->keep_results,
                  "After the run, keep the N newest complete results directories of this "
                  "experiment and remove older ones (never latest-good's, the baseline, or an "
                  "incomplete one; as `testbed prune DIR --keep N`)")
      ->check(CLI::Range(1, 100000));
  add_junit_option(*sub, args->junit);
  add_metrics_option(*sub, args->metrics);
  sub->add_flag("--stop-on-failure", args->stop_on_failure,
                "Stop at the first failed run (default: record it and go on)");
  sub->add_option("--baseline", args->baseline,
                  "Earlier results directory to compare with, or latest / latest-good (the "
                  "pointers in <output>/<experiment>/; none yet: no baseline this time); exit 3 "
                  "when traffic changed beyond the noise floor")
      ->check(baseline_validator());
  sub->add_flag("--allow-missing", args->allow_missing,
                "With --baseline: a scanner version with complete runs on one side only is not "
                "drift (default: it is, exit 3)");
  sub->add_option("--lab-name", args->lab_name,
                  "Name of the lab (default: derived from the experiment)");
  sub->callback([args, &ctx] {
    for (const auto& s : ctx.argv)
      args->command_line += (args->command_line.empty() ? "" : " ") + s;
    ctx.exit_code = exit_code(runner::run_experiment_file(*args));
  });
}

}  // namespace testbed::cli
