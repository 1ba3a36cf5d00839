#pragma once
// Labelled runs made of traits directly (no capture), for the learning and matching tests.
#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/identify/model.h"

namespace testbed::identify::testing {

/// Payload traits (tls, http, data) are drawn at service port `port` (their context).
inline CaptureTraits traits_of(const std::vector<std::string>& keys, uint16_t port = 443) {
  CaptureTraits t;
  t.sent = keys.size();
  uint64_t frame = 1;
  for (auto& k : keys) {
    Occurrence o{frame++, 1, {}};
    if (!family_is_probe(split_key(k).first)) o.ports = {port};
    t.keys[k] = o;
  }
  return t;
}

inline LabelledRun run_of(std::string kind, std::string version, int rep, const std::vector<std::string>& keys,
                          uint16_t port = 443) {
  return {std::move(kind), version, version + "/" + std::to_string(rep), "synthetic", traits_of(keys, port)};
}

inline std::vector<const LabelledRun*> ptrs(const std::vector<LabelledRun>& runs) {
  std::vector<const LabelledRun*> out;
  for (auto& r : runs) out.push_back(&r);
  return out;
}

}  // namespace testbed::identify::testing
