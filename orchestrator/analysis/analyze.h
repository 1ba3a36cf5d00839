#pragma once
// The analysis entry point: captures (one per scanner version / run) -> Table 1 per input,
// phase attribution, deduplicated packet keys per phase, unique sets (Table 2), port usage.
// Streams each capture once (twice only when the auto-detected scanner changes after the
// first 100,000 packets); memory is the deduplicated keys, not the packets.
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/analysis/capture_file.h"
#include "orchestrator/analysis/decode.h"
#include "orchestrator/analysis/packet_key.h"
#include "orchestrator/analysis/phases.h"
#include "orchestrator/analysis/scanner_model.h"
#include "orchestrator/analysis/unique.h"
#include "orchestrator/util/result.h"

namespace testbed::analysis {

/// One capture to analyse. Optional files are read when given (a bad one is an error).
struct CaptureInput {
  std::string label;                                ///< column name, e.g. "7.80"
  std::filesystem::path pcap;                       ///< pcap or pcapng
  std::optional<std::filesystem::path> phases_json; ///< timeline (analysis/README.md)
  std::optional<std::filesystem::path> result_file; ///< the scanner's result file (nmap -oX, …)
  std::optional<std::filesystem::path> console_log; ///< "<epoch> <line>" log; used for the
                                                    ///< timeline when phases_json is absent
  /// The scanner kind (scanners::find_kind(...)->model): reads result_file and console_log
  /// and attributes packets by shape. Null: no result file or log may be given, and
  /// without a timeline every packet is phase "other".
  const ScannerModel* kind = nullptr;
};

struct AnalysisOptions {
  uint32_t key_fields = 0;                ///< extra KeyField bits (0 = the study's key)
  std::optional<IpAddr> scanner;          ///< override the auto-detected scanner address
  SimilarityOptions similarity;
  /// Payload bytes kept for previews and the similarity rule (per payload / in total).
  size_t payload_max = 2048;
  size_t payload_budget = 64u << 20;
  /// Which records of each capture are analysed (a BPF read filter, a time window);
  /// records outside are skipped before anything counts them. Default: all.
  ReadFilter read;
};

/// Packets and bytes (on-the-wire frame length, pcap header `len`) by protocol class.
struct TrafficCounts {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  std::array<uint64_t, 4> by_proto{};  ///< indexed by ProtoClass
  void add(const PacketInfo& p) {
    ++packets;
    bytes += p.wire_len;
    ++by_proto[static_cast<int>(p.proto_class)];
  }
};

/// How many frames decoded how far (every frame is in exactly one of the first five).
struct DecodeCounts {
  uint64_t frames = 0;
  uint64_t ok = 0, not_ip = 0, truncated = 0, malformed = 0, unsupported_link = 0;
  uint64_t snaplen_cut = 0;  ///< frames shorter than on the wire (any status)
  uint64_t bad_options = 0;  ///< frames with malformed IPv4/TCP options (PacketInfo::bad_options)
};

/// Timeline vs classifier on the scanner's sent packets.
struct PhaseAgreement {
  bool available = false;  ///< both a timeline and the classifier ran
  uint64_t compared = 0, agreed = 0;
  /// Sent packets within kBoundarySlack of a phase boundary that took their shape's phase.
  uint64_t boundary_by_shape = 0;
  /// [timeline phase][classifier phase] packet counts.
  std::array<std::array<uint64_t, kPhaseCount>, kPhaseCount> confusion{};
};

/// Everything measured on one capture.
struct CaptureAnalysis {
  CaptureInput input;
  int link_type = 0;
  std::string link_type_name;
  IpAddr scanner;
  bool scanner_auto = true;
  uint32_t scanner_distinct_ports = 0;  ///< distinct destination ports the scanner sent to
  double first_ts = 0, last_ts = 0;     ///< capture span (epoch seconds)
  double duration = 0;                  ///< the scanner's elapsed from its result file, else span
  std::string duration_source;          ///< the kind's result_source ("nmap-xml") or "capture"
  TrafficCounts sent, received;         ///< src == scanner / dst == scanner
  uint64_t unrelated_ip = 0;            ///< IP packets neither from nor to the scanner
  DecodeCounts decode;
  /// libpcap's message when the file ends inside a record: the records before the cut are
  /// analysed (as tshark does) and analyze_capture() warns. Empty for a whole file.
  std::string cut_short;
  std::optional<ScanResult> result;    ///< from input.result_file
  std::optional<PhaseTimeline> timeline;
  std::string phase_source;             ///< "timeline" or "classifier"
  std::array<TrafficCounts, kPhaseCount> sent_by_phase, received_by_phase;
  PhaseAgreement agreement;
  /// Deduplicated keys of the scanner's sent packets, by fine phase (the sets P_n).
  std::array<PacketKeySet, kPhaseCount> sent_keys;
  /// Port-scan phase: (IP protocol, destination port) -> sent packets (the study's Fig. 2).
  std::map<std::pair<uint8_t, uint16_t>, uint64_t> port_usage;

  /// Union of the fine-phase sets of one group (horizontal/strobe/services/other).
  PacketKeySet group_keys(PhaseGroup g) const;
};

/// Table 2 for one grouping: rows = phases, columns = inputs.
struct UniqueTable {
  std::string grouping;                 ///< "three-phase" or "fine"
  std::vector<std::string> rows;        ///< phase or group names
  std::vector<size_t> common;           ///< |P_1 ∩ … ∩ P_k| per row
  std::vector<std::vector<UniqueSetResult>> cells;  ///< [row][input]
};

struct AnalysisResult {
  AnalysisOptions options;
  std::vector<CaptureAnalysis> captures;
  std::shared_ptr<PayloadStore> payloads;  ///< payload bytes of all sent keys
  UniqueTable three_phase;                 ///< the study's Table 2
  UniqueTable fine;                        ///< Table 2 by fine phase
};

/// Analyses one capture, adding its sent payloads to `payloads`. Fails (never crashes) on
/// unreadable files, unsupported link types, bad phases.json / XML.
util::Result<CaptureAnalysis> analyze_capture(const CaptureInput& input, const AnalysisOptions& opts,
                                              PayloadStore& payloads);

/// Table 2 over any subset of analysed captures (e.g. two repetitions of one version for a
/// noise floor). `grouped`: the study's three phases, else the fine phases.
UniqueTable unique_table(const std::vector<const CaptureAnalysis*>& captures, bool grouped,
                         const PayloadStore& payloads, const SimilarityOptions& opts);

/// Analyses every input and computes both Table 2 variants. Labels must be unique.
util::Result<AnalysisResult> analyze(const std::vector<CaptureInput>& inputs, const AnalysisOptions& opts);

/// How many unique packets per phase and capture the Markdown/HTML outputs list by default,
/// in `testbed analyze` and `testbed report` alike (CSV and report.json list all). The
/// outputs themselves are rendered by the report module (orchestrator/report/render.h).
inline constexpr size_t kDefaultUniqueLimit = 100;

}  // namespace testbed::analysis
