// `testbed lab` — placeholder until its module lands; says so and exits 4.
#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {

void add_lab_command(CLI::App& app, CliContext& ctx) {
  auto* sub = app.add_subcommand("lab", "(not available yet)");
  sub->allow_extras();
  sub->callback([&ctx] {
    util::log_error("'testbed lab' is not available in this build yet");
    ctx.exit_code = kExitEnvironment;
  });
}

}  // namespace testbed::cli
