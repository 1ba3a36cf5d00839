#include "orchestrator/analysis/locate.h"

#include "orchestrator/analysis/capture_file.h"

namespace testbed::analysis {

util::Result<LocatedPackets> locate_packets(const std::filesystem::path& pcap,
                                            const IpAddr& scanner, uint32_t key_fields,
                                            const std::vector<PacketKey>& wanted) {
  PacketKeySet want;
  want.insert(wanted.begin(), wanted.end());
  LocatedPackets out;
  auto file = CaptureFile::open(pcap);
  if (!file) return file.error();
  const int link = file->link_type();
  Frame fr;
  while (out.size() < want.size() && file->next(&fr)) {
    PacketInfo p;
    decode_frame(link, fr.data, fr.hdr.caplen, fr.hdr.len, &p);
    if (p.ip_version == 0 || !(p.src == scanner)) continue;
    uint64_t hsh = p.payload_caplen ? payload_hash(p.payload, p.payload_caplen) : 0;
    PacketKey k = make_packet_key(p, hsh, key_fields);
    if (!want.contains(k) || out.count(k)) continue;
    LocatedPacket& l = out[k];
    l.frame = fr.number;
    l.sec = fr.hdr.ts.tv_sec;
    l.nsec = static_cast<uint32_t>(fr.hdr.ts.tv_usec);  // nanoseconds (CaptureFile's Frame)
    l.ts = fr.time();
    l.sport = p.sport;
    l.icmp_type = p.icmp_type;
    l.icmp_code = p.icmp_code;
    l.payload_len = p.payload_len;
    if (p.payload_caplen)
      l.payload.assign(reinterpret_cast<const char*>(p.payload), p.payload_caplen);
  }
  // A file cut short is read up to the cut, as the analysis reads it; a corrupt one fails.
  if (file->end() == CaptureFile::End::kError)
    return util::fail("capture {}: read error after {} packets: {}", pcap.string(), file->records(),
                      file->end_message());
  return out;
}

}  // namespace testbed::analysis
