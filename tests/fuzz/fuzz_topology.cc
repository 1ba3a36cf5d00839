// libFuzzer target: a topology file (topology/*.yaml) through the config loader.
#include <cstddef>
#include <cstdint>
#include <string>

#include "orchestrator/config/topology.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto t = testbed::config::parse_topology(text, "topology.yaml");
  if (t) {
    (void)t->router();
    (void)t->target_subnets();
  }
  return 0;
}
