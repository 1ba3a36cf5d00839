// libFuzzer target: an image recipe (images/*.yaml) through the config loader. The recipe
// is named fuzz.yaml in a directory with nothing in it, so `source:` files never resolve
// to real files.
#include <cstddef>
#include <cstdint>
#include <string>

#include "orchestrator/config/recipe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = testbed::config::parse_recipe(text, "/nonexistent/testbed-fuzz/fuzz.yaml");
  if (r) (void)r->supports(testbed::config::BackendKind::kLxc);
  return 0;
}
