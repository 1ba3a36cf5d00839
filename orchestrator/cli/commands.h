#pragma once
// The subcommand table. Each verb lives in its own file (cli/<verb>.cc) and adds a
// CLI11 subcommand whose callback stores the process exit code in CliContext.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

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
  std::vector<std::string> argv;  ///< testbed's own command line (recorded in manifests)
};

using AddCommandFn = void (*)(CLI::App& app, CliContext& ctx);

struct Command {
  const char* name;
  AddCommandFn add;
};

/// kExitOk when libvirt answers at `uri` (a local URI; remote ones are not probed here),
/// else logs libvirt's message and returns kExitEnvironment.
int check_libvirt(const std::string& uri);

/// Accepts an existing directory or a pointer name (`latest`, `latest-good`) for --baseline.
CLI::Validator baseline_validator();
/// Adds --junit FILE (the JUnit verdict) to `sub`.
void add_junit_option(CLI::App& sub, std::string& file);

void add_run_command(CLI::App& app, CliContext& ctx);
void add_analyze_command(CLI::App& app, CliContext& ctx);
void add_report_command(CLI::App& app, CliContext& ctx);
void add_diff_command(CLI::App& app, CliContext& ctx);
void add_results_command(CLI::App& app, CliContext& ctx);
void add_lab_command(CLI::App& app, CliContext& ctx);
void add_image_command(CLI::App& app, CliContext& ctx);
void add_validate_command(CLI::App& app, CliContext& ctx);
void add_gc_command(CLI::App& app, CliContext& ctx);
void add_version_command(CLI::App& app, CliContext& ctx);
void add_prune_command(CLI::App& app, CliContext& ctx);
void add_nightly_command(CLI::App& app, CliContext& ctx);
/// `lab graph`, added to the `lab` verb (cli/lab_graph.cc).
void add_lab_graph_subcommand(CLI::App& lab, CliContext& ctx);

}  // namespace testbed::cli
