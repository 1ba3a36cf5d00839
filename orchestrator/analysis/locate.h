#pragma once
// Back from a packet key to a packet: the first frame of a capture whose key (as the analysis
// builds it, packet_key.h) is one of the wanted keys, with its frame number and time (so a
// reader can jump to it in Wireshark) and the header fields the key does not hold (ICMP type
// and code, the payload bytes). Used by the report (every unique packet findable) and by the
// IDS rules (ids/).
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "orchestrator/analysis/packet_key.h"
#include "orchestrator/util/result.h"

namespace testbed::analysis {

struct LocatedPacket {
  uint64_t frame = 0;  ///< 1-based frame number (Wireshark's "frame.number")
  int64_t sec = 0;     ///< capture time, epoch seconds …
  uint32_t nsec = 0;   ///< … and nanoseconds (a microsecond capture's times end in 000)
  double ts = 0;       ///< the same as a double (sub-microsecond digits lost)
  uint16_t sport = 0;  ///< TCP/UDP source port of that frame (not in the key: random per run)
  uint8_t icmp_type = 0, icmp_code = 0;
  uint32_t payload_len = 0;  ///< from the headers (Suricata's dsize)
  std::string payload;       ///< captured payload bytes
};

using LocatedPackets = std::unordered_map<PacketKey, LocatedPacket, PacketKeyHash>;

/// Reads `pcap` once and returns, per wanted key found, its first frame. `scanner` is the
/// address whose sent packets were keyed, `key_fields` the analysis's extra key fields.
util::Result<LocatedPackets> locate_packets(const std::filesystem::path& pcap,
                                            const IpAddr& scanner, uint32_t key_fields,
                                            const std::vector<PacketKey>& wanted);

}  // namespace testbed::analysis
