#pragma once
// `testbed run` as one call: the whole experiment from its file to its report. It loads
// and checks the experiment (runner/preflight.h), checks its lab hosts, builds its images
// (and the IDS sensor's), resolves the baseline, runs it on one lab host or spread over
// several (runner.h), writes the report with the IDS section when `ids:` is on, and then
// does what unattended runs need (nightly/after_run.h: pointers, JUnit, metrics,
// retention). Each step says what it found through util/log.h. From the host checks on,
// SIGINT/SIGTERM stop the work cleanly (util/interrupt.h). cli/run.cc parses the options
// into an ExperimentRequest and maps the ExperimentOutcome to the exit code.
#include <cstddef>
#include <string>

namespace testbed::runner {

/// What `testbed run` is asked to do; "" and 0 mean "as the experiment file says".
struct ExperimentRequest {
  std::string experiment;    ///< the experiment file (experiments/*.yaml)
  std::string output;        ///< results root; "" = the experiment's `output`
  int repeat = 0;            ///< repetitions per scanner; 0 = the experiment's `repetitions`
  std::string resume;        ///< an earlier results directory to continue; "" = a new one
  bool keep = false;         ///< leave the lab up afterwards
  bool stop_on_failure = false;  ///< stop at the first failed run (default: go on)
  std::string baseline;      ///< results directory or latest / latest-good; "" = none
  bool allow_missing = false;  ///< a version on one side of the baseline only is not drift
  std::string lab_name;      ///< "" = derived from the experiment
  std::string junit;         ///< the JUnit verdict's file; "" = none
  std::string metrics;       ///< the Prometheus metrics' file; "" = none
  size_t keep_results = 0;   ///< complete results directories kept; 0 = no pruning
  std::string command_line;  ///< testbed's own command line, recorded in the manifests
};

/// How the experiment ended (the CLI's exit codes: 0, 1, 2, 3, 4, 130).
enum class ExperimentOutcome {
  kComplete,      ///< every run complete, no drift against the baseline
  kFailed,        ///< a run, an image build, the report or the after-run steps failed
  kBadInput,      ///< the experiment, its topology, recipes, scope or baseline: nothing created
  kDrift,         ///< traffic changed against the baseline beyond the noise floor
  kHostNotReady,  ///< not root, libvirt not answering, a lab host not ready, no Suricata
  kInterrupted,   ///< SIGINT/SIGTERM: the lab was taken down; --resume continues
};

/// Runs the experiment `req` names from its file to its report (see above).
ExperimentOutcome run_experiment_file(const ExperimentRequest& req);

}  // namespace testbed::runner
