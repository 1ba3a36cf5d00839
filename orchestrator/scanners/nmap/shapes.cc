#include "orchestrator/scanners/nmap/shapes.h"

// xxHash compiled in (the same hash values as the library): the per-packet inputs are short
// and of fixed size, so the inlined code is a fraction of a library call.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace testbed::scanners::nmap {
using namespace testbed::analysis;

uint64_t ShapeClassifier::host_key(const IpAddr& a) {
  if (!(a == last_addr_)) {
    last_addr_ = a;
    last_key_ = XXH3_64bits(&a, sizeof a);
  }
  return last_key_;
}

namespace {
// Combines a flow-table key with a port. Keys only index the classifier's own tables, so
// any well-mixed 64-bit function does (collisions are as unlikely as XXH3's); this one is
// a multiply-xorshift finaliser (splitmix64's), a few instructions instead of a hash call.
inline uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t x = h ^ (v * 0x9e3779b97f4a7c15ull);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Nmap sends raw packets with a random TTL in [37, 59] unless --ttl is given; the kernel's
// own connections (version detection, NSE) use 64. Traceroute probes count up from 1.
bool is_traceroute_ttl(uint8_t ttl) { return ttl > 0 && ttl < 32; }

bool all_bytes(const PacketInfo& p, uint8_t b) {
  if (p.payload_caplen == 0) return false;
  for (uint32_t i = 0; i < p.payload_caplen; ++i)
    if (p.payload[i] != b) return false;
  return true;
}

bool payload_contains(const PacketInfo& p, std::string_view needle) {
  std::string_view s(reinterpret_cast<const char*>(p.payload), p.payload_caplen);
  return s.find(needle) != std::string_view::npos;
}
}  // namespace

Phase ShapeClassifier::classify_sent(const PacketInfo& p) {
  if (p.ip_version == 0) return Phase::kOther;
  if (is_traceroute_ttl(p.ttl)) return Phase::kTraceroute;
  if (p.status != DecodeStatus::kOk || !p.has_transport) return Phase::kOther;
  const uint8_t f = p.tcp_flags;
  switch (p.proto_class) {
    case ProtoClass::kIcmp: {
      bool echo = (p.ip_version == 4 && p.icmp_type == 8) || (p.ip_version == 6 && p.icmp_type == 128);
      // OS detection IE probes: echo with code 9 and 120 bytes, or 150 bytes of data.
      if (echo && (p.icmp_code != 0 || p.payload_len >= 100)) return Phase::kOs;
      if (echo) return Phase::kDiscovery;                          // -PE
      if (p.ip_version == 4 && (p.icmp_type == 13 || p.icmp_type == 17)) return Phase::kDiscovery;  // -PP, -PM
      if (p.ip_version == 6 && p.icmp_type == 135) return Phase::kDiscovery;  // neighbour solicitation
      return Phase::kOther;
    }
    case ProtoClass::kUdp:
      if (p.payload_len == 300 && all_bytes(p, 'C')) return Phase::kOs;  // OS probe U1
      if (p.dport == 53) return Phase::kDiscovery;  // reverse-DNS of the targets
      return after_os_ ? Phase::kScript : Phase::kService;
    case ProtoClass::kTcp: {
      // OS detection probe set (nmap.org/book/osdetect-methods.html).
      if ((f & kSyn) && (f & (kEce | kCwr))) return Phase::kOs;               // ECN
      if (f == 0) return Phase::kOs;                                            // T2
      if (f == (kSyn | kFin | kPsh | kUrg)) return Phase::kOs;                // T3
      if (f == (kFin | kPsh | kUrg)) return Phase::kOs;                       // T7
      if (f == kSyn) {
        uint16_t w = p.tcp_window;
        if (w == 31337 || ((w == 1 || w == 63 || w == 4 || w == 16 || w == 512) && p.tcp_opt_len > 4))
          return Phase::kOs;                                                    // SEQ, T5
        if (w == 1024 && p.tcp_opt_len == 4 && p.payload_len == 0) {           // raw SYN, MSS only
          uint32_t& n = raw_syns_[host_key(p.dst)];
          ++n;
          // Host discovery's -PS443 is the first raw SYN a host receives.
          return (n == 1 && p.dport == 443) ? Phase::kDiscovery : Phase::kPortScan;
        }
        if (w == 1024 || w == 2048 || w == 3072 || w == 4096) return Phase::kPortScan;
        return after_os_ ? Phase::kScript : Phase::kService;                   // a kernel connect()
      }
      if (f == kAck && p.payload_len == 0) {
        if (p.tcp_window == 32768 || (p.tcp_window == 1024 && p.tcp_opt_len > 4)) return Phase::kOs;  // T6, T4
        if (p.tcp_window == 1024 && p.tcp_opt_len == 0) return Phase::kDiscovery;  // -PA80
      }
      if (payload_contains(p, "Nmap Scripting Engine")) return Phase::kScript;
      return Phase::kOther;  // decided by the connection below
    }
    case ProtoClass::kOther:
      return Phase::kOther;
  }
  return Phase::kOther;
}

Phase ShapeClassifier::classify(const PacketInfo& p, bool sent) {
  if (p.ip_version == 0) return Phase::kOther;
  if (sent) {
    Phase ph = classify_sent(p);
    if (ph == Phase::kOs || ph == Phase::kTraceroute) after_os_ = true;
    uint64_t h = host_key(p.dst);
    const uint64_t port = mix(h, p.dport);
    if (p.has_transport && p.proto_class == ProtoClass::kTcp) {
      const uint64_t conn = mix(port, p.sport);  // not needed by most packets (port-scan SYNs)
      bool connect_syn = p.tcp_flags == kSyn && (ph == Phase::kService || ph == Phase::kScript);
      if (connect_syn) {
        by_conn_[conn] = ph;
      } else if (ph == Phase::kOther || (ph == Phase::kScript && p.payload_len > 0)) {
        // Later packets of a connection (ACK, data, FIN, RST) take the connection's phase;
        // NSE's user agent turns a connection into script traffic.
        if (Phase* c = by_conn_.find(conn)) {
          if (ph == Phase::kScript) *c = Phase::kScript;
          ph = *c;
        } else if (ph == Phase::kOther && p.payload_len > 0) {
          // Data on a connection whose SYN we did not see: version detection or NSE.
          ph = after_os_ ? Phase::kScript : Phase::kService;
        } else if (ph == Phase::kOther) {
          // A raw RST answering a SYN/ACK of the port scan, or a stray segment.
          if (const Phase* pt = by_port_.find(port)) ph = *pt;
          else if (const Phase* ht = by_host_.find(h)) ph = *ht;
        }
      }
    }
    if (ph != Phase::kOther) {
      // Port-scan probes are most of a capture and one per host:port: they are not stored
      // per port (memory stays bounded by hosts); a miss falls back to the host's phase.
      if (ph != Phase::kPortScan) by_port_[port] = ph;
      else if (!by_port_.empty()) by_port_.erase(port);
      if (!last_host_valid_ || last_host_ != h || last_host_phase_ != ph) {
        by_host_[h] = ph;
        last_host_ = h;
        last_host_phase_ = ph;
        last_host_valid_ = true;
      }
    }
    return ph;
  }
  // Received: the phase of what the scanner last sent to that host/port.
  uint64_t h = host_key(p.src);
  if (p.has_transport && (p.proto_class == ProtoClass::kTcp || p.proto_class == ProtoClass::kUdp)) {
    uint64_t port = mix(h, p.sport);
    if (const Phase* c = by_conn_.find(mix(port, p.dport))) return *c;
    if (const Phase* pt = by_port_.find(port)) return *pt;
  }
  const Phase* ht = by_host_.find(h);
  return ht ? *ht : Phase::kOther;
}

std::unique_ptr<analysis::ShapeClassifier> make_classifier() {
  return std::make_unique<ShapeClassifier>();
}

}  // namespace testbed::scanners::nmap
