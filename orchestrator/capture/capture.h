#pragma once
// What every capture here is (LiveCapture on this machine, RemoteCapture through SSH on a
// remote lab host), and the one call that starts the right one: the runner's router
// capture and `testbed lab capture` both capture through this module.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"

namespace testbed::capture {

struct CaptureOptions {
  std::string interface;         ///< e.g. the host-side veth of the router's scan NIC
  std::filesystem::path output;  ///< final pcap path; output + ".part" while capturing
  /// >= 0: write the pcap stream to this open descriptor instead (1: standard output, for
  /// `| tshark -r -` or `| wireshark -k -i -`), flushed as packets come: no ".part" file,
  /// no rename, no fsync; `output` is unused. The descriptor is duplicated, not closed.
  int output_fd = -1;
  /// End the capture after this many packets (0: no limit); none after them is written
  /// and finished() turns true. Remote: tcpdump's -c.
  uint64_t max_packets = 0;
  int snaplen = 262144;          ///< full packets
  int buffer_bytes = 64 << 20;   ///< kernel ring size: headroom for -T4 bursts
  /// Immediate mode hands each packet over at once. Off by default, deliberately: with
  /// Linux TPACKET_V3 and full snaplen each ring block is 256 KiB and immediate mode
  /// retires a block after ~1 ms however empty, so a capture thread starved of CPU for
  /// ~0.25 s (a loaded 2-core host) runs out of blocks and drops packets although the
  /// buffer holds only a few hundred KB. Measured here: 2000-packet burst on a loaded host,
  /// immediate: 606 dropped; not immediate: 0. Without it packets reach the file (and
  /// packets_so_far) at most the 100 ms read timeout later, which nothing here needs.
  bool immediate = false;
  std::string bpf_filter;  ///< empty = everything
  /// stop() waits this long before ending the capture, so that replies to the last
  /// packets sent (and packets still in flight) are in the file. LiveCapture waits at
  /// least 300 ms whatever this says: packets the kernel holds but has not yet handed over
  /// (its ring block not retired) would otherwise be lost.
  std::chrono::milliseconds stop_grace{1000};
};

struct CaptureStats {
  uint64_t packets_written = 0;    ///< packets in the file
  uint64_t bytes_written = 0;      ///< sum of captured lengths (caplen) in the file
  uint64_t bytes_on_wire = 0;      ///< sum of original lengths (len)
  uint64_t kernel_received = 0;    ///< pcap_stats ps_recv
  uint64_t kernel_dropped = 0;     ///< pcap_stats ps_drop: dropped for lack of buffer space
  uint64_t interface_dropped = 0;  ///< pcap_stats ps_ifdrop: dropped by the interface/driver
  double first_ts = 0;             ///< first packet's time stamp, s since epoch (0 if none)
  double last_ts = 0;              ///< last packet's time stamp
};

/// A running capture (see LiveCapture and RemoteCapture for their files and guarantees).
class Capture {
 public:
  virtual ~Capture() = default;
  /// Packets written so far. Thread-safe.
  virtual uint64_t packets_so_far() const = 0;
  /// True once the capture ended by itself: CaptureOptions::max_packets reached, a write
  /// failed (a reader closed the pipe) or the capture process ended. stop() is still due.
  virtual bool finished() const = 0;
  /// Ends the capture and completes the file or stream; see the implementations.
  virtual util::Result<CaptureStats> stop() = 0;
};

/// The filter compiled for Ethernet without opening any interface, so a bad one is bad
/// input before anything starts. The error quotes the filter and libpcap's message.
util::Status check_filter(const std::string& bpf_filter, int snaplen = 262144);

/// LiveCapture::start(opts), or RemoteCapture::start(*host, opts) when the interface is
/// on another machine (a remote lab host).
util::Result<std::unique_ptr<Capture>> start_capture(
    const CaptureOptions& opts, const std::optional<remote::SshTarget>& host = std::nullopt);

}  // namespace testbed::capture
