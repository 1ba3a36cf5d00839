// testbed — test-bed orchestrator and experiment runner for scanner-traffic studies.
#include <cstdio>

#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/version.h"

namespace testbed::cli {
namespace {

// The verbs, in the order `testbed --help` lists them.
constexpr Command kCommands[] = {
    {"run", add_run_command},         {"analyze", add_analyze_command},
    {"report", add_report_command},   {"diff", add_diff_command},
    {"lab", add_lab_command},         {"image", add_image_command},
    {"validate", add_validate_command}, {"gc", add_gc_command},
    {"version", add_version_command},
};

constexpr const char* kFooter = R"(Exit codes:
  0  success
  1  a run, build or lab operation failed
  2  bad command line or input file (nothing was created)
  3  drift: traffic changed beyond the noise floor (run --baseline, diff)
  4  host not ready (libvirtd not running, a tool missing, not root)
130  interrupted (the lab is taken down; `testbed run --resume` continues)

Start with:  testbed run experiments/nmap7.yaml
Each command has its own --help, e.g. `testbed analyze --help`.)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "testbed: rebuild a scanning lab from declarative files, scan it with several "
      "scanner versions, capture every packet on the lab router, and report how the "
      "traffic differs between versions and in which scan phase.",
      "testbed"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("testbed ") + kVersion);
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "Log debug details");
  app.add_flag("-q,--quiet", quiet, "Log only warnings and errors");
  app.parse_complete_callback([&] {
    if (verbose) util::set_log_level(util::LogLevel::kDebug);
    if (quiet) util::set_log_level(util::LogLevel::kWarn);
  });

  CliContext ctx;
  ctx.argv.assign(argv, argv + argc);
  for (const Command& c : kCommands) c.add(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitBadInput;
  }
  return ctx.exit_code;
}

}  // namespace testbed::cli

int main(int argc, char** argv) { return testbed::cli::main(argc, argv); }
