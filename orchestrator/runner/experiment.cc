#include "orchestrator/runner/experiment.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "orchestrator/backends/build_many.h"
#include "orchestrator/config/experiment.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/ids/live.h"
#include "orchestrator/ids/section.h"
#include "orchestrator/ids/suricata.h"
#include "orchestrator/nightly/after_run.h"
#include "orchestrator/nightly/pointers.h"
#include "orchestrator/report/report.h"
#include "orchestrator/runner/preflight.h"
#include "orchestrator/runner/real_drivers.h"
#include "orchestrator/runner/runner.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"

namespace testbed::runner {
namespace {

namespace fs = std::filesystem;
using Outcome = ExperimentOutcome;
/// nullopt: go on with the next step; else how the experiment ended.
using Step = std::optional<Outcome>;

/// ids::LiveSensor as the runner's RunSensor.
class Sensor : public RunSensor {
 public:
  explicit Sensor(std::unique_ptr<ids::LiveSensor> s) : s_(std::move(s)) {}
  util::Result<nlohmann::json> stop() override { return s_->stop(); }

 private:
  std::unique_ptr<ids::LiveSensor> s_;
};

/// The runner's sensor hook: Suricata live on the capture device, output in <run>/ids/.
auto sensor_factory(ids::Suricata s, std::optional<fs::path> rules) {
  return [s = std::move(s), rules](const std::string& device,
                                   const fs::path& dir) -> util::Result<std::unique_ptr<RunSensor>> {
    std::vector<fs::path> files;
    if (rules) files.push_back(*rules);
    auto ls = ids::LiveSensor::start(s, device, dir / "ids", files);
    if (!ls) return ls.error();
    return std::unique_ptr<RunSensor>(new Sensor(std::move(*ls)));
  };
}

/// One `testbed run`: the steps in order, each a member, and what they found.
class ExperimentRun {
 public:
  explicit ExperimentRun(const ExperimentRequest& req) : req_(req) {}
  Outcome run();

 private:
  Step load();
  Step check_hosts();
  Step build_images();
  Step resolve_baseline();
  RunOptions run_options() const;
  Step add_sensor(RunOptions& o) const;
  Outcome run_and_report();
  Outcome summarise(const RunSummary& s) const;
  Outcome after_run(const RunSummary& s, Outcome outcome) const;

  const ExperimentRequest& req_;
  std::optional<config::Experiment> exp_;
  std::optional<config::Topology> topo_;
  std::vector<std::string> uris_;    ///< the lab hosts (config::lab_uris)
  std::optional<fs::path> baseline_;  ///< --baseline resolved; none on the first night
  report::ReportOutcome report_;      ///< set by the report after the runs
};

Outcome ExperimentRun::run() {
  if (Step s = load()) return *s;
  if (Step s = check_hosts()) return *s;
  // From here on SIGINT/SIGTERM stop the work cleanly (the image build, the scan, the
  // report) and take the lab down; see util/interrupt.h.
  util::catch_interrupts();
  if (Step s = build_images()) return *s;
  if (Step s = resolve_baseline()) return *s;
  return run_and_report();
}

Step ExperimentRun::load() {
  auto exp = config::load_experiment(req_.experiment);
  if (!exp) {
    util::log_error("{}", exp.error().message);
    return Outcome::kBadInput;
  }
  exp_ = std::move(*exp);
  // The topology, the images' recipes and the scope guard, exactly as `testbed validate`
  // checks them, before anything exists: no image build, no lab, no results directory for
  // an image without a recipe or a command that would leave the lab.
  auto topo = check_experiment_inputs(*exp_);
  if (!topo) {
    util::log_error("{}", topo.error().message);
    util::log_error("nothing was created; fix it and run again (testbed validate {} checks it)",
                    req_.experiment);
    return Outcome::kBadInput;
  }
  topo_ = std::move(*topo);
  return std::nullopt;
}

Step ExperimentRun::check_hosts() {
  if (::geteuid() != 0) {
    util::log_error(
        "testbed run needs root (libvirt LXC, packet capture); try: sudo testbed run {}",
        req_.experiment);
    return Outcome::kHostNotReady;
  }
  uris_ = config::lab_uris(*exp_);
  if (!lab_hosts_ready(*exp_, uris_, images_needed(*exp_, *topo_), req_.experiment))
    return Outcome::kHostNotReady;
  return std::nullopt;
}

// Images are built once and cached; a run on a fresh machine builds them first.
Step ExperimentRun::build_images() {
  backends::BuildManyOptions bo;
  bo.names = images_needed(*exp_, *topo_);
  bo.backend = exp_->backend;
  auto built = backends::build_many(bo);
  if (built.status == backends::BuildManyResult::kOk && exp_->ids.enabled) {
    // The sensor's Suricata runs on this host from its LXC image, whatever the lab's
    // backend (orchestrator/ids/README.md).
    backends::BuildManyOptions so;
    so.names = {ids::kSensorImage};
    so.backend = config::BackendKind::kLxc;
    built = backends::build_many(so);
  }
  if (built.status == backends::BuildManyResult::kOk) return std::nullopt;
  if (built.status == backends::BuildManyResult::kInterrupted) {
    util::log_warn(
        "interrupted while building the experiment's images: nothing was run and no "
        "results directory was made; run the same command again to continue");
    return Outcome::kInterrupted;
  }
  util::log_error("the experiment's images could not be built (see above)");
  return built.status == backends::BuildManyResult::kBadInput      ? Outcome::kBadInput
         : built.status == backends::BuildManyResult::kEnvironment ? Outcome::kHostNotReady
                                                                   : Outcome::kFailed;
}

Step ExperimentRun::resolve_baseline() {
  if (req_.baseline.empty()) return std::nullopt;
  // Where latest/latest-good live: results/<experiment>/ (a resumed directory's parent).
  const fs::path experiment_dir =
      !req_.resume.empty()
          ? fs::path(req_.resume).parent_path()
          : fs::path(req_.output.empty() ? exp_->output.string() : req_.output) / exp_->name;
  auto b = nightly::resolve_baseline(req_.baseline, experiment_dir);
  if (b) {
    baseline_ = *b;
  } else if (nightly::is_pointer_name(req_.baseline)) {
    // The first night has no latest-good yet: run without a baseline and set it.
    util::log_warn("{}; running without a baseline", b.error().message);
  } else {
    util::log_error("{}", b.error().message);
    return Outcome::kBadInput;
  }
  return std::nullopt;
}

RunOptions ExperimentRun::run_options() const {
  RunOptions o;
  if (!req_.output.empty()) o.output_root = req_.output;
  if (req_.repeat > 0) o.repetitions = req_.repeat;
  if (!req_.resume.empty()) o.resume_dir = req_.resume;
  o.keep_lab = req_.keep;
  o.stop_on_failure = req_.stop_on_failure;
  o.interrupted = &util::interrupt_flag();
  o.command_line = req_.command_line;
  return o;
}

Step ExperimentRun::add_sensor(RunOptions& o) const {
  if (!exp_->ids.enabled) return std::nullopt;
  auto suricata = ids::find_suricata();
  if (!suricata) {
    util::log_error("ids: {}", suricata.error().message);
    return Outcome::kHostNotReady;
  }
  o.sensor = sensor_factory(*suricata, exp_->ids.rules);
  return std::nullopt;
}

Outcome ExperimentRun::run_and_report() {
  const std::atomic<bool>& interrupted = util::interrupt_flag();
  LabDriverOptions lo;
  lo.lab_name = req_.lab_name;
  lo.keep = req_.keep;
  lo.cancel = &interrupted;
  // One lab host: its lab here; several: a lab per host, made by the runner's threads.
  util::Result<std::unique_ptr<LabDriver>> lab = std::unique_ptr<LabDriver>();
  if (uris_.size() == 1) lab = make_lab_driver(*exp_, lo);
  if (!lab) {
    util::log_error("{}", lab.error().message);
    return Outcome::kBadInput;
  }
  auto capture = make_capture_driver();
  SystemClock clock;
  RunOptions o = run_options();
  if (Step s = add_sensor(o)) return *s;
  report::ReportOptions ro;
  ro.baseline = baseline_;
  ro.allow_missing = req_.allow_missing;
  ro.cancel = &interrupted;
  if (exp_->ids.enabled) ro.sections.push_back(ids::section_provider());
  o.after_runs = [&](const fs::path& dir) -> util::Status {
    auto r = report::write_report(dir, ro);
    if (!r) return r.error();
    report_ = *r;
    return {};
  };
  auto s = uris_.size() > 1
               ? run_experiment_on_hosts(*exp_, lab_hosts(uris_),
                                         make_host_driver_factory(*exp_, lo, uris_.size()), clock, o)
               : run_experiment(*exp_, **lab, *capture, clock, o);
  if (!s) {
    util::log_error("{}", s.error().message);
    return interrupted ? Outcome::kInterrupted : Outcome::kFailed;
  }
  return after_run(*s, summarise(*s));
}

Outcome ExperimentRun::summarise(const RunSummary& s) const {
  if (s.interrupted) {
    util::log_warn("interrupted; the lab was taken down. Continue with: testbed run {} --resume {}",
                   req_.experiment, s.results_dir.string());
    return Outcome::kInterrupted;
  }
  util::log_info("{} run(s) complete, {} kept, {} failed; results: {}", s.complete, s.kept,
                 s.failed, s.results_dir.string());
  for (const auto& f : s.failures) util::log_error("{}", f);
  for (const auto& [uri, why] : s.dead_hosts) util::log_error("lab host {}: {}", uri, why);
  if (!report_.html.empty()) util::log_info("report: {}", report_.html.string());
  if (s.failed > 0) {
    util::log_info("redo the failed runs with: testbed run {} --resume {}", req_.experiment,
                   s.results_dir.string());
    return Outcome::kFailed;
  }
  if (report_.drift) {
    util::log_warn("drift against {}: {}", baseline_ ? baseline_->string() : req_.baseline,
                   report_.drift_reason);
    return Outcome::kDrift;
  }
  return Outcome::kComplete;
}

// Pointers, the JUnit verdict and retention (orchestrator/nightly/): each reads the
// results directory back, so what they say is what is on disk.
Outcome ExperimentRun::after_run(const RunSummary& s, Outcome outcome) const {
  nightly::AfterRun after;
  after.results_dir = s.results_dir;
  after.drift = report_.drift;
  after.interrupted = s.interrupted;
  after.junit = req_.junit;
  after.metrics = req_.metrics;
  after.keep_results = req_.keep_results;
  if (baseline_) after.baselines.push_back(*baseline_);
  if (auto st = nightly::after_run(after); !st) {
    util::log_error("{}", st.error().message);
    if (outcome == Outcome::kComplete) return Outcome::kFailed;
  }
  return outcome;
}

}  // namespace

ExperimentOutcome run_experiment_file(const ExperimentRequest& req) {
  return ExperimentRun(req).run();
}

}  // namespace testbed::runner
