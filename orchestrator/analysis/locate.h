#pragma once
// Back from a packet key to a packet: the first frame of a capture whose key (as the analysis
// builds it, analysis/packet_key.h) is one of the wanted keys, with the header fields a rule
// needs that the key does not hold (ICMP type and code, the payload bytes).
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "orchestrator/analysis/packet_key.h"
#include "orchestrator/util/result.h"

namespace testbed::ids {

struct LocatedPacket {
  uint64_t frame = 0;  ///< 1-based frame number (Wireshark's "frame.number")
  uint8_t icmp_type = 0, icmp_code = 0;
  uint32_t payload_len = 0;  ///< from the headers (Suricata's dsize)
  std::string payload;       ///< captured payload bytes
};

/// Reads `pcap` once and returns, per wanted key found, its first frame. `scanner` is the
/// address whose sent packets were keyed, `key_fields` the analysis's extra key fields.
util::Result<std::unordered_map<analysis::PacketKey, LocatedPacket, analysis::PacketKeyHash>>
locate_packets(const std::filesystem::path& pcap, const analysis::IpAddr& scanner,
               uint32_t key_fields, const std::vector<analysis::PacketKey>& wanted);

}  // namespace testbed::ids
