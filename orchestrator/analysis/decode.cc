#include "orchestrator/analysis/decode.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace testbed::analysis {
namespace {

// DLT values (pcap/dlt.h); spelled out so this file needs no libpcap header.
constexpr int kDltNull = 0, kDltEn10mb = 1, kDltRaw = 12, kDltRawOpenBsd = 14,
              kLinktypeRaw = 101, kDltLoop = 108, kDltLinuxSll = 113, kDltIpv4 = 228,
              kDltIpv6 = 229, kDltLinuxSll2 = 276;

inline uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// IPv4 (RFC 791 §3.1) and TCP (RFC 9293 §3.1) options share one shape: kind 0 ends the
// list, kind 1 is one byte, every other kind has a length byte counting kind and length.
bool options_well_formed(const uint8_t* o, uint32_t n) {
  for (uint32_t i = 0; i < n;) {
    if (o[i] == 0) return true;
    if (o[i] == 1) { ++i; continue; }
    if (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i) return false;
    i += o[i + 1];
  }
  return true;
}

// Decodes TCP/UDP/ICMP starting at `l4`, with `l4_cap` bytes captured of `l4_len`
// announced by the IP header.
void decode_transport(const uint8_t* l4, uint32_t l4_cap, uint32_t l4_len, PacketInfo* p) {
  switch (p->ip_proto) {
    case 6: {  // TCP, RFC 9293 §3.1
      p->proto_class = ProtoClass::kTcp;
      if (l4_len < 20) { p->status = DecodeStatus::kMalformed; return; }
      if (l4_cap < 20) { p->status = DecodeStatus::kTruncated; return; }
      uint32_t hlen = (l4[12] >> 4) * 4u;
      if (hlen < 20 || hlen > l4_len) { p->status = DecodeStatus::kMalformed; return; }
      if (l4_cap < hlen) { p->status = DecodeStatus::kTruncated; return; }
      p->sport = be16(l4);
      p->dport = be16(l4 + 2);
      p->tcp_flags = l4[13];
      p->tcp_window = be16(l4 + 14);
      p->tcp_opt_len = uint8_t(hlen - 20);
      // Option layout: FNV-1a over the kinds in order (and MSS/WS values are *not*
      // included: the layout is what distinguishes Nmap's probe templates).
      uint32_t h = 2166136261u;
      for (uint32_t i = 20; i < hlen;) {
        uint8_t kind = l4[i];
        h = (h ^ kind) * 16777619u;
        if (kind == 0) break;
        if (kind == 1) { ++i; continue; }
        if (i + 1 >= hlen || l4[i + 1] < 2) break;  // bad option length: stop, keep what we have
        i += l4[i + 1];
      }
      p->tcp_opt_layout = p->tcp_opt_len ? h : 0;
      if (!options_well_formed(l4 + 20, hlen - 20)) p->bad_options = true;
      p->has_transport = true;
      p->payload = l4 + hlen;
      p->payload_len = l4_len - hlen;
      p->payload_caplen = l4_cap - hlen;
      return;
    }
    case 17: {  // UDP, RFC 768
      p->proto_class = ProtoClass::kUdp;
      if (l4_len < 8) { p->status = DecodeStatus::kMalformed; return; }
      if (l4_cap < 8) { p->status = DecodeStatus::kTruncated; return; }
      p->sport = be16(l4);
      p->dport = be16(l4 + 2);
      p->has_transport = true;
      p->payload = l4 + 8;
      p->payload_len = l4_len - 8;
      p->payload_caplen = l4_cap - 8;
      return;
    }
    case 1:
    case 58: {  // ICMP (RFC 792) / ICMPv6 (RFC 4443): 4-byte header + 4 bytes of rest-of-header
      p->proto_class = ProtoClass::kIcmp;
      if (l4_len < 8) { p->status = DecodeStatus::kMalformed; return; }
      if (l4_cap < 8) { p->status = DecodeStatus::kTruncated; return; }
      p->icmp_type = l4[0];
      p->icmp_code = l4[1];
      p->icmp_rest = uint32_t(be16(l4 + 4)) << 16 | be16(l4 + 6);
      p->has_transport = true;
      p->payload = l4 + 8;
      p->payload_len = l4_len - 8;
      p->payload_caplen = l4_cap - 8;
      return;
    }
    default:
      p->proto_class = ProtoClass::kOther;
      p->payload = l4;
      p->payload_len = l4_len;
      p->payload_caplen = l4_cap;
      return;
  }
}

void decode_ipv4(const uint8_t* d, uint32_t cap, PacketInfo* p) {
  if (cap < 20) { p->status = DecodeStatus::kTruncated; return; }
  if ((d[0] >> 4) != 4) { p->status = DecodeStatus::kMalformed; return; }
  uint32_t ihl = (d[0] & 0x0f) * 4u;
  uint32_t total = be16(d + 2);
  if (ihl < 20) { p->status = DecodeStatus::kMalformed; return; }
  p->ip_version = 4;
  p->ip_proto = d[9];
  p->ttl = d[8];
  p->ip_id = be16(d + 4);
  p->src.family = p->dst.family = 4;
  std::memcpy(p->src.bytes, d + 12, 4);
  std::memcpy(p->dst.bytes, d + 16, 4);
  p->proto_class = d[9] == 6 ? ProtoClass::kTcp : d[9] == 17 ? ProtoClass::kUdp
                 : d[9] == 1 ? ProtoClass::kIcmp : ProtoClass::kOther;
  // Segmentation offload on the capturing host can leave total length 0: use the frame.
  if (total == 0) total = std::max<uint32_t>(cap, ihl);
  p->ip_len = total;
  if (total < ihl) { p->status = DecodeStatus::kMalformed; return; }
  if (cap < ihl) { p->status = DecodeStatus::kTruncated; return; }
  if (ihl > 20 && !options_well_formed(d + 20, ihl - 20)) p->bad_options = true;
  uint16_t frag = be16(d + 6);
  p->status = DecodeStatus::kOk;
  if ((frag & 0x1fff) != 0) {  // a non-first fragment carries no transport header
    p->fragment = true;
    p->payload = d + ihl;
    p->payload_len = total - ihl;
    p->payload_caplen = std::min(cap, total) - ihl;
    return;
  }
  uint32_t l4_cap = std::min(cap, total) - ihl;  // min() drops Ethernet padding
  decode_transport(d + ihl, l4_cap, total - ihl, p);
}

void decode_ipv6(const uint8_t* d, uint32_t cap, PacketInfo* p) {
  if (cap < 40) { p->status = DecodeStatus::kTruncated; return; }
  if ((d[0] >> 4) != 6) { p->status = DecodeStatus::kMalformed; return; }
  uint32_t total = 40u + be16(d + 4);
  p->ip_version = 6;
  p->ttl = d[7];
  p->ip_len = total;
  p->src.family = p->dst.family = 6;
  std::memcpy(p->src.bytes, d + 8, 16);
  std::memcpy(p->dst.bytes, d + 24, 16);
  uint32_t end = std::min(cap, total);
  uint32_t off = 40;
  uint8_t nh = d[6];
  // Skip extension headers (RFC 8200 §4) until an upper-layer protocol.
  for (int guard = 0; guard < 16; ++guard) {
    bool ext = nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 || nh == 135 ||
               nh == 139 || nh == 140;
    if (!ext) break;
    if (off + 8 > end) {
      p->ip_proto = nh;
      p->status = off + 8 > total ? DecodeStatus::kMalformed : DecodeStatus::kTruncated;
      return;
    }
    uint32_t len;
    if (nh == 44) {  // fragment header: fixed 8 bytes
      uint16_t fo = be16(d + off + 2);
      p->ip_id = be32(d + off + 4);
      if ((fo & 0xfff8) != 0) p->fragment = true;
      len = 8;
    } else if (nh == 51) {
      len = (d[off + 1] + 2u) * 4u;
    } else {
      len = (d[off + 1] + 1u) * 8u;
    }
    nh = d[off];
    off += len;
  }
  p->ip_proto = nh;
  p->proto_class = nh == 6 ? ProtoClass::kTcp : nh == 17 ? ProtoClass::kUdp
                 : nh == 58 ? ProtoClass::kIcmp : ProtoClass::kOther;
  if (off > total) { p->status = DecodeStatus::kMalformed; return; }
  if (off > end) { p->status = DecodeStatus::kTruncated; return; }
  p->status = DecodeStatus::kOk;
  if (p->fragment) {
    p->payload = d + off;
    p->payload_len = total - off;
    p->payload_caplen = end - off;
    return;
  }
  decode_transport(d + off, end - off, total - off, p);
}

void decode_ip(const uint8_t* d, uint32_t cap, PacketInfo* p) {
  if (cap < 1) { p->status = DecodeStatus::kTruncated; return; }
  switch (d[0] >> 4) {
    case 4: decode_ipv4(d, cap, p); return;
    case 6: decode_ipv6(d, cap, p); return;
    default: p->status = DecodeStatus::kMalformed; return;
  }
}

void decode_ethertype(uint16_t type, const uint8_t* d, uint32_t cap, PacketInfo* p) {
  if (type == 0x0800) decode_ipv4(d, cap, p);
  else if (type == 0x86dd) decode_ipv6(d, cap, p);
  else p->status = DecodeStatus::kNotIp;
}

}  // namespace

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (family == 4) inet_ntop(AF_INET, bytes, buf, sizeof buf);
  else if (family == 6) inet_ntop(AF_INET6, bytes, buf, sizeof buf);
  return buf;
}

IpAddr IpAddr::parse(const std::string& s) {
  IpAddr a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes) == 1) a.family = 4;
  else if (inet_pton(AF_INET6, s.c_str(), a.bytes) == 1) a.family = 6;
  else a = IpAddr{};
  return a;
}

const char* proto_class_name(ProtoClass c) {
  switch (c) {
    case ProtoClass::kIcmp: return "ICMP";
    case ProtoClass::kTcp: return "TCP";
    case ProtoClass::kUdp: return "UDP";
    case ProtoClass::kOther: return "other";
  }
  return "?";
}

const char* decode_status_name(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kOk: return "ok";
    case DecodeStatus::kNotIp: return "not-ip";
    case DecodeStatus::kTruncated: return "truncated";
    case DecodeStatus::kMalformed: return "malformed";
    case DecodeStatus::kUnsupportedLink: return "unsupported-link";
  }
  return "?";
}

std::string tcp_flags_str(uint8_t f) {
  static const char kLetters[] = "FSRPAUEC";
  std::string s;
  for (int i = 0; i < 8; ++i)
    if (f & (1u << i)) s += kLetters[i];
  return s;
}

bool link_type_supported(int lt) {
  switch (lt) {
    case kDltNull: case kDltEn10mb: case kDltRaw: case kDltRawOpenBsd: case kLinktypeRaw:
    case kDltLoop: case kDltLinuxSll: case kDltIpv4: case kDltIpv6: case kDltLinuxSll2:
      return true;
    default:
      return false;
  }
}

void decode_frame(int lt, const uint8_t* d, uint32_t cap, uint32_t wire, PacketInfo* p) {
  *p = PacketInfo{};
  p->wire_len = wire;
  p->cap_len = cap;
  p->snaplen_cut = cap < wire;
  switch (lt) {
    case kDltEn10mb: {
      if (cap < 14) { p->status = DecodeStatus::kTruncated; return; }
      uint32_t off = 12;
      uint16_t type = be16(d + off);
      // 802.1Q / 802.1ad tags (at most two, QinQ).
      for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8); ++i) {
        off += 4;
        if (cap < off + 2) { p->status = DecodeStatus::kTruncated; return; }
        type = be16(d + off);
      }
      off += 2;
      decode_ethertype(type, d + off, cap - off, p);
      return;
    }
    case kDltLinuxSll:  // 16-byte header, protocol in the last two bytes
      if (cap < 16) { p->status = DecodeStatus::kTruncated; return; }
      decode_ethertype(be16(d + 14), d + 16, cap - 16, p);
      return;
    case kDltLinuxSll2:  // 20-byte header, protocol first
      if (cap < 20) { p->status = DecodeStatus::kTruncated; return; }
      decode_ethertype(be16(d), d + 20, cap - 20, p);
      return;
    case kDltNull:
    case kDltLoop:  // 4-byte address family (byte order varies): the IP version nibble decides
      if (cap < 4) { p->status = DecodeStatus::kTruncated; return; }
      if (cap > 4 && (d[4] >> 4) != 4 && (d[4] >> 4) != 6) { p->status = DecodeStatus::kNotIp; return; }
      decode_ip(d + 4, cap - 4, p);
      return;
    case kDltRaw:
    case kDltRawOpenBsd:
    case kLinktypeRaw:
    case kDltIpv4:
    case kDltIpv6:
      decode_ip(d, cap, p);
      return;
    default:
      p->status = DecodeStatus::kUnsupportedLink;
      return;
  }
}

}  // namespace testbed::analysis
