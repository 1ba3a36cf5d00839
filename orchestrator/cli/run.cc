// `testbed run` — placeholder until its module lands; says so and exits 4.
#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {

void add_run_command(CLI::App& app, CliContext& ctx) {
  auto* sub = app.add_subcommand("run", "(not available yet)");
  sub->allow_extras();
  sub->callback([&ctx] {
    util::log_error("'testbed run' is not available in this build yet");
    ctx.exit_code = kExitEnvironment;
  });
}

}  // namespace testbed::cli
