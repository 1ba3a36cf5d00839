#pragma once
// Scan phases: the fine phases of an Nmap -A run, the study's three-phase grouping,
// phase timelines (phases.json) built from Nmap's -v output, and a packet-level
// classifier that recognises Nmap's documented probe shapes.
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

/// Turns Nmap's -v console lines, each stamped with the host clock when it arrived, into a
/// PhaseTimeline. Recognises "Initiating <task> at HH:MM", "Completed <task> at …",
/// "Retrying OS detection", "NSE: Script scanning …". Feed lines in arrival order.
class NmapLogPhaseTracker {
 public:
  /// One console line (no trailing newline needed) seen at `epoch_ts`.
  void on_line(double epoch_ts, std::string_view line);
  /// The intervals so far; an interval still open ends at the last line's time.
  /// start/end are the first/last line times (the runner may overwrite them).
  PhaseTimeline timeline() const;
  /// Name of the phase the latest lines announced ("" before the first, "other" between).
  std::string current_phase() const;

  /// The phase a task name from "Initiating <task>" belongs to, e.g. "SYN Stealth Scan" ->
  /// port-scan, "Ping Scan" -> discovery; kOther when unknown.
  static Phase phase_of_task(std::string_view task);

 private:
  void open(double ts, Phase p, std::string label);
  void close(double ts);
  std::vector<PhaseInterval> done_;
  std::optional<PhaseInterval> open_;
  double first_ts_ = 0, last_ts_ = 0;
  bool any_ = false;
  bool announced_ = false;
};

/// Reads an nmap.log written as "<epoch seconds> <line>" per line (the runner's format)
/// and replays it through NmapLogPhaseTracker.
util::Result<PhaseTimeline> timeline_from_nmap_log(const std::filesystem::path& path);
/// Same from the log's text; `name` stands for the file in messages.
util::Result<PhaseTimeline> parse_nmap_log(std::string_view text, const std::string& name);

/// Attributes packets to phases from their shape alone (no timeline), following Nmap's
/// documented probes (nmap.org/book: host discovery, SYN scan, OS detection probe set,
/// version detection, NSE, traceroute). Stateful: feed packets in capture order.
/// The rules are listed in analysis/README.md.
class PhaseClassifier {
 public:
  /// `sent`: the packet comes from the scanner; otherwise it is addressed to it.
  Phase classify(const PacketInfo& p, bool sent);

 private:
  Phase classify_sent(const PacketInfo& p);
  uint64_t host_key(const IpAddr& a);
  // Keys are well-mixed 64-bit values (host_key's XXH3, mixed with ports): flat maps.
  FlatU64Map<Phase> by_port_;       // (remote host, remote port) -> phase
  FlatU64Map<Phase> by_conn_;       // (remote host, remote port, local port) -> phase
  FlatU64Map<Phase> by_host_;       // remote host -> last phase
  FlatU64Map<uint32_t> raw_syns_;   // remote host -> raw SYN probes so far
  bool after_os_ = false;     // OS/traceroute probes seen: later connect traffic is NSE
  IpAddr last_addr_;          // host_key() cache: consecutive packets share hosts
  uint64_t last_key_ = 0;
  uint64_t last_host_ = 0;    // by_host_ write cache
  Phase last_host_phase_ = Phase::kOther;
  bool last_host_valid_ = false;
};

}  // namespace testbed::analysis
