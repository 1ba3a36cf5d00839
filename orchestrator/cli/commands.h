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

/// Builds every image in `names` that the cache does not hold yet (as `testbed image
/// build NAMES`, which prints a line per image); returns an exit code.
int build_images(const std::vector<std::string>& names, const std::string& backend = "lxc");

/// kExitOk when libvirt answers at `uri` (a local URI; remote ones are not probed here),
/// else logs libvirt's message and returns kExitEnvironment.
int check_libvirt(const std::string& uri);

void add_run_command(CLI::App& app, CliContext& ctx);
void add_analyze_command(CLI::App& app, CliContext& ctx);
void add_report_command(CLI::App& app, CliContext& ctx);
void add_diff_command(CLI::App& app, CliContext& ctx);
void add_signatures_command(CLI::App& app, CliContext& ctx);
void add_lab_command(CLI::App& app, CliContext& ctx);
void add_image_command(CLI::App& app, CliContext& ctx);
void add_validate_command(CLI::App& app, CliContext& ctx);
void add_gc_command(CLI::App& app, CliContext& ctx);
void add_version_command(CLI::App& app, CliContext& ctx);

}  // namespace testbed::cli
