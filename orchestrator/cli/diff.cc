// `testbed diff A B` — did the traffic of each scanner version change between two results
// directories, per phase, beyond the noise floor? (orchestrator/report/compare.h)
#include <iostream>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/nightly/junit.h"
#include "orchestrator/nightly/metrics.h"
#include "orchestrator/nightly/pointers.h"
#include "orchestrator/report/compare.h"
#include "orchestrator/report/provenance.h"
#include "orchestrator/report/results.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

struct DiffArgs {
  std::string a, b;
  size_t tolerance = 0;
  bool fine = false;
  bool json = false;
  bool allow_missing = false;
  std::string junit;
  std::string metrics;
};

namespace fs = std::filesystem;

// `latest` / `latest-good` as A or B: the pointer beside the other directory (a results
// directory: results/nmap7/<time>) or in it (the experiment's directory: results/nmap7),
// or in the current directory when both are pointers.
util::Result<fs::path> resolve_pointer(const std::string& name, const std::string& other) {
  std::vector<fs::path> places = {"."};
  if (!nightly::is_pointer_name(other)) places = {nightly::experiment_dir_of(other), other};
  for (const auto& p : places)
    if (auto t = nightly::pointer_target(p, name)) return *t;
  std::string looked;
  for (const auto& p : places) looked += (looked.empty() ? "" : " or ") + (p / name).string();
  return util::fail(
      "'{}' names no results directory: there is no {} (it is set when `testbed run` completes "
      "a run{}). Give a results directory instead: one of the time-stamped directories in {}",
      name, looked, name == "latest-good" ? " without drift" : "",
      nightly::is_pointer_name(other) ? "results/EXPERIMENT" : places.front().string());
}

int run_diff(DiffArgs args) {
  for (auto [self, other] : {std::pair{&args.a, &args.b}, std::pair{&args.b, &args.a}}) {
    if (!nightly::is_pointer_name(*self)) continue;
    auto p = resolve_pointer(*self, *other);
    if (!p) {
      util::log_error("{}", p.error().message);
      return kExitBadInput;
    }
    *self = p->string();
  }
  auto ra = report::load_results(args.a);
  if (!ra) {
    util::log_error("{}", ra.error().message);
    return kExitBadInput;
  }
  auto rb = report::load_results(args.b);
  if (!rb) {
    util::log_error("{}", rb.error().message);
    return kExitBadInput;
  }
  // One packet key for both sides: A's settings (B is usually the newer run of the same file).
  analysis::AnalysisOptions opts = ra->options;
  if (!rb->options.scanner) rb->options.scanner = opts.scanner;
  auto store = std::make_shared<analysis::PayloadStore>(opts.payload_max, opts.payload_budget);
  auto b_opts = opts;
  b_opts.scanner = rb->options.scanner;  // each side's own lab address
  auto aa = report::analyse_results(std::move(*ra), opts, store);
  auto ab = report::analyse_results(std::move(*rb), b_opts, store);
  for (const auto* side : {&aa, &ab}) {
    if (side->runs.empty()) {
      util::log_error("{}: no complete, readable run to compare", side->results.dir.string());
      return kExitBadInput;
    }
  }
  auto sa = aa.phase_sets(!args.fine), sb = ab.phase_sets(!args.fine);
  std::vector<const analysis::RunPhaseSets*> pa, pb;
  for (const auto& s : sa) pa.push_back(&s);
  for (const auto& s : sb) pb.push_back(&s);
  report::DriftReport d =
      report::compare_runs(pa, pb, *store, opts.similarity, args.tolerance, args.allow_missing);
  report::explain_missing(d, aa.results, ab.results);
  report::explain_provenance(d, aa.results, ab.results);
  if (d.cells.empty()) {
    util::log_error("no scanner version is in both {} and {}: nothing to compare", args.a, args.b);
    return kExitBadInput;
  }
  if (args.json) {
    auto j = d.to_json();
    j["a"] = args.a;
    j["b"] = args.b;
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << d.to_markdown(args.a, args.b);
  }
  if (!args.junit.empty()) {
    nightly::Verdict v = nightly::verdict_of(ab.results);
    v.baseline_dir = args.a;
    v.drift = d.to_json();
    if (args.fine) v.phases = analysis::phase_rows(false);
    if (auto st = nightly::write_junit(args.junit, v); !st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
  }
  if (!args.metrics.empty()) {  // B's figures, judged by this comparison
    if (auto st = nightly::write_metrics(args.metrics, args.b, d.drift); !st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
  }
  if (d.drift) util::log_warn("drift: {}", report::drift_summary(d));
  return d.drift ? kExitDrift : kExitOk;
}

}  // namespace

void add_diff_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<DiffArgs>();
  auto* sub = app.add_subcommand("diff",
                                 "Compare two results directories per scanner version and phase: "
                                 "unique packets between A's and B's runs of "
                                 "each version, flagged when they exceed the noise floor (unique "
                                 "packets between runs of one version).");
  sub->footer(
      "Between = over all pairs (A run, B run) of a version, the smallest larger-side unique "
      "count.\n"
      "Noise floor = the largest unique count between two runs of that version within A or within "
      "B\n"
      "(unknown with one run per version: then any difference beyond --tolerance is drift).\n"
      "A version with a complete run on one side and none on the other (failed, interrupted,\n"
      "not run) is drift too, unless --allow-missing.\n"
      "Exit codes: 0 no drift, 3 drift, 2 bad input (not results directories, no common version).\n"
      "Example: testbed diff results/nmap7/20261125T020000Z results/nmap7/20261126T020000Z");
  sub->add_option("A", args->a, "Baseline results directory (or latest / latest-good)")
      ->required()
      ->check(baseline_validator());
  sub->add_option("B", args->b, "Results directory to compare with A (or latest / latest-good)")
      ->required()
      ->check(baseline_validator());
  add_junit_option(*sub, args->junit);
  add_metrics_option(*sub, args->metrics);
  sub->add_option("--tolerance", args->tolerance,
                  "Unique packets a version/phase may exceed its noise floor by before it counts "
                  "as drift (default 0)");
  sub->add_flag("--fine", args->fine,
                "Compare by fine phase (discovery, port-scan, service, os, ...) instead of "
                "the study's three phases");
  sub->add_flag("--json", args->json, "Print the comparison as JSON");
  sub->add_flag("--allow-missing", args->allow_missing,
                "A version with complete runs on one side only is not drift (it is reported, not "
                "compared)");
  sub->callback([args, &ctx] { ctx.exit_code = run_diff(*args); });
}

}  // namespace testbed::cli
