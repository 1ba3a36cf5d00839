#include "orchestrator/runner/runner.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>

#include "orchestrator/results/layout.h"
#include "orchestrator/results/manifest.h"
#include "orchestrator/runner/scan_log.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/clock.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/version.h"

namespace testbed::runner {
namespace fs = std::filesystem;
using util::fail;
using util::Result;
using util::Status;

std::string results_timestamp(double epoch_seconds) {
  return util::utc_time(static_cast<int64_t>(epoch_seconds), "%Y%m%dT%H%M%SZ");
}

std::vector<RunSlot> plan_runs(const config::Experiment& exp, int repetitions,
                               const fs::path& results_dir) {
  std::vector<RunSlot> slots;
  for (int rep = 1; rep <= repetitions; ++rep) {
    for (const auto& s : exp.scanners) {
      slots.push_back({s.label, s.image, rep, results_dir / s.label / std::to_string(rep)});
    }
  }
  return slots;
}

bool run_is_complete(const fs::path& dir) { return results::RunDir{dir}.complete(); }

Result<std::vector<std::string>> scan_targets(const config::Experiment& exp, const LabFacts& lab) {
  std::vector<std::string> targets = exp.targets.empty() ? lab.target_subnets : exp.targets;
  if (targets.empty()) return fail("the lab has no target subnet to scan");
  std::vector<std::string> all = targets;
  for (const auto& sc : exp.scanners)
    for (const auto& t : scanners::literal_targets(config::command_of(exp, sc)))
      for (const auto& one : scanners::split_list(t, ", ")) all.push_back(one);
  // The whole guard ran before the lab existed (scanners::check_experiment); this checks
  // the targets again against the lab as it came up.
  scanners::LabScope scope;
  for (const auto& s : lab.target_subnets)
    if (auto c = util::parse_cidr(s)) scope.targets.push_back(*c);
  for (const auto& t : all) {
    if (auto st = scanners::check_target_or_range(t, scope); !st)
      return fail("{}: {}", exp.file, st.error().message);
  }
  return targets;
}

namespace {

bool is_interrupted(const RunOptions& o) { return o.interrupted && o.interrupted->load(); }

std::string git_revision() {
#ifdef TESTBED_SOURCE_DIR
  std::ifstream head(std::string(TESTBED_SOURCE_DIR) + "/.git/HEAD");
  std::string line;
  if (!std::getline(head, line)) return "unknown";
  if (line.rfind("ref: ", 0) == 0) {
    std::ifstream ref(std::string(TESTBED_SOURCE_DIR) + "/.git/" + line.substr(5));
    std::string rev;
    if (std::getline(ref, rev)) return rev;
    return "unknown";
  }
  return line;
#else
  return "unknown";
#endif
}

std::string kernel_release() {
  std::ifstream f("/proc/sys/kernel/osrelease");
  std::string s;
  std::getline(f, s);
  return s;
}

/// The median delay between a line printed on the scanner node (its clock) and its
/// arrival here over a PTY, from five `date` calls; empty when it cannot be told (clocks
/// not shared: a KVM guest's clock may be off by more than the delay itself).
std::optional<double> measure_line_latency(ScannerShell& shell, const Clock& clock) {
  std::vector<double> d;
  for (int i = 0; i < 5; ++i) {
    double printed = 0, arrived = 0;
    auto rc = shell.run_streaming(
        {"date", "+%s.%N"},
        [&](std::string_view line) {
          if (printed != 0) return;
          try {
            printed = std::stod(std::string(line));
            arrived = clock.now();
          } catch (const std::exception&) {
          }
        },
        std::chrono::seconds(10));
    if (!rc || *rc != 0 || printed == 0) return std::nullopt;
    d.push_back(arrived - printed);
  }
  std::sort(d.begin(), d.end());
  double median = d[d.size() / 2];
  if (median < 0 || median > 0.25) {
    util::log_warn(
        "line latency {:.4f} s is implausible (clocks not shared?); phase times not corrected",
        median);
    return std::nullopt;
  }
  return median;
}

/// The scanner entry of `slot` (its command and kind).
const config::ScannerSpec& spec_of(const config::Experiment& exp, const RunSlot& slot) {
  for (const auto& s : exp.scanners)
    if (s.label == slot.label) return s;
  return exp.scanners.front();  // plan_runs makes slots from exp.scanners only
}

/// What the command's placeholders become in this lab (config::expand_command).
std::map<std::string, std::string> placeholder_values(const LabFacts& facts,
                                                      const std::string& output) {
  return {{"output", output},
          {"router_mac", facts.router_mac},
          {"scan_interface", facts.scan_interface},
          {"source_ip", facts.scanner_address}};
}

/// Everything one run does, in order. Fills `manifest` as it goes; the caller writes it.
/// Wakes a lingering scanner (analysis::ConsoleTracker::lingering) with a frame only it
/// sees (LabDriver::wake_scanner): at most once every 2 s and 5 times a run. If the lab
/// cannot, it says so once and the scan runs on into its timeout.
class Waker {
 public:
  Waker(LabDriver& lab, const RunSlot& slot) : lab_(lab), slot_(slot) {}
  void wake(double now, std::vector<double>* sent) {
    if (failed_ || sent->size() >= 5 || (!sent->empty() && now - sent->back() < 2.0)) return;
    if (auto st = lab_.wake_scanner(); !st) {
      failed_ = true;
      util::log_warn("[{}/{}] the scanner lingers after its work and cannot be woken: {}",
                     slot_.label, slot_.rep, st.error().message);
      return;
    }
    if (sent->empty())
      util::log_info("[{}/{}] the scanner says it is done but has not exited: waking it with "
                     "a frame on its own interface", slot_.label, slot_.rep);
    sent->push_back(now);
  }

 private:
  LabDriver& lab_;
  const RunSlot& slot_;
  bool failed_ = false;
};

/// The scan itself: starts the capture (and the IDS sensor), runs the scanner with its
/// console streamed into the log and live progress (waking it if it lingers), stops the
/// capture whatever happened and records scan, capture and sensor in the manifest.
/// Returns the scanner's exit status.
Result<int> scan_with_capture(const config::Experiment& exp, const RunSlot& slot, LabDriver& lab,
                              ScannerShell& shell, CaptureDriver& capture, const Clock& clock,
                              const RunOptions& opts, const analysis::ScannerModel& model,
                              const std::vector<std::string>& argv,
                              std::optional<double> latency, results::Manifest& manifest,
                              std::string& stage) {
  const LabFacts& facts = lab.facts();
  const results::RunDir run{slot.dir};
  stage = "capture";
  CaptureSettings cs;
  cs.interface = facts.capture_interface;
  cs.host = facts.capture_host;
  cs.output_path = run.capture().string();
  cs.snaplen = exp.capture.snaplen;
  cs.buffer_bytes = exp.capture.buffer_mib << 20;
  cs.grace_seconds = exp.capture.grace_seconds;
  auto cap = capture.start(cs);
  if (!cap) return cap.error();
  std::unique_ptr<RunSensor> sensor;
  if (opts.sensor) {
    stage = "ids-sensor";
    auto s = cs.host ? util::Result<std::unique_ptr<RunSensor>>(
                           fail("the IDS sensor needs the lab on this host, not {}", cs.host->host))
                     : opts.sensor(cs.interface, slot.dir);
    if (!s) {
      (void)(*cap)->stop();
      return s.error();
    }
    sensor = std::move(*s);
  }

  stage = "scan";
  // Under TCG a guest's console lines and its packets both reach the host late (the vCPU
  // and the device emulation share a thread), by different amounts of up to ~0.3 s: near
  // a phase boundary the packet's shape decides within half a second, not 5 ms.
  const bool tcg = facts.provenance.is_object() && facts.provenance.value("accel", "") == "tcg";
  ScanLog log(clock, model.tracker(), latency.value_or(0.0), tcg ? 0.5 : -1);
  util::Progress progress(fmt::format("[{}/{}] {}", slot.label, slot.rep, model.kind), 15.0);
  double started = clock.now();
  Waker waker(lab, slot);
  std::vector<double> woken;
  auto rc = shell.run_streaming(
      argv,
      [&](std::string_view line) {
        log.add(line);
        if (log.lingering()) waker.wake(clock.now(), &woken);
        std::string phase = log.current_phase();
        progress.update(fmt::format("phase {}, {} packets captured, {:.0f} s",
                                    phase.empty() ? "starting" : phase, (*cap)->packets_so_far(),
                                    clock.now() - started));
      },
      std::chrono::minutes(exp.scan_timeout_minutes));
  double finished = clock.now();
  // Stop the capture whatever happened, so the file is closed and counted.
  stage = "capture-stop";
  auto counters = (*cap)->stop();
  auto ids = sensor ? sensor->stop() : util::Result<nlohmann::json>(nlohmann::json());
  if (auto st = log.write(run.console_log(model), run.phases(), started, finished); !st)
    return st.error();
  if (!rc) {
    stage = "scan";  // the scan failed (or was cancelled); stopping the capture did not
    return rc.error();
  }
  if (!counters) return counters.error();
  progress.finish(fmt::format("exit {}, {} packets, {} dropped, {:.1f} s", *rc, counters->packets,
                              counters->kernel_dropped + counters->interface_dropped,
                              finished - started));
  if (const uint64_t lost = counters->kernel_dropped + counters->interface_dropped; lost > 0)
    util::log_warn(
        "[{}/{}] the capture lost {} packet(s) (kernel {}, interface {}): this run's counts may "
        "be short by that many; the report's runs table shows it (raise capture.buffer_mib or "
        "load the lab host less)",
        slot.label, slot.rep, lost, counters->kernel_dropped, counters->interface_dropped);
  manifest.scan = results::ScanRecord{started, finished, *rc, log.size(), woken};
  results::CaptureRecord c;
  c.interface = cs.interface;
  c.on_host = cs.host ? cs.host->host : "local";
  c.snaplen = cs.snaplen;
  c.buffer_bytes = cs.buffer_bytes;
  c.packets = counters->packets;
  c.bytes = counters->bytes;
  c.kernel_dropped = counters->kernel_dropped;
  c.interface_dropped = counters->interface_dropped;
  manifest.capture = c;
  if (sensor) {
    stage = "ids-sensor";
    if (!ids) return ids.error();
    manifest.ids = *ids;
  }
  return *rc;
}

Status execute_run(const config::Experiment& exp, const RunSlot& slot, LabDriver& lab,
                   CaptureDriver& capture, const Clock& clock, const RunOptions& opts,
                   const std::vector<std::string>& targets, results::Manifest& manifest,
                   std::string& stage) {
  const LabFacts& facts = lab.facts();
  const results::RunDir run{slot.dir};
  const config::ScannerSpec& spec = spec_of(exp, slot);
  const std::vector<std::string>& command = config::command_of(exp, spec);
  const scanners::Kind* kind = scanners::kind_of(command);
  if (!kind) return fail("'{}' is not a scanner kind", command.empty() ? "" : command[0]);
  const analysis::ScannerModel& model = kind->model();
  manifest.run = {slot.label, slot.image, slot.rep};
  manifest.scanner_kind = std::string(kind->program);

  const bool reset_targets = exp.reset_targets == "every-run" || slot.rep == 1;
  if (reset_targets)
    util::log_info("[{}/{}] resetting targets to their pristine images", slot.label, slot.rep);
  util::log_info("[{}/{}] starting scanner node on image {}", slot.label, slot.rep, slot.image);
  if (is_interrupted(opts)) return fail("interrupted");
  nlohmann::json resets = nlohmann::json::object();
  auto reset = lab.reset_for_run(reset_targets, slot.image, &resets, &stage);
  manifest.resets.update(resets);
  if (!reset) return reset;
  if (is_interrupted(opts)) return fail("interrupted");
  auto shell = lab.scanner_shell();
  if (!shell) return shell.error();

  nlohmann::json images = nlohmann::json::object();
  for (const auto& node : [&] {
         std::vector<std::string> n = facts.target_nodes;
         n.insert(n.begin(), facts.scanner_node);
         return n;
       }()) {
    auto m = lab.image_manifest(node);
    images[node] = m ? *m : nlohmann::json{{"error", m.error().message}};
  }
  manifest.images = images;

  stage = "scanner-version";
  auto version = (*shell)->output_of(kind->version_command);
  if (!version) return version.error();
  manifest.scanner_version = *version;

  // How late a console line reaches us. LXC nodes share the host's clock, so a node
  // printing its own time shows the PTY + sshd + SSH delay exactly; the phase timeline is
  // corrected by it (otherwise a phase's first probes precede its stamped start).
  stage = "line-latency";
  auto latency = measure_line_latency(**shell, clock);
  manifest.scan_line_latency_s = latency;

  const std::string remote_out = fmt::format("/root/testbed-{}-{}.{}", slot.label, slot.rep,
                                             fs::path(model.result_file).extension().string().substr(1));
  auto argv = config::expand_command(command, placeholder_values(facts, remote_out), targets);
  if (!argv) return argv.error();
  manifest.scanner_command = *argv;
  if (is_interrupted(opts)) return fail("interrupted");

  auto rc = scan_with_capture(exp, slot, lab, **shell, capture, clock, opts, model, *argv,
                              latency, manifest, stage);
  if (!rc) return rc.error();
  stage = "scan";
  if (*rc != 0)
    return fail("{} exited with status {} (see {})", command[0], *rc,
                run.console_log(model).string());

  stage = "check-targets";
  if (auto st = lab.check_targets(); !st)
    return fail("{}; the capture is not a scan of the whole lab (rerun with --resume)",
                st.error().message);

  stage = "fetch-xml";
  util::log_info("[{}/{}] fetching {}", slot.label, slot.rep, remote_out);
  if (auto st = (*shell)->fetch(remote_out, run.result_file(model).string()); !st) return st;
  return {};
}

/// "zmap killed by signal 6 (SIGABRT): <its last console line>" when the scan ended with
/// a shell's 128+N status (ssh reports a signal death so), else nothing.
std::optional<std::string> signal_death(const results::Manifest& m, const fs::path& run_dir) {
  const int rc = m.scan->exit_status;
  if (rc <= 128 || rc > 128 + 64) return std::nullopt;
  const int sig = rc - 128;
  const char* abbrev = sigabbrev_np(sig);
  std::string why = fmt::format("{} killed by signal {}{}",
                                m.scanner_command.empty() ? "scanner" : m.scanner_command[0], sig,
                                abbrev ? fmt::format(" (SIG{})", abbrev) : "");
  // The console log's last line usually says why (an assertion, a sanitizer report).
  if (auto kind = results::RunDir{run_dir}.kind(); kind) {
    if (auto text = util::read_file(results::RunDir{run_dir}.console_log((*kind)->model()))) {
      std::string_view t = *text;
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
      std::string_view last = t.substr(t.find_last_of('\n') == std::string_view::npos
                                           ? 0
                                           : t.find_last_of('\n') + 1);
      if (auto sp = last.find(' '); sp != std::string_view::npos) last.remove_prefix(sp + 1);
      if (!last.empty()) why += fmt::format(": {}", last.substr(0, 300));
    }
  }
  return why;
}

/// A results directory with its plan written, and the runs still to do.
struct Prepared {
  RunSummary summary;
  std::vector<RunSlot> todo;
  results::Manifest common;  ///< provenance shared by every run (the lab's is added per lab)
};

Result<Prepared> prepare_results(const config::Experiment& exp, const Clock& clock,
                                 const RunOptions& opts) {
  Prepared p;
  RunSummary& summary = p.summary;
  int reps = opts.repetitions.value_or(exp.repetitions);
  if (opts.resume_dir) {
    summary.results_dir = *opts.resume_dir;
    if (!fs::is_directory(summary.results_dir))
      return fail("--resume {}: no such results directory", summary.results_dir.string());
    // Resume the plan that was started unless told otherwise.
    if (!opts.repetitions) {
      if (auto plan = results::read_plan(results::ResultsPaths{summary.results_dir}.plan()))
        reps = plan->repetitions;
    }
  } else {
    fs::path root = opts.output_root.value_or(exp.output);
    summary.results_dir = root / exp.name / results_timestamp(clock.now());
  }
  std::error_code ec;
  fs::create_directories(summary.results_dir, ec);
  if (ec) return fail("cannot create {}: {}", summary.results_dir.string(), ec.message());

  // The experiment file travels with its results: `testbed report` reads its analysis
  // settings from there, and a reader sees exactly what was run.
  fs::path exp_copy = results::ResultsPaths{summary.results_dir}.experiment();
  if (!fs::exists(exp_copy)) {
    auto bytes = util::read_file(exp.file);
    if (bytes) util::write_file_atomic(exp_copy, *bytes).ok();
  }
  // And its topology, which the report draws (report/lab_graph.h).
  fs::path topo_copy = summary.results_dir / "topology.yaml";
  if (!fs::exists(topo_copy)) {
    if (auto bytes = util::read_file(exp.topology)) util::write_file_atomic(topo_copy, *bytes).ok();
  }

  results::Plan plan{exp.name, reps, {}};
  for (const auto& sc : exp.scanners) {
    const scanners::Kind* k = scanners::kind_of(config::command_of(exp, sc));
    plan.scanners.push_back({sc.label, sc.image, k ? std::string(k->program) : std::string()});
  }
  if (auto st = results::write_plan(summary.results_dir, plan); !st) return st.error();

  for (const auto& s : plan_runs(exp, reps, summary.results_dir)) {
    if (run_is_complete(s.dir))
      ++summary.kept;
    else
      p.todo.push_back(s);
  }
  util::log_info("experiment {}: {} run(s) to do, {} already complete, results in {}", exp.name,
                 p.todo.size(), summary.kept, summary.results_dir.string());

  p.common.experiment = {exp.name, exp.file, exp.sha256};
  p.common.testbed = {kVersion, git_revision()};
  p.common.host_kernel = kernel_release();
  p.common.command_line = opts.command_line;
  return p;
}

/// The shared provenance plus the lab's, for runs in `lab` (which is up).
results::Manifest with_lab(results::Manifest common, const LabFacts& facts) {
  common.lab = results::lab_info(facts.provenance);
  common.lab.name = facts.name;
  common.lab.scanner_address = facts.scanner_address;
  return common;
}

/// How one run ended.
struct SlotOutcome {
  enum Kind { kComplete, kFailed, kInterrupted } kind = kComplete;
  std::string stage;
  std::string message;
  /// Set when the scanner died of a signal during the scan: what the retry policy records.
  std::optional<results::RetryRecord> retryable;
};

/// One attempt of a run in a lab that is up: a fresh run directory, execute_run, then its
/// manifest (complete; `earlier` are the attempts the retry policy discarded) or
/// failure.json (failed, interrupted).
SlotOutcome attempt_slot(const config::Experiment& exp, const RunSlot& slot, LabDriver& lab,
                         CaptureDriver& capture, const Clock& clock, const RunOptions& opts,
                         const std::vector<std::string>& targets, const results::Manifest& common,
                         const std::vector<results::RetryRecord>& earlier) {
  // A run directory without a manifest is never trusted: start it afresh.
  std::error_code ec;
  fs::remove_all(slot.dir, ec);
  fs::create_directories(slot.dir, ec);
  if (ec)
    return {SlotOutcome::kFailed, "start",
            fmt::format("cannot create {}: {}", slot.dir.string(), ec.message())};

  results::Manifest manifest = common;
  std::string stage = "start";
  double t0 = clock.now();
  Status st = execute_run(exp, slot, lab, capture, clock, opts, targets, manifest, stage);
  if (st.ok() && is_interrupted(opts)) st = fail("interrupted");
  if (st.ok()) {
    manifest.status = "complete";
    manifest.wall_seconds = clock.now() - t0;
    manifest.retries = earlier;
    if (auto w = results::write_manifest(slot.dir, manifest); !w) st = w;
  }
  if (st.ok()) return {};
  bool interrupted = is_interrupted(opts);
  std::string error = st.error().message;
  if (!earlier.empty()) error += fmt::format(" (attempt {}; retried before: {})", earlier.size() + 1,
                                             earlier.back().reason);
  results::write_failure(slot.dir, {interrupted ? "interrupted" : "failed", stage, error}).ok();
  if (interrupted) {
    util::log_warn("[{}/{}] interrupted during {}", slot.label, slot.rep, stage);
    return {SlotOutcome::kInterrupted, stage, error};
  }
  util::log_error("[{}/{}] failed during {}: {}", slot.label, slot.rep, stage, error);
  SlotOutcome o{SlotOutcome::kFailed, stage, error, std::nullopt};
  if (stage == "scan" && manifest.scan) {
    if (auto why = signal_death(manifest, slot.dir)) {
      o.retryable = results::RetryRecord{static_cast<int>(earlier.size()) + 1, stage, *why,
                                         manifest.scan->finished};
    }
  }
  return o;
}

/// A run, retried by the experiment's policy (`retries:`) while its scanner dies of a
/// signal: each discarded attempt is logged and recorded in the next attempt's manifest.
SlotOutcome run_slot(const config::Experiment& exp, const RunSlot& slot, LabDriver& lab,
                     CaptureDriver& capture, const Clock& clock, const RunOptions& opts,
                     const std::vector<std::string>& targets, const results::Manifest& common) {
  std::vector<results::RetryRecord> earlier;
  for (;;) {
    SlotOutcome o = attempt_slot(exp, slot, lab, capture, clock, opts, targets, common, earlier);
    if (!o.retryable || static_cast<int>(earlier.size()) >= exp.retries || is_interrupted(opts))
      return o;
    earlier.push_back(*o.retryable);
    util::log_warn("[{}/{}] {}; retrying the run (retry {} of {}, experiment `retries: {}`)",
                   slot.label, slot.rep, o.retryable->reason, earlier.size(), exp.retries,
                   exp.retries);
  }
}

std::string failure_line(const RunSlot& slot, const SlotOutcome& o) {
  return fmt::format("{}/{}: {} failed: {}", slot.label, slot.rep, o.stage, o.message);
}

void take_down(LabDriver& lab, const RunOptions& opts) {
  if (!opts.keep_lab) {
    util::log_info("taking the lab {} down", lab.facts().name);
    if (auto st = lab.down(); !st) util::log_warn("lab down: {}", st.error().message);
  } else {
    util::log_info("lab {} kept up (--keep); `testbed lab down {}` removes it", lab.facts().name,
                   lab.facts().name);
  }
}

/// Brings `lab` up and returns the scan targets it allows. A failed up takes down what
/// it made; targets refused by the scope guard take the lab down unless keep_on_refusal.
Result<std::vector<std::string>> bring_up(const config::Experiment& exp, LabDriver& lab,
                                          bool keep_on_refusal) {
  if (auto st = lab.up(); !st) {
    lab.down().ok();  // best effort: the up failure is what we report
    return fail("lab up failed: {}", st.error().message);
  }
  auto targets = scan_targets(exp, lab.facts());
  if (!targets && !keep_on_refusal) lab.down().ok();
  return targets;
}

/// The report, when there is at least one complete run to report on.
Result<RunSummary> finish(RunSummary summary, const RunOptions& opts) {
  // A signal after the last run's check (or while the lab came down) still stops the
  // experiment before its report.
  if (is_interrupted(opts)) summary.interrupted = true;
  if (!summary.interrupted && opts.after_runs && summary.complete + summary.kept > 0) {
    if (auto st = opts.after_runs(summary.results_dir); !st) {
      if (!is_interrupted(opts)) return fail("report: {}", st.error().message);
      util::log_warn("report: {}", st.error().message);
      summary.interrupted = true;  // every run is kept; --resume writes the report
    }
  }
  return summary;
}

}  // namespace

Result<RunSummary> run_experiment(const config::Experiment& exp, LabDriver& lab,
                                  CaptureDriver& capture, const Clock& clock,
                                  const RunOptions& opts) {
  auto prepared = prepare_results(exp, clock, opts);
  if (!prepared) return prepared.error();
  RunSummary& summary = prepared->summary;
  const auto& todo = prepared->todo;

  if (!todo.empty()) {
    util::log_info("bringing the lab up");
    auto targets = bring_up(exp, lab, opts.keep_lab);
    if (!targets) return targets.error();
    results::Manifest common = with_lab(prepared->common, lab.facts());

    for (size_t i = 0; i < todo.size(); ++i) {
      const RunSlot& slot = todo[i];
      if (is_interrupted(opts)) {
        summary.interrupted = true;
        break;
      }
      util::log_info("run {}/{}: scanner {} repetition {}", i + 1, todo.size(), slot.label,
                     slot.rep);
      SlotOutcome o = run_slot(exp, slot, lab, capture, clock, opts, *targets, common);
      if (o.kind == SlotOutcome::kComplete) {
        ++summary.complete;
        continue;
      }
      if (o.kind == SlotOutcome::kInterrupted) {
        summary.interrupted = true;
        break;
      }
      ++summary.failed;
      summary.failures.push_back(failure_line(slot, o));
      if (opts.stop_on_failure) break;
    }
    take_down(lab, opts);
  }
  return finish(std::move(summary), opts);
}

namespace {

std::string run_id(const RunSlot& slot) { return fmt::format("{}/{}", slot.label, slot.rep); }

/// Stages whose failure means the lab, not the scan, is broken.
bool is_host_failure(const std::string& stage) {
  return stage == "reset-targets" || stage == "start-scanner";
}

/// One lab host's side of run_experiment_on_hosts: its lab is up while the worker lives.
class HostRunner : public runner::HostWorker {
 public:
  struct Shared {
    const config::Experiment& exp;
    const Clock& clock;
    const RunOptions& opts;
    const std::map<std::string, RunSlot>& slots;
    const results::Manifest& common;
    std::atomic<bool> stopping{false};  ///< --stop-on-failure saw a failure
  };

  HostRunner(HostDrivers d, std::string uri, std::vector<std::string> targets, Shared& shared)
      : d_(std::move(d)), uri_(std::move(uri)), targets_(std::move(targets)), shared_(shared) {
    common_ = with_lab(shared_.common, d_.lab->facts());
    common_.lab.host = uri_;
  }
  ~HostRunner() override { take_down(*d_.lab, shared_.opts); }

  runner::RunOutcome run(const std::string& id, std::string* message) override {
    if (is_interrupted(shared_.opts) || shared_.stopping) return runner::RunOutcome::kStopped;
    const RunSlot& slot = shared_.slots.at(id);
    util::log_info("[{}] run {}: scanner {} repetition {}", uri_, id, slot.label, slot.rep);
    SlotOutcome o = run_slot(shared_.exp, slot, *d_.lab, *d_.capture, shared_.clock, shared_.opts,
                             targets_, common_);
    switch (o.kind) {
      case SlotOutcome::kComplete:
        return runner::RunOutcome::kDone;
      case SlotOutcome::kInterrupted:
        return runner::RunOutcome::kStopped;
      case SlotOutcome::kFailed:
        break;
    }
    *message = failure_line(slot, o);
    // The lab could not be reset or could not start the scanner: the host, not the run,
    // is broken, and the run is placed on another host.
    if (is_host_failure(o.stage)) return runner::RunOutcome::kHostFailed;
    // Any other stage: the run failed, unless its host is gone (then it runs elsewhere).
    if (auto alive = d_.lab->host_alive(); !alive) {
      *message += fmt::format(" (lab host {} is gone: {})", uri_, alive.error().message);
      return runner::RunOutcome::kHostFailed;
    }
    if (shared_.opts.stop_on_failure) shared_.stopping = true;
    return runner::RunOutcome::kRunFailed;
  }

 private:
  HostDrivers d_;
  std::string uri_;
  std::vector<std::string> targets_;
  Shared& shared_;
  results::Manifest common_;
};

}  // namespace

Result<RunSummary> run_experiment_on_hosts(const config::Experiment& exp,
                                           const std::vector<runner::LabHost>& hosts,
                                           const HostDriverFactory& make_drivers,
                                           const Clock& clock, const RunOptions& opts) {
  auto prepared = prepare_results(exp, clock, opts);
  if (!prepared) return prepared.error();
  RunSummary& summary = prepared->summary;
  if (prepared->todo.empty()) return finish(std::move(summary), opts);

  std::map<std::string, RunSlot> slots;
  std::vector<std::string> ids;
  for (const auto& s : prepared->todo) {
    ids.push_back(run_id(s));
    slots.emplace(ids.back(), s);
  }
  HostRunner::Shared shared{exp, clock, opts, slots, prepared->common, {}};
  util::log_info("{} run(s) across {} lab hosts", ids.size(), hosts.size());
  auto r = runner::run_across_hosts(
      ids, hosts, [&](const runner::LabHost& host) -> Result<std::unique_ptr<runner::HostWorker>> {
        size_t index = 0;
        while (hosts[index].uri != host.uri) ++index;
        auto d = make_drivers(host, index);
        if (!d) return d.error();
        util::log_info("[{}] bringing the lab up", host.uri);
        auto targets = bring_up(exp, *d->lab, /*keep_on_refusal=*/false);
        if (!targets) return targets.error();
        return std::unique_ptr<runner::HostWorker>(
            std::make_unique<HostRunner>(std::move(*d), host.uri, std::move(*targets), shared));
      });

  summary.complete = static_cast<int>(r.ran_on.size());
  for (const auto& [id, msg] : r.failed) summary.failures.push_back(msg);
  summary.failed = static_cast<int>(r.failed.size());
  if (!r.unplaced.empty()) {
    summary.failed += static_cast<int>(r.unplaced.size());
    for (const auto& id : r.unplaced)
      summary.failures.push_back(fmt::format("{}: not run, every lab host failed", id));
  }
  if (!r.stopped.empty() && is_interrupted(opts)) summary.interrupted = true;
  summary.ran_on = r.ran_on;
  summary.dead_hosts = r.dead_hosts;
  return finish(std::move(summary), opts);
}

}  // namespace testbed::runner
