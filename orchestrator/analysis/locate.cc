#include "orchestrator/analysis/locate.h"

#include <pcap/pcap.h>

#include <memory>

namespace testbed::analysis {

util::Result<LocatedPackets> locate_packets(const std::filesystem::path& pcap,
                                            const IpAddr& scanner, uint32_t key_fields,
                                            const std::vector<PacketKey>& wanted) {
  PacketKeySet want;
  want.insert(wanted.begin(), wanted.end());
  LocatedPackets out;
  char err[PCAP_ERRBUF_SIZE] = "";
  std::unique_ptr<pcap_t, void (*)(pcap_t*)> h(
      pcap_open_offline_with_tstamp_precision(pcap.c_str(), PCAP_TSTAMP_PRECISION_NANO, err),
      pcap_close);
  if (!h) return util::fail("cannot read capture {}: {}", pcap.string(), err);
  const int link = pcap_datalink(h.get());
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  uint64_t frame = 0;
  int rc;
  while (out.size() < want.size() && (rc = pcap_next_ex(h.get(), &hdr, &data)) == 1) {
    ++frame;
    PacketInfo p;
    decode_frame(link, data, hdr->caplen, hdr->len, &p);
    if (p.ip_version == 0 || !(p.src == scanner)) continue;
    uint64_t hsh = p.payload_caplen ? payload_hash(p.payload, p.payload_caplen) : 0;
    PacketKey k = make_packet_key(p, hsh, key_fields);
    if (!want.contains(k) || out.count(k)) continue;
    LocatedPacket& l = out[k];
    l.frame = frame;
    l.sec = hdr->ts.tv_sec;
    l.nsec = static_cast<uint32_t>(hdr->ts.tv_usec);  // nanoseconds: opened with NANO precision
    l.ts = static_cast<double>(l.sec) + static_cast<double>(l.nsec) * 1e-9;
    l.sport = p.sport;
    l.icmp_type = p.icmp_type;
    l.icmp_code = p.icmp_code;
    l.payload_len = p.payload_len;
    if (p.payload_caplen)
      l.payload.assign(reinterpret_cast<const char*>(p.payload), p.payload_caplen);
  }
  return out;
}

}  // namespace testbed::analysis
