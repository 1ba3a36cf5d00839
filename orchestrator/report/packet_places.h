#pragma once
// Every unique packet findable: which run's capture holds it, its frame number and time, a
// Wireshark display filter that matches it, its payload bytes (hex) and what they decode to.
// Rendered by every format (render_*.cc) for `testbed report` and `testbed analyze`.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/analysis/locate.h"

namespace testbed::report {

struct PacketPlaces {
  std::vector<std::string> runs;                  ///< per capture: the run ("7.80/1") or label
  std::vector<double> first_ts;                   ///< per capture: its first frame's time
  std::vector<analysis::LocatedPackets> located;  ///< per capture: unique key → first frame
  /// Where the unique key `k` of capture `c` is; nullptr when not located.
  const analysis::LocatedPacket* find(size_t c, const analysis::PacketKey& k) const;
};

/// Reads each capture of `r` once more and locates its unique packets (both Table 2
/// groupings). `runs`: what to call each capture (one per capture). A capture that cannot
/// be read again is left empty (its packets are then shown without a frame).
PacketPlaces locate_unique(const analysis::AnalysisResult& r, const std::vector<std::string>& runs);

/// A Wireshark/tshark display filter that matches the packet of key `k` in any capture:
/// addresses, IP length, protocol, destination port, TCP flags, and the first payload bytes.
std::string display_filter(const analysis::PacketKey& k, std::string_view payload);

/// A frame's time as exact epoch seconds with nine decimals ("1700000001.142000000").
std::string epoch_time(const analysis::LocatedPacket& at);

/// The payload bytes of a unique packet: the located frame's, else the analysis's store
/// (at most its payload_max bytes), else "".
std::string payload_of(const analysis::PacketKey& k, const analysis::LocatedPacket* at,
                       const analysis::PayloadStore& store);

}  // namespace testbed::report
