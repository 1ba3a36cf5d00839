// `testbed report` — placeholder until its module lands; says so and exits 4.
#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {

void add_report_command(CLI::App& app, CliContext& ctx) {
  auto* sub = app.add_subcommand("report", "(not available yet)");
  sub->allow_extras();
  sub->callback([&ctx] {
    util::log_error("'testbed report' is not available in this build yet");
    ctx.exit_code = kExitEnvironment;
  });
}

}  // namespace testbed::cli
