#pragma once
// Test helper: builds packets byte by byte and writes them with libpcap's dump API
// (pcap_open_dead + pcap_dump_open), so every test knows its capture exactly.
#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <algorithm>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace testbed::analysis::testing {

using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) { b.push_back(v >> 8); b.push_back(v & 0xff); }
inline void put32(Bytes& b, uint32_t v) { put16(b, v >> 16); put16(b, v & 0xffff); }

/// Transport description for one packet.
struct Pkt {
  std::string src = "172.24.0.10", dst = "172.24.1.10";
  uint8_t proto = 6;           // 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, other
  uint16_t sport = 40000, dport = 80;
  uint8_t flags = 0x02;        // TCP flags
  uint16_t window = 1024;
  Bytes tcp_options = {2, 4, 0x05, 0xb4};  // MSS 1460 (Nmap's SYN probe)
  uint8_t icmp_type = 8, icmp_code = 0;
  uint8_t ttl = 45;
  uint16_t ip_id = 1234;
  std::string payload;
  double ts = 1700000000.0;
  bool hop_by_hop = false;     // IPv6: insert a hop-by-hop extension header
};

inline bool is_v6(const std::string& a) { return a.find(':') != std::string::npos; }

inline Bytes addr_bytes(const std::string& a) {
  Bytes b(is_v6(a) ? 16 : 4);
  inet_pton(is_v6(a) ? AF_INET6 : AF_INET, a.c_str(), b.data());
  return b;
}

/// The IP datagram (v4 or v6 by the source address).
inline Bytes ip_packet(const Pkt& p) {
  Bytes l4;
  if (p.proto == 6) {
    put16(l4, p.sport); put16(l4, p.dport); put32(l4, 0x11111111); put32(l4, 0);
    size_t optlen = (p.tcp_options.size() + 3) / 4 * 4;
    l4.push_back(uint8_t(((20 + optlen) / 4) << 4)); l4.push_back(p.flags);
    put16(l4, p.window); put16(l4, 0); put16(l4, 0);
    for (uint8_t o : p.tcp_options) l4.push_back(o);
    while (l4.size() < 20 + optlen) l4.push_back(1);  // NOP padding
  } else if (p.proto == 17) {
    put16(l4, p.sport); put16(l4, p.dport); put16(l4, uint16_t(8 + p.payload.size())); put16(l4, 0);
  } else if (p.proto == 1 || p.proto == 58) {
    l4.push_back(p.icmp_type); l4.push_back(p.icmp_code); put16(l4, 0); put32(l4, 0x00010002);
  }
  l4.insert(l4.end(), p.payload.begin(), p.payload.end());
  Bytes ip;
  if (!is_v6(p.src)) {
    ip.push_back(0x45); ip.push_back(0); put16(ip, uint16_t(20 + l4.size())); put16(ip, p.ip_id);
    put16(ip, 0); ip.push_back(p.ttl); ip.push_back(p.proto); put16(ip, 0);
    Bytes s = addr_bytes(p.src), d = addr_bytes(p.dst);
    ip.insert(ip.end(), s.begin(), s.end());
    ip.insert(ip.end(), d.begin(), d.end());
  } else {
    Bytes ext;
    if (p.hop_by_hop) {  // 8-byte hop-by-hop header with PadN
      ext = {p.proto, 0, 1, 4, 0, 0, 0, 0};
    }
    ip.push_back(0x60); ip.push_back(0); put16(ip, 0);
    put16(ip, uint16_t(ext.size() + l4.size())); ip.push_back(p.hop_by_hop ? 0 : p.proto); ip.push_back(p.ttl);
    Bytes s = addr_bytes(p.src), d = addr_bytes(p.dst);
    ip.insert(ip.end(), s.begin(), s.end());
    ip.insert(ip.end(), d.begin(), d.end());
    ip.insert(ip.end(), ext.begin(), ext.end());
  }
  ip.insert(ip.end(), l4.begin(), l4.end());
  return ip;
}

/// Wraps an IP datagram in the link layer `dlt`.
inline Bytes frame(int dlt, const Bytes& ip, bool v6) {
  Bytes f;
  uint16_t et = v6 ? 0x86dd : 0x0800;
  if (dlt == DLT_EN10MB) {
    f = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6};
    put16(f, et);
  } else if (dlt == DLT_LINUX_SLL) {
    f = {0, 4, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0};
    put16(f, et);
  } else if (dlt == DLT_LINUX_SLL2) {
    put16(f, et); put16(f, 0); put32(f, 3); put16(f, 1); f.push_back(4); f.push_back(6);
    for (int i = 0; i < 8; ++i) f.push_back(i < 6 ? i : 0);
  }
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

/// Writes frames to a pcap file. snaplen cuts frames like a capture would.
class PcapWriter {
 public:
  PcapWriter(const std::string& path, int dlt, int snaplen = 65535)
      : dlt_(dlt), snaplen_(snaplen) {
    dead_ = pcap_open_dead_with_tstamp_precision(dlt, snaplen, PCAP_TSTAMP_PRECISION_MICRO);
    dump_ = pcap_dump_open(dead_, path.c_str());
  }
  ~PcapWriter() { close(); }
  bool ok() const { return dump_ != nullptr; }
  void close() {
    if (dump_) pcap_dump_close(dump_);
    if (dead_) pcap_close(dead_);
    dump_ = nullptr;
    dead_ = nullptr;
  }
  /// Writes `p` and returns its on-the-wire length.
  uint32_t add(const Pkt& p) { return add_raw(frame(dlt_, ip_packet(p), is_v6(p.src)), p.ts); }
  uint32_t add_raw(const Bytes& f, double ts) {
    pcap_pkthdr h{};
    h.ts.tv_sec = long(ts);
    h.ts.tv_usec = long((ts - double(long(ts))) * 1e6 + 0.5);
    h.len = uint32_t(f.size());
    h.caplen = std::min<uint32_t>(h.len, uint32_t(snaplen_));
    pcap_dump(reinterpret_cast<u_char*>(dump_), &h, f.data());
    return h.len;
  }

 private:
  int dlt_, snaplen_;
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dump_ = nullptr;
};

}  // namespace testbed::analysis::testing
