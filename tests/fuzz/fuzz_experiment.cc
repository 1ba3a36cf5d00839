// libFuzzer target: an experiment file (experiments/*.yaml) through the config loader
// and its command through the scope guard.
// It is parsed as if it lay in the repository's experiments/ directory, so a `topology:`
// naming ../topology/two-subnet.yaml resolves and the rest of the checks run.
#include <cstddef>
#include <cstdint>
#include <string>

#include "orchestrator/config/experiment.h"
#include "orchestrator/scanners/registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto e = testbed::config::parse_experiment(
      text, std::string(TESTBED_SOURCE_DIR) + "/experiments/fuzz.yaml");
  if (e) {
    std::vector<std::string> targets = {"172.24.1.0/24"};
    auto argv = testbed::config::expand_command(e->command, {{"output", "/tmp/x.xml"}}, targets);
    testbed::scanners::LabScope scope;
    scope.targets = {*testbed::util::parse_cidr("172.24.1.0/24")};
    scope.lab = {*testbed::util::parse_cidr("172.24.0.0/24"), scope.targets[0]};
    scope.scan_interfaces = {"scan"};
    scope.expansion = targets;
    (void)testbed::scanners::check_command(e->command, scope);
  }
  return 0;
}
