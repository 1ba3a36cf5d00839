// libFuzzer target: an experiment file (experiments/*.yaml) through the config loader.
// It is parsed as if it lay in the repository's experiments/ directory, so a `topology:`
// naming ../topology/two-subnet.yaml resolves and the rest of the checks run.
#include <cstddef>
#include <cstdint>
#include <string>

#include "orchestrator/config/experiment.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto e = testbed::config::parse_experiment(
      text, std::string(TESTBED_SOURCE_DIR) + "/experiments/fuzz.yaml");
  if (e) {
    std::vector<std::string> targets = {"172.24.1.0/24"};
    auto argv = testbed::config::expand_command(e->command, "/tmp/x.xml", targets);
    for (const auto& t : testbed::config::literal_targets(e->command))
      (void)testbed::config::check_target_in_scope(t, targets);
  }
  return 0;
}
