// `testbed run EXPERIMENT`: the whole study in one command.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <csignal>

#include "orchestrator/cli/commands.h"
#include "orchestrator/config/backend.h"
#include "orchestrator/backends/build_many.h"
#include "orchestrator/ids/live.h"
#include "orchestrator/ids/section.h"
#include "orchestrator/config/experiment.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/nightly/after_run.h"
#include "orchestrator/nightly/pointers.h"
#include "orchestrator/report/report.h"
#include "orchestrator/runner/real_drivers.h"
#include "orchestrator/runner/runner.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"
#include "orchestrator/backends/registry.h"
#include "orchestrator/runner/placement.h"

namespace testbed::cli {
namespace {

struct RunArgs;
int run_outcome(const RunArgs& a, const runner::RunSummary& summary,
                const report::ReportOutcome& outcome, const std::string& baseline);
/// ids::LiveSensor as the runner's RunSensor.
class Sensor : public runner::RunSensor {
 public:
  explicit Sensor(std::unique_ptr<ids::LiveSensor> s) : s_(std::move(s)) {}
  util::Result<nlohmann::json> stop() override { return s_->stop(); }

 private:
  std::unique_ptr<ids::LiveSensor> s_;
};

/// The runner's sensor hook: Suricata live on the capture device, output in <run>/ids/.
auto sensor_factory(ids::Suricata s, std::optional<std::filesystem::path> rules) {
  return [s = std::move(s), rules](const std::string& device, const std::filesystem::path& dir)
             -> util::Result<std::unique_ptr<runner::RunSensor>> {
    std::vector<std::filesystem::path> files;
    if (rules) files.push_back(*rules);
    auto ls = ids::LiveSensor::start(s, device, dir / "ids", files);
    if (!ls) return ls.error();
    return std::unique_ptr<runner::RunSensor>(new Sensor(std::move(*ls)));
  };
}

struct RunArgs {
  std::string experiment;
  std::string output;
  int repeat = 0;
  std::string resume;
  bool keep = false;
  bool stop_on_failure = false;
  std::string baseline;
  bool allow_missing = false;
  std::string lab_name;
  std::string junit;
  std::string metrics;
  size_t keep_results = 0;
};

int run_main(const RunArgs& a, const std::vector<std::string>& argv) {
  auto exp = config::load_experiment(a.experiment);
  if (!exp) {
    util::log_error("{}", exp.error().message);
    return kExitBadInput;
  }
  // The topology, the images' recipes and the scope guard, exactly as `testbed validate`
  // checks them, before anything exists: no image build, no lab, no results directory for
  // an image without a recipe or a command that would leave the lab.
  auto topo = check_experiment_inputs(*exp);
  if (!topo) {
    util::log_error("{}", topo.error().message);
    util::log_error("nothing was created; fix it and run again (testbed validate {} checks it)",
                    a.experiment);
    return kExitBadInput;
  }
  if (::geteuid() != 0) {
    util::log_error(
        "testbed run needs root (libvirt LXC, packet capture); try: sudo testbed run {}",
        a.experiment);
    return kExitEnvironment;
  }
  // Remote lab hosts need the VM backend: say so before building anything.
  const auto uris = config::lab_uris(*exp);
  for (const auto& uri : uris) {
    if (auto st = backends::check_remote_lab_host(uri, exp->backend); !st) {
      util::log_error("{}: {}", a.experiment, st.error().message);
      return kExitEnvironment;
    }
    if (int rc = check_libvirt(uri); rc != kExitOk) return rc;
    // A remote lab host is checked whole (host key, tools, QEMU, space) before anything.
    if (backends::is_remote_uri(uri))
      if (int rc = check_lab_host(
              uri, image_upload_estimate(runner::images_needed(*exp, *topo), exp->backend),
              false, false);
          rc != kExitOk) {
        util::log_error("{}: lab host {} is not ready; nothing was created", a.experiment, uri);
        return rc;
      }
  }
  // From here on SIGINT/SIGTERM stop the work cleanly (the image build, the scan, the
  // report) and take the lab down; see util/interrupt.h.
  util::catch_interrupts();
  const std::atomic<bool>& g_interrupted = util::interrupt_flag();
  // Images are built once and cached; a run on a fresh machine builds them first.
  {
    backends::BuildManyOptions bo;
    bo.names = runner::images_needed(*exp, *topo);
    bo.backend = exp->backend;
    auto built = backends::build_many(bo);
    if (built.status == backends::BuildManyResult::kOk && exp->ids.enabled) {
      // The sensor's Suricata runs on this host from its LXC image, whatever the lab's
      // backend (orchestrator/ids/README.md).
      backends::BuildManyOptions so;
      so.names = {ids::kSensorImage};
      so.backend = config::BackendKind::kLxc;
      built = backends::build_many(so);
    }
    if (built.status == backends::BuildManyResult::kInterrupted) {
      util::log_warn(
          "interrupted while building the experiment's images: nothing was run and no "
          "results directory was made; run the same command again to continue");
      return kExitInterrupted;
    }
    if (built.status != backends::BuildManyResult::kOk) {
      util::log_error("the experiment's images could not be built (see above)");
      return built.status == backends::BuildManyResult::kBadInput      ? kExitBadInput
             : built.status == backends::BuildManyResult::kEnvironment ? kExitEnvironment
                                                                     : kExitFailure;
    }
  }
  // Where latest/latest-good live: results/<experiment>/ (a resumed directory's parent).
  const std::filesystem::path experiment_dir =
      !a.resume.empty() ? std::filesystem::path(a.resume).parent_path()
                        : std::filesystem::path(a.output.empty() ? exp->output.string() : a.output) /
                              exp->name;
  std::optional<std::filesystem::path> baseline;
  if (!a.baseline.empty()) {
    if (auto b = nightly::resolve_baseline(a.baseline, experiment_dir)) {
      baseline = *b;
    } else if (nightly::is_pointer_name(a.baseline)) {
      // The first night has no latest-good yet: run without a baseline and set it.
      util::log_warn("{}; running without a baseline", b.error().message);
    } else {
      util::log_error("{}", b.error().message);
      return kExitBadInput;
    }
  }
  runner::LabDriverOptions lo;
  lo.lab_name = a.lab_name;
  lo.keep = a.keep;
  lo.cancel = &g_interrupted;
  // One lab host: its lab here; several: a lab per host, made by the runner's threads.
  util::Result<std::unique_ptr<runner::LabDriver>> lab = std::unique_ptr<runner::LabDriver>();
  if (uris.size() == 1) lab = runner::make_lab_driver(*exp, lo);
  if (!lab) {
    util::log_error("{}", lab.error().message);
    return kExitBadInput;
  }
  auto capture = runner::make_capture_driver();
  runner::SystemClock clock;

  runner::RunOptions o;
  if (!a.output.empty()) o.output_root = a.output;
  if (a.repeat > 0) o.repetitions = a.repeat;
  if (!a.resume.empty()) o.resume_dir = a.resume;
  o.keep_lab = a.keep;
  o.stop_on_failure = a.stop_on_failure;
  o.interrupted = &g_interrupted;
  for (const auto& s : argv) o.command_line += (o.command_line.empty() ? "" : " ") + s;
  if (exp->ids.enabled) {
    auto suricata = ids::find_suricata();
    if (!suricata) {
      util::log_error("ids: {}", suricata.error().message);
      return kExitEnvironment;
    }
    o.sensor = sensor_factory(*suricata, exp->ids.rules);
  }
  report::ReportOptions ro;
  ro.baseline = baseline;
  ro.allow_missing = a.allow_missing;
  ro.cancel = &g_interrupted;
  if (exp->ids.enabled) ro.sections.push_back(ids::section_provider());
  report::ReportOutcome outcome;
  o.after_runs = [&](const std::filesystem::path& dir) -> util::Status {
    auto r = report::write_report(dir, ro);
    if (!r) return r.error();
    outcome = *r;
    return {};
  };

  auto s = uris.size() > 1 ? runner::run_experiment_on_hosts(
                                 *exp, runner::lab_hosts(uris),
                                 runner::make_host_driver_factory(*exp, lo, uris.size()), clock, o)
                           : runner::run_experiment(*exp, **lab, *capture, clock, o);
  if (!s) {
    util::log_error("{}", s.error().message);
    return g_interrupted ? kExitInterrupted : kExitFailure;
  }
  int rc = run_outcome(a, *s, outcome, baseline ? baseline->string() : a.baseline);
  // Pointers, the JUnit verdict and retention (orchestrator/nightly/): each reads the
  // results directory back, so what they say is what is on disk.
  nightly::AfterRun after;
  after.results_dir = s->results_dir;
  after.drift = outcome.drift;
  after.interrupted = s->interrupted;
  after.junit = a.junit;
  after.metrics = a.metrics;
  after.keep_results = a.keep_results;
  if (baseline) after.baselines.push_back(*baseline);
  if (auto st = nightly::after_run(after); !st) {
    util::log_error("{}", st.error().message);
    if (rc == kExitOk) rc = kExitFailure;
  }
  return rc;
}

int run_outcome(const RunArgs& a, const runner::RunSummary& summary,
                const report::ReportOutcome& outcome, const std::string& baseline) {
  const runner::RunSummary* s = &summary;
  if (s->interrupted) {
    util::log_warn("interrupted; the lab was taken down. Continue with: testbed run {} --resume {}",
                   a.experiment, s->results_dir.string());
    return kExitInterrupted;
  }
  util::log_info("{} run(s) complete, {} kept, {} failed; results: {}", s->complete, s->kept,
                 s->failed, s->results_dir.string());
  for (const auto& f : s->failures) util::log_error("{}", f);
  for (const auto& [uri, why] : s->dead_hosts) util::log_error("lab host {}: {}", uri, why);
  if (!outcome.html.empty()) util::log_info("report: {}", outcome.html.string());
  if (s->failed > 0) {
    util::log_info("redo the failed runs with: testbed run {} --resume {}", a.experiment,
                   s->results_dir.string());
    return kExitFailure;
  }
  if (outcome.drift) {
    util::log_warn("drift against {}: {}", baseline, outcome.drift_reason);
    return kExitDrift;
  }
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<RunArgs>();
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
  sub->callback([args, &ctx] { ctx.exit_code = run_main(*args, ctx.argv); });
}

}  // namespace testbed::cli
