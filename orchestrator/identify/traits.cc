// Trait extraction: the scanner's address, then its sent packets as traits (traits.h).
#include "orchestrator/identify/traits.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include <fmt/format.h>
#include <xxhash.h>

#include "orchestrator/identify/capture_reader.h"

namespace testbed::identify {
namespace {

using analysis::IpAddr;
using analysis::PacketInfo;

std::string addr_key(const IpAddr& a) {
  return std::string(reinterpret_cast<const char*>(a.bytes), a.family == 4 ? 4 : 16) + char(a.family);
}

// The source that sends to the most distinct (destination, port) pairs; ties: more packets.
util::Result<IpAddr> detect_scanner(const std::filesystem::path& pcap) {
  struct Stats {
    IpAddr addr;
    std::unordered_set<uint64_t> targets;
    uint64_t packets = 0;
  };
  std::unordered_map<std::string, Stats> by_src;
  auto st = for_each_frame(pcap, [&](uint64_t, const PacketInfo& p) {
    if (p.ip_version == 0 || p.src.empty()) return;
    Stats& s = by_src[addr_key(p.src)];
    s.addr = p.src;
    ++s.packets;
    if (s.targets.size() < 200000) {
      uint64_t h = XXH3_64bits(p.dst.bytes, 16) ^ (uint64_t(p.dport) << 48) ^ p.ip_proto;
      s.targets.insert(h);
    }
  });
  if (!st) return st.error();
  const Stats* best = nullptr;
  for (auto& [k, s] : by_src)
    if (!best || s.targets.size() > best->targets.size() ||
        (s.targets.size() == best->targets.size() && s.packets > best->packets))
      best = &s;
  if (!best) return util::fail("{}: no scanner found (no IP packet in the capture)", pcap.string());
  return best->addr;
}

std::string flags_or_none(uint8_t f) {
  std::string s = analysis::tcp_flags_str(f);
  return s.empty() ? "none" : s;
}

// TCP options with the values that are templates, not state: MSS, window scale, and the
// timestamp value only when it is 0 or all ones (Nmap's OS probes).
std::string tcp_options(const PacketInfo& p) {
  if (!p.has_transport || p.tcp_opt_len == 0) return "-";
  const uint8_t* o = p.payload - p.tcp_opt_len;
  const uint32_t n = p.tcp_opt_len;
  std::string s;
  for (uint32_t i = 0; i < n;) {
    const uint8_t kind = o[i];
    if (kind == 0) { s += "E,"; break; }
    if (kind == 1) { s += "N,"; ++i; continue; }
    if (i + 1 >= n || o[i + 1] < 2 || o[i + 1] > n - i) { s += "bad"; break; }
    const uint8_t len = o[i + 1];
    if (kind == 2 && len == 4) s += fmt::format("M{},", o[i + 2] << 8 | o[i + 3]);
    else if (kind == 3 && len == 3) s += fmt::format("W{},", o[i + 2]);
    else if (kind == 4) s += "S,";
    else if (kind == 8 && len == 10) {
      uint32_t tsval = uint32_t(o[i + 2]) << 24 | uint32_t(o[i + 3]) << 16 | uint32_t(o[i + 4]) << 8 | o[i + 5];
      s += tsval == 0 ? "T0," : tsval == 0xffffffffu ? "Tmax," : "T,";
    } else s += fmt::format("K{},", kind);
    i += len;
  }
  if (!s.empty() && s.back() == ',') s.pop_back();
  return s;
}

std::string ttl_class(uint8_t ttl) {
  if (ttl < 32) return "low";
  return ttl <= 64 ? "64" : ttl <= 128 ? "128" : "255";
}

std::string short_hash(const uint8_t* d, size_t n) {
  return fmt::format("{:08x}", uint32_t(XXH3_64bits(d, n)));
}

// DNS query: qtype of the first question (the name names the lab).
std::string dns_token(const PacketInfo& p) {
  const uint8_t* d = p.payload;
  size_t n = p.payload_caplen, i = 12;
  if (n < 12) return "dns short";
  while (i < n && d[i] != 0 && d[i] < 64) i += 1 + d[i];
  if (i + 3 > n) return fmt::format("dns flags={:02x}{:02x}", d[2], d[3]);
  return fmt::format("dns flags={:02x}{:02x} qd={} qtype={}", d[2], d[3], d[5], d[i + 1] << 8 | d[i + 2]);
}

// Per SYN shape: how many, to which ports, TTL and IP ID behaviour (the main one gives the
// port set and the behaviour traits).
struct SynShape {
  uint64_t packets = 0, first_frame = 0;
  std::set<uint16_t> ports;
  uint8_t ttl_min = 255, ttl_max = 0;
  uint32_t first_ipid = 0;
  bool ipid_const = true, ipid_zero = true;
};

class Extractor {
 public:
  explicit Extractor(CaptureTraits* out) : out_(out) {}

  void packet(uint64_t frame, const PacketInfo& p) {
    ++out_->frames;
    if (p.ip_version == 0 || !(p.src == out_->scanner)) return;
    ++out_->sent;
    if (!p.has_transport) return;
    if (p.proto_class == analysis::ProtoClass::kTcp) tcp(frame, p);
    else if (p.proto_class == analysis::ProtoClass::kUdp) udp(frame, p);
    else if (p.proto_class == analysis::ProtoClass::kIcmp) icmp(frame, p);
  }

  void finish() {
    const SynShape* main = nullptr;
    for (auto& [shape, s] : syn_) if (!main || s.packets > main->packets) main = &s;
    if (!main) return;
    for (uint16_t port : main->ports) add("ports", fmt::format("port {}", port), main->first_frame);
    if (main->ttl_max == 0) return;  // only TTL-limited probes
    add("ttl", main->ttl_min == main->ttl_max
                   ? fmt::format("ttl fixed={}", main->ttl_min)
                   : fmt::format("ttl range={}-{}", main->ttl_min / 8 * 8, (main->ttl_max + 7) / 8 * 8),
        main->first_frame);
    add("ipid", main->ipid_zero    ? std::string("ipid zero")
                : main->ipid_const ? fmt::format("ipid const={}", main->first_ipid)
                                   : std::string("ipid varies"),
        main->first_frame);
  }

 private:
  Occurrence& add(std::string_view family, const std::string& token, uint64_t frame) {
    Occurrence& o = out_->keys[trait_key(family, token)];
    if (o.count++ == 0) o.first_frame = frame;
    return o;
  }

  // A payload trait also records the service port that drew it.
  void add_payload(std::string_view family, const std::string& token, uint64_t frame, uint16_t port) {
    auto& ports = add(family, token, frame).ports;
    auto at = std::lower_bound(ports.begin(), ports.end(), port);
    if ((at == ports.end() || *at != port) && ports.size() < kMaxContextPorts) ports.insert(at, port);
  }

  void tcp(uint64_t frame, const PacketInfo& p) {
    const std::string opts = tcp_options(p);
    if (p.payload_len > 0 && p.payload_caplen > 0) {
      std::string_view pl(reinterpret_cast<const char*>(p.payload), p.payload_caplen);
      tcp_payload_traits(pl, [&](std::string_view fam, const std::string& tok) { add_payload(fam, tok, frame, p.dport); });
      return;
    }
    const bool syn = (p.tcp_flags & analysis::kSyn) && !(p.tcp_flags & analysis::kAck);
    if (syn) {
      const std::string shape = fmt::format("w={} o={}", p.tcp_window, opts);
      // TTL-limited probes (traceroute) draw their window per probe: only options count.
      const std::string ttl = ttl_class(p.ttl);
      add("syn", ttl == "low" ? fmt::format("syn w=* o={} ttl=low", opts) : fmt::format("syn {} ttl={}", shape, ttl),
          frame);
      SynShape& s = syn_[shape];
      if (s.packets++ == 0) { s.first_frame = frame; s.first_ipid = p.ip_id; }
      s.ports.insert(p.dport);
      if (p.ttl >= 32) {
        s.ttl_min = std::min(s.ttl_min, p.ttl);
        s.ttl_max = std::max(s.ttl_max, p.ttl);
      }
      if (p.ip_id != s.first_ipid) s.ipid_const = false;
      if (p.ip_id != 0) s.ipid_zero = false;
      return;
    }
    // A connection's own ACK/FIN/RST (kernel traffic): its window is state, not a template.
    const bool conn = (p.tcp_flags & analysis::kAck) && (opts == "-" || opts == "N,N,T");
    const std::string flags = flags_or_none(p.tcp_flags);
    add("tcp:" + flags,
        fmt::format("tcp {} w={} o={}", flags, conn ? std::string("*") : std::to_string(p.tcp_window), opts),
        frame);
  }

  void udp(uint64_t frame, const PacketInfo& p) {
    if (p.dport == 53) {
      add("udp", dns_token(p), frame);
      return;
    }
    const std::string masked = mask_ipv4_literals(
        std::string_view(reinterpret_cast<const char*>(p.payload), p.payload_caplen));
    const std::string h = short_hash(reinterpret_cast<const uint8_t*>(masked.data()), masked.size());
    if (p.dport >= 10000) {
      add("udp-hi", fmt::format("udp high-port len={} #{}", p.payload_len, h), frame);
      return;
    }
    add("udp", fmt::format("udp {} len={} #{}", p.dport, p.payload_len, h), frame);
  }

  void icmp(uint64_t frame, const PacketInfo& p) {
    const bool query = p.icmp_type == 8 || p.icmp_type == 13 || p.icmp_type == 15 || p.icmp_type == 17 ||
                       p.icmp_type == 128;
    // A query's data after its 4-byte identifier/sequence; an error quotes a packet (addresses).
    std::string h = "-";
    if (query && p.payload_caplen >= 8) h = short_hash(p.payload + 8, p.payload_caplen - 8);
    add("icmp", fmt::format("icmp {}/{} len={} #{}", p.icmp_type, p.icmp_code, p.payload_len, h), frame);
  }

  CaptureTraits* out_;
  std::map<std::string, SynShape> syn_;
};

}  // namespace

bool family_is_probe(std::string_view f) {
  return !(f == "tls" || f == "http" || f == "data");
}

std::string trait_key(std::string_view family, std::string_view token) {
  std::string k(family);
  k += '|';
  k += token;
  return k;
}

std::pair<std::string_view, std::string_view> split_key(std::string_view key) {
  size_t bar = key.find('|');
  if (bar == std::string_view::npos) return {std::string_view(), key};
  return {key.substr(0, bar), key.substr(bar + 1)};
}

bool CaptureTraits::has_family(std::string_view family) const {
  for (auto& [k, o] : keys)
    if (split_key(k).first == family) return true;
  return false;
}

util::Result<CaptureTraits> extract_traits(const std::filesystem::path& pcap, std::optional<IpAddr> scanner) {
  CaptureTraits out;
  if (scanner) {
    out.scanner = *scanner;
    out.scanner_auto = false;
  } else {
    auto s = detect_scanner(pcap);
    if (!s) return s.error();
    out.scanner = *s;
  }
  Extractor ex(&out);
  auto st = for_each_frame(pcap, [&](uint64_t f, const PacketInfo& p) { ex.packet(f, p); });
  if (!st) return st.error();
  if (out.sent == 0)
    return util::fail("{}: no scanner found: no packet from {} in {} frames{}", pcap.string(),
                      out.scanner.str(), out.frames, scanner ? " (check --scanner)" : "");
  ex.finish();
  return out;
}

}  // namespace testbed::identify
