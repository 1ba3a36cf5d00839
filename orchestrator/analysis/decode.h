#pragma once
// Packet decoding: one captured frame -> the header fields the analysis uses.
// Pure functions over bytes (no libpcap types here), so they are easy to fuzz and test.
//
// Link types: Ethernet (incl. 802.1Q/QinQ tags), Linux cooked v1 (SLL) and v2 (SLL2),
// raw IP (DLT_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6), BSD loopback (DLT_NULL).
// Network: IPv4 (options skipped), IPv6 (extension headers skipped).
// Transport: TCP, UDP, ICMP, ICMPv6; any other IP protocol is "other".
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace testbed::analysis {

/// An IPv4 or IPv6 address. IPv4 is stored in bytes[0..3], the rest zero.
struct IpAddr {
  uint8_t family = 0;  ///< 0 = none, 4 or 6
  uint8_t bytes[16] = {};
  bool operator==(const IpAddr& o) const {  // inline: compared twice per packet
    return family == o.family && std::memcmp(bytes, o.bytes, 16) == 0;
  }
  bool empty() const { return family == 0; }
  std::string str() const;
  /// Parses a dotted quad or an IPv6 literal; family 0 on failure.
  static IpAddr parse(const std::string& s);
};

/// The Table 1 protocol classes. ICMP includes ICMPv6.
enum class ProtoClass : uint8_t { kIcmp = 0, kTcp = 1, kUdp = 2, kOther = 3 };
const char* proto_class_name(ProtoClass c);

/// How far decoding got. Every frame gets exactly one status.
enum class DecodeStatus : uint8_t {
  kOk = 0,             ///< all headers present; the payload may still be cut by snaplen
  kNotIp,              ///< link layer fine, but not IPv4/IPv6 (ARP, LLDP…)
  kTruncated,          ///< the capture cut a header (snaplen or a short frame)
  kMalformed,          ///< a header contradicts itself (bad version, IHL < 5, …)
  kUnsupportedLink,    ///< link type this decoder does not know
};
const char* decode_status_name(DecodeStatus s);

/// TCP flag bits as in the header's 13th byte.
enum TcpFlag : uint8_t {
  kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20, kEce = 0x40, kCwr = 0x80,
};
/// "SA", "R", "FPU" … (tcpdump letters: F S R P A U E C); "" for none.
std::string tcp_flags_str(uint8_t flags);

/// Decoded fields of one frame. `payload` points into the caller's frame buffer and is
/// only valid while that buffer is.
struct PacketInfo {
  DecodeStatus status = DecodeStatus::kUnsupportedLink;
  uint32_t wire_len = 0;        ///< on-the-wire frame length (pcap header `len`)
  uint32_t cap_len = 0;         ///< bytes captured (pcap header `caplen`)
  bool snaplen_cut = false;     ///< cap_len < wire_len
  // IP layer (valid when ip_version != 0: also set for kTruncated past the IP header)
  uint8_t ip_version = 0;
  uint8_t ip_proto = 0;         ///< IPv4 protocol / IPv6 final next header
  ProtoClass proto_class = ProtoClass::kOther;
  IpAddr src, dst;
  uint32_t ip_len = 0;          ///< IP datagram length from the IP header (v4 total length, v6 40+payload length)
  uint8_t ttl = 0;              ///< IPv4 TTL / IPv6 hop limit
  uint32_t ip_id = 0;           ///< IPv4 identification (IPv6: fragment id or 0)
  bool fragment = false;        ///< a non-first fragment: no transport header
  /// IPv4 or TCP options that break RFC 791 §3.1 / RFC 9293 §3.1 (an option length < 2 or
  /// running past the header). The frame still decodes; the options are skipped.
  bool bad_options = false;
  // transport (valid when status == kOk and not a non-first fragment)
  bool has_transport = false;
  uint16_t sport = 0, dport = 0;
  uint8_t tcp_flags = 0;
  uint16_t tcp_window = 0;
  uint8_t tcp_opt_len = 0;      ///< bytes of TCP options
  uint32_t tcp_opt_layout = 0;  ///< hash of the option kinds in order (Nmap's O1..O6 shape)
  uint8_t icmp_type = 0, icmp_code = 0;
  uint32_t icmp_rest = 0;       ///< ICMP bytes 4-7, big-endian (echo: identifier << 16 | sequence)
  const uint8_t* payload = nullptr;
  uint32_t payload_len = 0;     ///< transport payload length from the headers (may exceed captured)
  uint32_t payload_caplen = 0;  ///< payload bytes actually captured
};

/// Decodes one frame of `link_type` (a DLT_* value). Never reads past data+cap_len.
void decode_frame(int link_type, const uint8_t* data, uint32_t cap_len, uint32_t wire_len,
                  PacketInfo* out);

/// True when this decoder understands the DLT.
bool link_type_supported(int link_type);

}  // namespace testbed::analysis
