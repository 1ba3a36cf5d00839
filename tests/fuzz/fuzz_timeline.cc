// libFuzzer target: the two timeline sources of the analysis — a phases.json file and a
// time-stamped Nmap -v log ("<epoch seconds> <line>" per line) — and phase lookups on
// whatever timeline they produce.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "orchestrator/analysis/phases.h"
#include "orchestrator/analysis/scanner_model.h"
#include "orchestrator/scanners/nmap/model.h"

namespace {
using namespace testbed::analysis;

void use(const PhaseTimeline& tl) {
  (void)tl.phase_at(tl.start);
  (void)tl.phase_at(tl.end);
  for (const PhaseInterval& iv : tl.intervals)
    (void)tl.phase_at(iv.start + (iv.end - iv.start) / 2);
  (void)phase_timeline_json(tl);  // what the runner writes back
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto tl = parse_phase_timeline(text, "phases.json")) use(*tl);
  if (auto tl = parse_console_log(testbed::scanners::nmap::model(), text, "nmap.log")) use(*tl);
  return 0;
}
