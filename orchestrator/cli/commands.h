#pragma once
// The subcommand table. Each verb lives in its own file (cli/<verb>.cc) and adds a
// CLI11 subcommand whose callback stores the process exit code in CliContext.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>

#include "orchestrator/config/experiment.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/backends/build_many.h"
#include "orchestrator/util/result.h"

namespace testbed::cli {

/// Process exit codes, documented in README.md and `testbed --help`.
enum ExitCode : int {
  kExitOk = 0,           ///< success
  kExitFailure = 1,      ///< a run, build or lab operation failed
  kExitBadInput = 2,     ///< bad command line, bad or missing input file, a name that names
                         ///< nothing (lab, node, image, verb); nothing was created
  kExitDrift = 3,        ///< `run/report --baseline`, `diff`: traffic changed beyond the noise
                         ///< floor, or a version has runs on one side only
  kExitEnvironment = 4,  ///< the host is not ready (libvirtd not running, missing tool, not root)
  kExitInterrupted = 130,
};

struct CliContext {
  int exit_code = kExitOk;
  /// The exit code of a command line CLI11 refuses (`lab exec` makes it 255).
  int usage_error_exit = kExitBadInput;
  std::vector<std::string> argv;  ///< testbed's own command line (recorded in manifests)
};

using AddCommandFn = void (*)(CLI::App& app, CliContext& ctx);

struct Command {
  const char* name;
  AddCommandFn add;
};

/// The image recipes `image build` and `run` use (backends::default_recipe_dir).
using backends::default_recipe_dir;

/// kExitOk when libvirt answers at `uri` (a local URI; remote ones are not probed here),
/// else logs libvirt's message and returns kExitEnvironment.
int check_libvirt(const std::string& uri);
/// The results directory a RESULTS_DIR argument names (report, export): `dir` itself when it
/// is one; for an experiment's folder of them (results/<experiment>), the newest whose
/// every planned run is complete, said on stderr; nullopt (the reason logged) when that
/// folder holds none complete (cli/report.cc).
std::optional<std::filesystem::path> pick_results_dir(const std::filesystem::path& dir);
/// Adds that RESULTS_DIR argument (required, an existing directory) to `sub`.
CLI::Option* add_results_dir_argument(CLI::App& sub, std::string& dir);

/// Accepts an existing directory or a pointer name (`latest`, `latest-good`) for --baseline.
CLI::Validator baseline_validator();
/// Adds --junit FILE (the JUnit verdict) to `sub`.
void add_junit_option(CLI::App& sub, std::string& file);
/// Adds --metrics FILE (Prometheus text format; nightly/metrics.h) to `sub`.
void add_metrics_option(CLI::App& sub, std::string& file);
/// Adds --unique-limit N (analyze, report): one rule for both, a count from 0, and one
/// message for anything else (cli/usage.cc).
CLI::Option* add_unique_limit_option(CLI::App& sub, size_t& limit, const std::string& help);

/// Before CLI11 parses `args` (argv without the program): an unknown verb or subcommand
/// (the nearest one suggested), an unknown option before the verb, or a missing verb or
/// required subcommand, said as one error line. The exit code, or -1 when the words are
/// fine (cli/usage.cc).
int check_command_words(const CLI::App& app, const std::vector<std::string>& args);
/// A command line CLI11 refused, as one "error:" line ending with the --help to read;
/// --help and --version print and return 0. The exit code.
int report_usage_error(CLI::App& app, const CLI::ParseError& e, const CliContext& ctx);

void add_run_command(CLI::App& app, CliContext& ctx);
void add_analyze_command(CLI::App& app, CliContext& ctx);
void add_report_command(CLI::App& app, CliContext& ctx);
void add_diff_command(CLI::App& app, CliContext& ctx);
void add_results_command(CLI::App& app, CliContext& ctx);
void add_export_command(CLI::App& app, CliContext& ctx);
void add_signatures_command(CLI::App& app, CliContext& ctx);
void add_fingerprint_command(CLI::App& app, CliContext& ctx);
void add_identify_command(CLI::App& app, CliContext& ctx);
void add_lab_command(CLI::App& app, CliContext& ctx);
void add_image_command(CLI::App& app, CliContext& ctx);
void add_validate_command(CLI::App& app, CliContext& ctx);
void add_gc_command(CLI::App& app, CliContext& ctx);
void add_version_command(CLI::App& app, CliContext& ctx);
void add_host_command(CLI::App& app, CliContext& ctx);
void add_prune_command(CLI::App& app, CliContext& ctx);
void add_nightly_command(CLI::App& app, CliContext& ctx);
void add_history_command(CLI::App& app, CliContext& ctx);
/// `lab graph`, added to the `lab` verb (cli/lab_graph.cc).
void add_lab_graph_subcommand(CLI::App& lab, CliContext& ctx);
/// `lab capture`, added to the `lab` verb (cli/lab_capture.cc).
void add_lab_capture_subcommand(CLI::App& lab, CliContext& ctx);
/// Logs why lab `name` cannot be used and returns `code` when it is not a valid lab name or
/// has no state directory under `state_root` (as every lab verb treats a name it cannot
/// resolve); nullopt when the lab exists (cli/lab.cc).
std::optional<int> check_lab_exists(const std::string& name, const std::string& state_root,
                                    int code = kExitBadInput);

}  // namespace testbed::cli
