// libFuzzer target: an Nmap -oX report through the nmap scanner kind's XML reader. What it returns
// must serialise as JSON (valid UTF-8), as `testbed analyze --json` and report.json do.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "orchestrator/scanners/nmap/result.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = testbed::scanners::nmap::parse_xml(text, "nmap.xml");
  if (!r) return 0;
  nlohmann::json j = {r->version, r->args, r->open_ports};
  (void)j.dump();  // throws (a finding) on invalid UTF-8
  return 0;
}
