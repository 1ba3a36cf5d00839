#pragma once
// One Suricata rule for one version-unique packet: the fields testbed knows about the packet
// (its key and the first frame that has it) and the rule text Suricata reads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace testbed::ids {

/// What a rule matches and where its packet came from. Fields not set are not matched.
struct RuleSpec {
  uint32_t sid = 0;
  std::string version;      ///< scanner label the packet is unique to, e.g. "7.80"
  std::string phase;        ///< fine phase name ("port-scan", "script", …)
  std::string run;          ///< run where the packet was found, e.g. "7.80/1"
  uint64_t frame = 0;       ///< 1-based frame number in that run's capture.pcap (Wireshark's)
  std::string key;          ///< the packet key, as text (metadata)
  uint8_t family = 4;       ///< 4 or 6
  uint8_t proto = 6;        ///< IP protocol number
  std::string dst;          ///< destination address ("" = any)
  uint16_t dport = 0;       ///< TCP/UDP destination port
  uint8_t tcp_flags = 0;    ///< TCP flags (exact match)
  uint32_t ip_len = 0;      ///< IPv4 total length (ipv4.hdr bytes 2-3); 0 = not matched
  uint32_t dsize = 0;       ///< transport payload size (the smallest when dsize_max is set)
  uint32_t dsize_max = 0;   ///< > dsize: a range (the version's runs vary in length)
  std::optional<uint8_t> icmp_type, icmp_code;
  std::string content;      ///< distinguishing payload bytes (raw), "" = none
  uint32_t offset = 0;      ///< where `content` starts in the payload
  bool anchored = true;     ///< content at offset/depth; else anywhere in the payload
};

/// The body of a Suricata `content:"…"` for raw bytes: printable ASCII as is, except `"`,
/// `;`, `\` and `|`; those, every byte outside 0x20–0x7e and so every byte of non-UTF-8 or
/// multi-byte text as `|hh hh|` (one hex block per run of such bytes).
std::string content_escape(std::string_view bytes);

/// `msg` text: "testbed: Nmap <version> <phase> unique packet (<proto> <dst>:<port> …)".
std::string rule_msg(const RuleSpec& r);

/// The complete rule on one line (no newline): alert <proto> any any -> <dst> <port> (…).
std::string rule_text(const RuleSpec& r);

/// Suricata's protocol word for an IP protocol number: tcp, udp, icmp, ip (ICMPv6: icmp).
std::string rule_proto(uint8_t proto);

}  // namespace testbed::ids
