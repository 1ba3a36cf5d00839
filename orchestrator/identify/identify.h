#pragma once
// `testbed identify`'s whole answer for one capture: the scanner kind (model.kinds), then
// its version (model.versions[kind]) when the kind is one and the model knows its versions.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "orchestrator/identify/match.h"
#include "orchestrator/identify/model.h"

namespace testbed::identify {

struct Identification {
  std::string capture;
  CaptureTraits traits;  ///< keys cleared after matching (only counts kept)
  size_t trait_count = 0;
  Answer kind;
  std::optional<Answer> version;  ///< when the kind is one known kind with versions
  /// "nmap 7.95", "nmap 7.93–7.95 (…)", "masscan", "unknown", …
  std::string summary() const;
};

Identification identify(const Model& m, const CaptureTraits& traits, const std::string& capture);

nlohmann::json identification_json(const Identification& id);
std::string identification_text(const Identification& id);

}  // namespace testbed::identify
