#include "orchestrator/identify/capture_reader.h"

#include <memory>

#include <pcap/pcap.h>

namespace testbed::identify {

util::Status for_each_frame(const std::filesystem::path& pcap, const FrameFn& fn) {
  char err[PCAP_ERRBUF_SIZE] = {0};
  std::unique_ptr<pcap_t, void (*)(pcap_t*)> h(
      pcap_open_offline_with_tstamp_precision(pcap.c_str(), PCAP_TSTAMP_PRECISION_NANO, err),
      pcap_close);
  if (!h) return util::fail("{}: not a readable capture (libpcap: {})", pcap.string(), err);
  const int lt = pcap_datalink(h.get());
  if (!analysis::link_type_supported(lt))
    return util::fail("{}: link type {} is not supported", pcap.string(), lt);
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  uint64_t frame = 0;
  analysis::PacketInfo p;
  int rc;
  while ((rc = pcap_next_ex(h.get(), &hdr, &data)) == 1) {
    p = analysis::PacketInfo{};
    analysis::decode_frame(lt, data, hdr->caplen, hdr->len, &p);
    fn(++frame, p);
  }
  if (rc == PCAP_ERROR)
    return util::fail("{}: unreadable after frame {} (libpcap: {})", pcap.string(), frame,
                      pcap_geterr(h.get()));
  return {};
}

}  // namespace testbed::identify
