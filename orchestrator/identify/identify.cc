#include "orchestrator/identify/identify.h"

#include <fmt/format.h>

namespace testbed::identify {
namespace {

void evidence_lines(std::string& out, const char* title, const std::vector<Evidence>& v, bool labels) {
  if (v.empty()) return;
  out += fmt::format("  {}:\n", title);
  for (auto& e : v) {
    out += "    " + e.trait;
    if (e.frame) out += fmt::format("  (frame {}, {}×)", e.frame, e.count);
    if (labels && !e.labels.empty()) out += fmt::format("  [{}]", fmt::join(e.labels, ", "));
    out += '\n';
  }
}

void answer_text(std::string& out, const char* what, const Answer& a) {
  out += fmt::format("{}: {}", what, a.display);
  if (!a.unknown) out += fmt::format("  (score {:.2f})", a.score);
  out += fmt::format("\n  {}\n", a.reason);
  if (!a.nearest.empty()) out += fmt::format("  nearest: {}\n", fmt::join(a.nearest, ", "));
  evidence_lines(out, "matched (present, shown by the answer, not by all others)", a.matched, false);
  evidence_lines(out, "ruled out (present but never sent by / sent by every run of but missing)", a.ruled_out, true);
  evidence_lines(out, "novel (traits no known version sends; a payload's: at a service the versions named were offered)", a.novel, true);
  if (!a.absent_families.empty())
    out += fmt::format("  absent here (traits of these families would separate the answer's versions): {}\n",
                       fmt::join(a.absent_families, ", "));
}

}  // namespace

std::string Identification::summary() const {
  if (kind.unknown) return "unknown";
  if (!version) return kind.display;
  return kind.display + " " + version->display;
}

Identification identify(const Model& m, const CaptureTraits& traits, const std::string& capture) {
  Identification id;
  id.capture = capture;
  id.trait_count = traits.keys.size();
  id.kind = match(m.kinds, traits, /*novelty=*/false);
  if (!id.kind.unknown && id.kind.labels.size() == 1) {
    auto it = m.versions.find(id.kind.labels[0]);
    if (it != m.versions.end() && it->second.labels.size() > 1) id.version = match(it->second, traits);
  }
  id.traits.scanner = traits.scanner;
  id.traits.scanner_auto = traits.scanner_auto;
  id.traits.frames = traits.frames;
  id.traits.sent = traits.sent;
  return id;
}

nlohmann::json identification_json(const Identification& id) {
  nlohmann::json j = {{"capture", id.capture},
                      {"scanner", {{"address", id.traits.scanner.str()}, {"auto", id.traits.scanner_auto}}},
                      {"frames", id.traits.frames},
                      {"sent", id.traits.sent},
                      {"traits", id.trait_count},
                      {"summary", id.summary()},
                      {"kind", answer_json(id.kind)}};
  if (id.version) j["version"] = answer_json(*id.version);
  return j;
}

std::string identification_text(const Identification& id) {
  std::string out = fmt::format("{}: {}\n  scanner {} ({}), {} of {} frames sent by it, {} traits\n", id.capture,
                                id.summary(), id.traits.scanner.str(), id.traits.scanner_auto ? "detected" : "given",
                                id.traits.sent, id.traits.frames, id.trait_count);
  answer_text(out, "kind", id.kind);
  if (id.version) answer_text(out, "version", *id.version);
  return out;
}

}  // namespace testbed::identify
