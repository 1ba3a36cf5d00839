#include "orchestrator/capture/capture.h"

#include <pcap/pcap.h>

#include "orchestrator/capture/live_capture.h"
#include "orchestrator/capture/remote_capture.h"

namespace testbed::capture {

util::Status check_filter(const std::string& bpf_filter, int snaplen) {
  if (bpf_filter.empty()) return {};
  PcapHandle p(pcap_open_dead(DLT_EN10MB, snaplen));
  if (!p) return util::fail("cannot check filter '{}': libpcap has no memory", bpf_filter);
  bpf_program prog{};
  if (pcap_compile(p.get(), &prog, bpf_filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    return util::fail("bad filter '{}': {}", bpf_filter, pcap_geterr(p.get()));
  pcap_freecode(&prog);
  return {};
}

util::Result<std::unique_ptr<Capture>> start_capture(const CaptureOptions& opts,
                                                     const std::optional<remote::SshTarget>& host) {
  if (host) {
    auto c = RemoteCapture::start(*host, opts);
    if (!c) return c.error();
    return std::unique_ptr<Capture>(std::move(*c));
  }
  auto c = LiveCapture::start(opts);
  if (!c) return c.error();
  return std::unique_ptr<Capture>(std::move(*c));
}

}  // namespace testbed::capture
