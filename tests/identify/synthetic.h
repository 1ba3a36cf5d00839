#pragma once
// Labelled runs made of traits directly (no capture), for the learning and matching tests.
#include <string>
#include <vector>

#include "orchestrator/identify/model.h"

namespace testbed::identify::testing {

inline CaptureTraits traits_of(const std::vector<std::string>& keys) {
  CaptureTraits t;
  t.sent = keys.size();
  uint64_t frame = 1;
  for (auto& k : keys) t.keys[k] = {frame++, 1};
  return t;
}

inline LabelledRun run_of(std::string kind, std::string version, int rep, const std::vector<std::string>& keys) {
  return {std::move(kind), version, version + "/" + std::to_string(rep), "synthetic", traits_of(keys)};
}

inline std::vector<const LabelledRun*> ptrs(const std::vector<LabelledRun>& runs) {
  std::vector<const LabelledRun*> out;
  for (auto& r : runs) out.push_back(&r);
  return out;
}

}  // namespace testbed::identify::testing
