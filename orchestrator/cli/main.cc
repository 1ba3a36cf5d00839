// testbed — test-bed orchestrator and experiment runner for scanner-traffic studies.
#include <string>

#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/version.h"

namespace testbed::cli {
namespace {

// The verbs, in the order `testbed --help` lists them.
constexpr Command kCommands[] = {
    {"run", add_run_command},         {"analyze", add_analyze_command},
    {"report", add_report_command},   {"diff", add_diff_command},
    {"export", add_export_command},   {"results", add_results_command},
    {"signatures", add_signatures_command},
    {"fingerprint", add_fingerprint_command}, {"identify", add_identify_command},
    {"lab", add_lab_command},         {"image", add_image_command},
    {"validate", add_validate_command}, {"gc", add_gc_command},
    {"prune", add_prune_command},     {"nightly", add_nightly_command}, {"history", add_history_command},
    {"host", add_host_command},
    {"version", add_version_command},
};

constexpr const char* kFooter = R"(Exit codes:
  0  success
  1  failure: a run, build or lab operation failed
  2  bad input or not found: bad command line, invalid or missing file, unknown
     lab, node or image (nothing was created)
  3  drift: traffic changed beyond the noise floor, or a version has runs on one
     side only (run/report --baseline, diff; --allow-missing accepts that)
  4  host not ready (libvirtd not answering, a tool missing, not root)
130  interrupted (the lab is taken down; `testbed run --resume` continues)
  `lab exec` exits with the remote command's status; its own failures (bad
  command line, unknown lab or node, SSH failed) are 255, as ssh's are, and a
  signal N to it ends the remote command and exits 128+N.

Start with:  testbed run experiments/nmap7.yaml
Each command has its own --help, e.g. `testbed analyze --help`.)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "testbed: rebuild a scanning lab from declarative files, scan it with several "
      "scanner versions, capture every packet on the lab router, and report how the "
      "traffic differs between versions and in which scan phase.",
      "testbed"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("testbed ") + kVersion);
  bool verbose = false, quiet = false, timestamps = false;
  app.add_flag("-v,--verbose", verbose, "Log debug details");
  app.add_flag("-q,--quiet", quiet, "Log only warnings and errors");
  app.add_flag("--timestamps", timestamps, "Start every log line with its UTC time (nightly logs)");
  // Global flags are accepted after the verb too (`testbed analyze -q …`), and an option of
  // `lab` after its subcommand (`testbed lab up --uri X …`): unmatched options fall through
  // to the parent. Set before the verbs are added, which inherit it.
  app.fallthrough();
  app.parse_complete_callback([&] {
    if (verbose) util::set_log_level(util::LogLevel::kDebug);
    if (quiet) util::set_log_level(util::LogLevel::kWarn);
    util::set_log_timestamps(timestamps);
  });

  CliContext ctx;
  ctx.argv.assign(argv, argv + argc);
  for (const Command& c : kCommands) c.add(app, ctx);
  // Set after the verbs are added, which would inherit it: each verb's --help ends with
  // its own exit codes and example.
  app.footer(kFooter);
  if (int rc = check_command_words(app, {argv + 1, argv + argc}); rc >= 0) return rc;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return report_usage_error(app, e, ctx);
  }
  return ctx.exit_code;
}

}  // namespace testbed::cli

int main(int argc, char** argv) { return testbed::cli::main(argc, argv); }
