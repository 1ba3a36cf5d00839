#include "orchestrator/analysis/phases.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "orchestrator/util/files.h"

namespace testbed::analysis {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kDiscovery: return "discovery";
    case Phase::kPortScan: return "port-scan";
    case Phase::kService: return "service";
    case Phase::kOs: return "os";
    case Phase::kScript: return "script";
    case Phase::kTraceroute: return "traceroute";
    case Phase::kOther: return "other";
  }
  return "other";
}

std::optional<Phase> parse_phase(std::string_view name) {
  for (Phase p : kAllPhases)
    if (name == phase_name(p)) return p;
  return std::nullopt;
}

const char* phase_group_name(PhaseGroup g) {
  switch (g) {
    case PhaseGroup::kHorizontal: return "horizontal";
    case PhaseGroup::kStrobe: return "strobe";
    case PhaseGroup::kServices: return "services";
    case PhaseGroup::kOther: return "other";
  }
  return "other";
}

PhaseGroup phase_group(Phase p) {
  switch (p) {
    case Phase::kDiscovery: return PhaseGroup::kHorizontal;
    case Phase::kPortScan: return PhaseGroup::kStrobe;
    case Phase::kService:
    case Phase::kOs:
    case Phase::kScript:
    case Phase::kTraceroute: return PhaseGroup::kServices;
    case Phase::kOther: return PhaseGroup::kOther;
  }
  return PhaseGroup::kOther;
}

Phase PhaseTimeline::phase_at(double t) const {
  // Intervals are few (tens): a scan for the latest-starting one containing t, and for a
  // gap, the interval announced within kAnnouncementLag after t.
  const PhaseInterval* best = nullptr;
  const PhaseInterval* next = nullptr;
  for (const PhaseInterval& iv : intervals) {
    if (iv.start <= t && t <= iv.end) {
      if (!best || iv.start >= best->start) best = &iv;
    } else if (iv.start > t && iv.start - t <= kAnnouncementLag) {
      if (!next || iv.start < next->start) next = &iv;
    }
  }
  if (best) return best->phase;
  return next ? next->phase : Phase::kOther;
}

// ---- phases.json ------------------------------------------------------------------------

std::string phase_timeline_json(const PhaseTimeline& tl) {
  nlohmann::ordered_json j;
  j["format"] = "testbed-phases";
  j["version"] = 1;
  j["clock"] = "unix-epoch-seconds";
  j["source"] = tl.source;
  j["start"] = tl.start;
  j["end"] = tl.end;
  if (tl.boundary_slack != kBoundarySlack) j["boundary_slack_s"] = tl.boundary_slack;
  j["intervals"] = nlohmann::ordered_json::array();
  for (const PhaseInterval& iv : tl.intervals) {
    nlohmann::ordered_json e;
    e["phase"] = phase_name(iv.phase);
    e["start"] = iv.start;
    e["end"] = iv.end;
    e["label"] = iv.label;
    j["intervals"].push_back(e);
  }
  // Labels come from Nmap's console output, which need not be UTF-8: replace invalid bytes
  // with U+FFFD instead of throwing (nlohmann's default).
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

util::Status write_phase_timeline(const std::filesystem::path& path, const PhaseTimeline& tl) {
  return util::write_file_atomic(path, phase_timeline_json(tl));
}

util::Result<PhaseTimeline> read_phase_timeline(const std::filesystem::path& path) {
  auto text = util::read_file(path);
  if (!text) return text.error();
  return parse_phase_timeline(*text, path.string());
}

util::Result<PhaseTimeline> parse_phase_timeline(std::string_view text, const std::string& name) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return util::fail("{}: not a JSON object; expected a phase timeline (see orchestrator/analysis/README.md)",
                      name);
  // (j.value("format", "") would throw on a non-string "format".)
  if (!j.contains("format") || !j["format"].is_string() || j["format"].get<std::string>() != "testbed-phases")
    return util::fail("{}: \"format\" must be \"testbed-phases\"", name);
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != 1)
    return util::fail("{}: unsupported \"version\" (this build reads version 1)", name);
  PhaseTimeline tl;
  auto num = [&](const nlohmann::json& o, const char* key, double* out) -> bool {
    if (!o.contains(key)) return true;
    if (!o[key].is_number()) return false;
    *out = o[key].get<double>();
    return std::isfinite(*out);
  };
  if (!num(j, "start", &tl.start) || !num(j, "end", &tl.end))
    return util::fail("{}: \"start\"/\"end\" must be numbers (seconds since the Unix epoch)", name);
  if (j.contains("source") && j["source"].is_string()) tl.source = j["source"].get<std::string>();
  if (!num(j, "boundary_slack_s", &tl.boundary_slack) || tl.boundary_slack < 0 ||
      tl.boundary_slack > 10)
    return util::fail("{}: \"boundary_slack_s\" must be a number of seconds in 0..10", name);
  if (!j.contains("intervals") || !j["intervals"].is_array())
    return util::fail("{}: \"intervals\" must be an array", name);
  size_t i = 0;
  for (const auto& e : j["intervals"]) {
    if (!e.is_object() || !e.contains("phase") || !e["phase"].is_string())
      return util::fail("{}: intervals[{}]: needs a \"phase\" string", name, i);
    auto ph = parse_phase(e["phase"].get<std::string>());
    if (!ph)
      return util::fail("{}: intervals[{}]: unknown phase \"{}\" (one of discovery, port-scan, service, os, "
                        "script, traceroute, other)", name, i, e["phase"].get<std::string>());
    PhaseInterval iv;
    iv.phase = *ph;
    if (!e.contains("start") || !e.contains("end") || !num(e, "start", &iv.start) || !num(e, "end", &iv.end))
      return util::fail("{}: intervals[{}]: \"start\" and \"end\" must be numbers", name, i);
    if (iv.end < iv.start)
      return util::fail("{}: intervals[{}]: end {} is before start {}", name, i, iv.end, iv.start);
    if (e.contains("label") && e["label"].is_string()) iv.label = e["label"].get<std::string>();
    tl.intervals.push_back(std::move(iv));
    ++i;
  }
  return tl;
}

}  // namespace testbed::analysis
