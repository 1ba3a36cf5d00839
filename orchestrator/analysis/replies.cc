#include "orchestrator/analysis/replies.h"

#include <pcap/dlt.h>

namespace testbed::analysis {
namespace {

/// The ICMP request type whose reply type is `t` (0 when `t` is no reply).
uint8_t request_of_reply(uint8_t family, uint8_t t) {
  if (family == 6) return t == 129 ? 128 : 0;  // ICMPv6 echo reply
  switch (t) {
    case 0: return 8;    // echo
    case 14: return 13;  // timestamp
    case 16: return 15;  // information
    case 18: return 17;  // address mask
    default: return 0;
  }
}

bool is_request(uint8_t family, uint8_t t) {
  return family == 6 ? t == 128 : (t == 8 || t == 13 || t == 15 || t == 17);
}

bool is_error(uint8_t family, uint8_t t) {
  return family == 6 ? t < 128 : (t == 3 || t == 4 || t == 5 || t == 11 || t == 12);
}

/// One conversation: protocol, the probe's destination, and its ports or ICMP request type,
/// identifier and sequence number.
std::string key(uint8_t proto, const IpAddr& target, uint32_t a, uint32_t b) {
  std::string k(1, char(proto));
  k.append(reinterpret_cast<const char*>(&target), sizeof target);
  k.append(reinterpret_cast<const char*>(&a), sizeof a);
  k.append(reinterpret_cast<const char*>(&b), sizeof b);
  return k;
}

/// The key of probe `p` as the scanner sent it ("" when it opens no conversation).
std::string probe_key(const PacketInfo& p) {
  if (!p.has_transport) return "";
  if (p.ip_proto == 6 || p.ip_proto == 17) return key(p.ip_proto, p.dst, p.sport, p.dport);
  if ((p.ip_proto == 1 || p.ip_proto == 58) && is_request(p.ip_version, p.icmp_type))
    return key(p.ip_proto, p.dst, p.icmp_type, p.icmp_rest);
  return "";
}

}  // namespace

void ReplyMatcher::add_probe(const PacketInfo& p) {
  if (std::string k = probe_key(p); !k.empty()) probes_.insert(std::move(k));
}

bool ReplyMatcher::answers(const PacketInfo& p) const {
  if (probes_.empty() || !p.has_transport || !(p.dst == scanner_)) return false;
  if (p.ip_proto == 6 || p.ip_proto == 17)
    return probes_.contains(key(p.ip_proto, p.src, p.dport, p.sport));
  if (p.ip_proto != 1 && p.ip_proto != 58) return false;
  if (uint8_t req = request_of_reply(p.ip_version, p.icmp_type))
    return probes_.contains(key(p.ip_proto, p.src, req, p.icmp_rest));
  if (!is_error(p.ip_version, p.icmp_type)) return false;
  // The quoted datagram: the probe's IP header and at least its first 8 transport bytes.
  PacketInfo q;
  decode_frame(DLT_RAW, p.payload, p.payload_caplen, p.payload_len, &q);
  if (q.ip_version == 0 || !(q.src == scanner_)) return false;
  if (q.has_transport) return probes_.contains(probe_key(q));
  return false;
}

}  // namespace testbed::analysis
