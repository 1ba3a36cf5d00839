// --baseline (run, report) and diff's A/B accept a results directory or the name of a
// pointer, `latest` or `latest-good` (orchestrator/nightly/pointers.h).
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

}  // namespace testbed::cli
