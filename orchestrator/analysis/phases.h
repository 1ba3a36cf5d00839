#pragma once
// Scan phases: the fine phases of a scan (named after an Nmap -A run; masscan and ZMap
// use port-scan), the study's three-phase grouping and phase timelines (phases.json).
// Each scanner kind builds timelines from its console output and attributes packets by
// shape behind the interface in scanner_model.h (orchestrator/scanners/<kind>/).
// Formats and the phase mapping are documented in orchestrator/analysis/README.md.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "orchestrator/analysis/decode.h"
#include "orchestrator/analysis/flat_map.h"
#include "orchestrator/util/result.h"

namespace testbed::analysis {

/// Fine phases, in the order Nmap -A runs them. kOther = not attributable.
enum class Phase : uint8_t { kDiscovery = 0, kPortScan, kService, kOs, kScript, kTraceroute, kOther };
inline constexpr int kPhaseCount = 7;
inline constexpr std::array<Phase, kPhaseCount> kAllPhases = {
    Phase::kDiscovery, Phase::kPortScan, Phase::kService, Phase::kOs,
    Phase::kScript,    Phase::kTraceroute, Phase::kOther};

/// The study's three phases (docs/method.md "Phases"), plus kOther for unattributed packets.
enum class PhaseGroup : uint8_t { kHorizontal = 0, kStrobe, kServices, kOther };
inline constexpr int kPhaseGroupCount = 4;

/// "discovery", "port-scan", "service", "os", "script", "traceroute", "other".
const char* phase_name(Phase p);
std::optional<Phase> parse_phase(std::string_view name);
/// "horizontal", "strobe", "services", "other".
const char* phase_group_name(PhaseGroup g);
/// discovery -> horizontal; port-scan -> strobe; service, os, script, traceroute -> services;
/// other -> other. (The paper folds -A's OS/script/traceroute work into "services".)
PhaseGroup phase_group(Phase p);

/// One phase interval in the capture's clock (seconds since the Unix epoch).
struct PhaseInterval {
  Phase phase = Phase::kOther;
  double start = 0;
  double end = 0;
  std::string label;  ///< what announced it, e.g. "SYN Stealth Scan"
};

/// How much later than its first packets a phase's announcement line may be stamped.
/// Nmap prints "Initiating <task>" as it starts sending; the line then crosses the PTY and
/// SSH before the runner stamps it (0.3–0.6 ms here; the runner subtracts the delay it
/// measures, runner/runner.cc), and Nmap itself may print it after its first probes. A
/// packet in a gap between intervals belongs to an interval that starts at most this
/// much later.
inline constexpr double kAnnouncementLag = 0.05;

/// Near a boundary between two timeline phases, the packet-shape classifier decides
/// between them (analyze.cc): within this many seconds of the boundary, a packet whose
/// shape is one of the two phases gets that phase. Measured in the lab: Nmap 7.80/7.93
/// traceroute probes left 0.5 ms before "Initiating Traceroute" arrived, 0.2–0.3 ms of
/// which the runner's line-latency correction explains.
inline constexpr double kBoundarySlack = 0.005;

/// The phases of one scan run, in time order. A time covered by no interval belongs to
/// an interval starting within kAnnouncementLag after it, else it is kOther; where
/// intervals overlap, the one that started last wins.
struct PhaseTimeline {
  double start = 0;  ///< scan start (0 = unknown)
  double end = 0;    ///< scan end (0 = unknown)
  std::string source;  ///< e.g. "nmap -v log"
  /// How far from a boundary the packet's shape decides between the two phases meeting
  /// there (kBoundarySlack unless the run says otherwise: under QEMU's TCG both the
  /// guest's console lines and its packets reach the host late, by different amounts of
  /// up to ~0.3 s). phases.json `boundary_slack_s`, written only when not the default.
  double boundary_slack = kBoundarySlack;
  std::vector<PhaseInterval> intervals;

  Phase phase_at(double t) const;
};

/// Reads a phases.json file (format: analysis/README.md). Errors name the file and field.
util::Result<PhaseTimeline> read_phase_timeline(const std::filesystem::path& path);
/// Same from the file's text; `name` stands for the file in messages.
util::Result<PhaseTimeline> parse_phase_timeline(std::string_view text, const std::string& name);
/// Writes phases.json atomically.
util::Status write_phase_timeline(const std::filesystem::path& path, const PhaseTimeline& tl);
/// JSON text of a timeline (what write_phase_timeline writes).
std::string phase_timeline_json(const PhaseTimeline& tl);

}  // namespace testbed::analysis
