#pragma once
// The experiment state machine (docs/architecture.md, "Data flow" and "The results directory"):
// for each scanner × repetition: reset targets → start the scanner node → start the
// capture on the router → run the scanner over SSH on a PTY, time-stamping every line →
// fetch its XML → stop the capture → write the run directory, manifest last.
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/experiment.h"
#include "orchestrator/runner/drivers.h"
#include "orchestrator/util/result.h"
#include "orchestrator/runner/placement.h"

namespace testbed::runner {

/// One scanner × repetition and where its files go.
struct RunSlot {
  std::string label;          ///< scanner label, e.g. "7.80"
  std::string image;          ///< scanner image
  int rep = 1;                ///< 1-based repetition
  std::filesystem::path dir;  ///< <results>/<label>/<rep>
};

struct RunOptions {
  std::optional<std::filesystem::path> output_root;  ///< overrides the experiment's `output`
  std::optional<int> repetitions;                    ///< overrides the experiment's repetitions
  /// Continue an earlier results directory: runs with a manifest are kept, others redone.
  std::optional<std::filesystem::path> resume_dir;
  bool keep_lab = false;                           ///< leave the lab up at the end
  bool stop_on_failure = false;                    ///< default: record the failure, go on
  std::string command_line;                        ///< testbed's own argv, for provenance
  const std::atomic<bool>* interrupted = nullptr;  ///< set by a signal handler
  /// Called with the results directory after the runs (the report); optional.
  std::function<util::Status(const std::filesystem::path&)> after_runs;
  /// Optional IDS sensor per run: started on the capture device once the capture runs,
  /// stopped after it; its result is the manifest's "ids" object. Local lab hosts only.
  std::function<util::Result<std::unique_ptr<RunSensor>>(const std::string& device,
                                                         const std::filesystem::path& run_dir)>
      sensor;
};

struct RunSummary {
  std::filesystem::path results_dir;
  int complete = 0;  ///< runs completed now
  int kept = 0;      ///< runs already complete (resume)
  int failed = 0;
  bool interrupted = false;
  std::vector<std::string> failures;  ///< "label/rep: message"
  /// Runs across several lab hosts only: run id ("label/rep") -> the host URI it
  /// completed on, and the hosts given up (URI -> why).
  std::map<std::string, std::string> ran_on;
  std::map<std::string, std::string> dead_hosts;
};

/// Directory name for a results timestamp: UTC, sortable, no ':' (e.g. 20261126T214900Z).
std::string results_timestamp(double epoch_seconds);

/// The run slots of an experiment under `results_dir`, in execution order: repetitions
/// interleaved (7.80/1, 7.93/1, …, 7.80/2, …) so slow drift in the lab does not
/// masquerade as a version difference.
std::vector<RunSlot> plan_runs(const config::Experiment& exp, int repetitions,
                               const std::filesystem::path& results_dir);

/// True when `dir` holds a complete run (its manifest exists; results/layout.h).
bool run_is_complete(const std::filesystem::path& dir);

/// The scan targets for an experiment in a lab: the experiment's explicit targets, or
/// the lab's target subnets; each (and every literal target in the command) must pass
/// the scope guard against the lab's target subnets.
util::Result<std::vector<std::string>> scan_targets(const config::Experiment& exp,
                                                    const LabFacts& lab);

/// Runs the whole experiment. The lab is brought up here and taken down at the end
/// (unless keep_lab), also on failure and on interruption.
util::Result<RunSummary> run_experiment(const config::Experiment& exp, LabDriver& lab,
                                        CaptureDriver& capture, const Clock& clock,
                                        const RunOptions& opts);

/// What runs an experiment on one lab host: its lab (not up yet) and its capture.
struct HostDrivers {
  std::unique_ptr<LabDriver> lab;
  std::unique_ptr<CaptureDriver> capture;
};
/// Makes the drivers for `host`, the `index`-th (0-based) of the experiment's hosts.
using HostDriverFactory =
    std::function<util::Result<HostDrivers>(const runner::LabHost& host, size_t index)>;

/// run_experiment across several lab hosts (the experiment's `hosts:`), one lab per host,
/// all up at once: the runs are spread over the hosts (runner::run_across_hosts) and run in
/// parallel into one results directory, so the report reads as from one host; each
/// manifest names its host (lab.host). A host whose lab cannot come up, be reset or start
/// the scanner is given up and its unfinished runs are placed on the others; a run that
/// fails in its scan stays failed. Interruption and --stop-on-failure stop every host
/// after its current run; every lab comes down at the end (unless keep_lab).
util::Result<RunSummary> run_experiment_on_hosts(const config::Experiment& exp,
                                                 const std::vector<runner::LabHost>& hosts,
                                                 const HostDriverFactory& make_drivers,
                                                 const Clock& clock, const RunOptions& opts);

}  // namespace testbed::runner
