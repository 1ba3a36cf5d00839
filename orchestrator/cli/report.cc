// `testbed report RESULTS_DIR` — regenerates report.html/.md/.json and csv/ from the run
// directories alone (orchestrator/report/report.h).
#include "orchestrator/report/report.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "orchestrator/cli/commands.h"
#include "orchestrator/nightly/junit.h"
#include "orchestrator/nightly/metrics.h"
#include "orchestrator/nightly/pointers.h"
#include "orchestrator/report/results.h"
#include "orchestrator/ids/section.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace fs = std::filesystem;

// Shared with `export` (commands.h).
std::optional<fs::path> pick_results_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "plan.json", ec) || report::load_results(dir)) return dir;
  std::vector<fs::path> candidates;
  // The latest/latest-good pointers (symlinks to one of them) are not candidates of their own.
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (!e.is_symlink(ec) && e.is_directory(ec) && fs::exists(e.path() / "plan.json", ec))
      candidates.push_back(e.path());
  if (candidates.empty()) return dir;  // not a folder of results: write_report says why
  // Named by their UTC start time (20261126T214900Z): the name orders them.
  std::sort(candidates.begin(), candidates.end(), std::greater<>());
  std::vector<std::string> skipped;
  for (const auto& c : candidates) {
    if (nightly::completeness(c).complete) {  // the rule latest/latest-good follow too
      util::log_info("{} holds {} results directories: using the newest complete one, {}{}",
                     dir.string(), candidates.size(), c.filename().string(),
                     skipped.empty() ? ""
                                     : fmt::format(" (newer, not complete: {})",
                                                   fmt::join(skipped, ", ")));
      return c;
    }
    skipped.push_back(c.filename().string());
  }
  util::log_error("{} holds {} results directories and none is complete (every planned run with "
                  "a manifest.json): {}; name one to use what it has",
                  dir.string(), candidates.size(), fmt::join(skipped, ", "));
  return std::nullopt;
}

CLI::Option* add_results_dir_argument(CLI::App& sub, std::string& dir) {
  return sub
      .add_option("results_dir", dir,
                  "Results directory: results/<experiment>/<UTC time>; or results/<experiment> "
                  "for its newest complete one (said on stderr)")
      ->required()
      ->check(CLI::ExistingDirectory);
}

namespace {

struct ReportArgs {
  std::string results_dir;
  std::string baseline;
  size_t tolerance = 0;
  size_t unique_limit = analysis::kDefaultUniqueLimit;
  bool allow_missing = false;
  std::string junit;
  std::string metrics;
  bool ids = false;
};

int run_report(const ReportArgs& a) {
  auto dir = pick_results_dir(a.results_dir);
  if (!dir) return kExitBadInput;
  report::ReportOptions opts;
  if (!a.baseline.empty()) {
    // latest / latest-good: the pointers beside the results directory.
    auto b = nightly::resolve_baseline(a.baseline, nightly::experiment_dir_of(a.results_dir));
    if (!b) {
      util::log_error("{}", b.error().message);
      return kExitBadInput;
    }
    opts.baseline = *b;
  }
  opts.drift_tolerance = a.tolerance;
  opts.allow_missing = a.allow_missing;
  opts.unique_limit = a.unique_limit;
  if (a.ids || ids::enabled_in(*dir)) opts.sections.push_back(ids::section_provider());
  util::catch_interrupts();  // Ctrl-C stops the analysis; no file is half-written
  opts.cancel = &util::interrupt_flag();
  auto out = report::write_report(*dir, opts);
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
  if (!a.junit.empty()) {
    auto v = nightly::verdict_from_results_dir(a.results_dir);
    util::Status st = v ? nightly::write_junit(a.junit, *v) : util::Status(v.error());
    if (!st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
  }
  if (!a.metrics.empty()) {
    if (auto st = nightly::write_metrics(a.metrics, *dir); !st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
  }
  if (out->drift) {
    util::log_warn("drift against {}: {} (see the report's baseline section)",
                   opts.baseline->string(),
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
      "Every format leads with \"What differs\" (findings generated from the unique packets); "
      "each unique packet has its run, frame number, time and a Wireshark display filter "
      "(docs/results.md).\n"
      "Exit codes: 0 report written, 2 not a results directory / nothing to report, 3 drift "
      "against --baseline, 130 interrupted (nothing written).\n"
      "Example: testbed report results/nmap7/20261126T214900Z --baseline "
      "results/nmap7/20261125T020000Z");
  add_results_dir_argument(*sub, args->results_dir);
  sub->add_option("--baseline", args->baseline,
                  "An older results directory to compare with, or latest / latest-good (the "
                  "pointers beside RESULTS_DIR); exit 3 when traffic changed beyond the noise "
                  "floor")
      ->check(baseline_validator());
  add_junit_option(*sub, args->junit);
  add_metrics_option(*sub, args->metrics);
  sub->add_option("--tolerance", args->tolerance,
                  "Unique packets a version/phase may exceed its noise floor by before it counts "
                  "as drift (default 0)");
  sub->add_flag("--allow-missing", args->allow_missing,
                "With --baseline: a scanner version with complete runs on one side only is not "
                "drift (default: it is, exit 3)");
  add_unique_limit_option(*sub, args->unique_limit,
                          "Unique packets listed per phase and version in HTML/Markdown");
  sub->add_flag("--ids", args->ids,
                "Add \"Can an IDS tell them apart?\": rules from the unique packets replayed by "
                "the sensor image's Suricata (default: when the experiment has ids: {enabled: "
                "true})");
  sub->callback([args, &ctx] { ctx.exit_code = run_report(*args); });
}

}  // namespace testbed::cli
