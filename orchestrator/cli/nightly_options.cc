// Options the nightly features add to several verbs: --baseline (run, report) and diff's
// A/B accept a results directory or a pointer name, `latest` or `latest-good`
// (orchestrator/nightly/pointers.h); --junit FILE (run, report, diff; nightly/junit.h);
// --metrics FILE (run, report, diff; nightly/metrics.h).
#include <filesystem>

#include "orchestrator/cli/commands.h"
#include "orchestrator/nightly/pointers.h"

namespace testbed::cli {

CLI::Validator baseline_validator() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        std::error_code ec;
        if (nightly::is_pointer_name(s) || std::filesystem::is_directory(s, ec)) return {};
        return "Directory does not exist: " + s + " (a results directory, latest or latest-good)";
      },
      "DIR|latest|latest-good");
}

void add_junit_option(CLI::App& sub, std::string& file) {
  sub.add_option("--junit", file,
                 "Also write the verdict as JUnit XML to FILE: a test case per version x phase "
                 "(failure = drift beyond the noise floor), errors for failed runs and versions "
                 "with no run to compare");
}

void add_metrics_option(CLI::App& sub, std::string& file) {
  sub.add_option("--metrics", file,
                 "Also write the figures in Prometheus' text format to FILE, atomically (for "
                 "node_exporter's textfile collector: FILE ending .prom in its directory)");
}

}  // namespace testbed::cli
