#pragma once
// Packet capture on another machine — the libvirt host of a remote lab, whose router
// interface this machine cannot open — streamed back over SSH into a local pcap file.
//
// On the lab host `tcpdump -i IF -w -` runs (nanosecond time stamps, the same snaplen,
// kernel buffer and filter as LiveCapture) and its pcap stream is written here as it
// arrives, record by record counted. stop() ends it with SIGTERM, so tcpdump reports its
// kernel counters, and checks that the stream ended on a record boundary and held as many
// records as tcpdump says it captured. As with LiveCapture, the file is written to
// output + ".part" and renamed to `output` only by a stop() that found no error; with
// CaptureOptions::output_fd the stream is passed on to that descriptor as it arrives.
//
// Time stamps come from the lab host's clock: keep it synchronised (NTP) with this one,
// which stamps the scanner's console lines.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "orchestrator/capture/capture.h"
#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"

namespace testbed::capture {

/// Counts the records of a pcap stream fed to it in arbitrary pieces (either byte order,
/// micro- or nanosecond magic).
class PcapStreamCounter {
 public:
  /// Fails on a stream that does not start with a pcap magic number.
  util::Status feed(std::string_view data);
  uint64_t records() const { return records_; }
  uint64_t bytes_captured() const { return captured_; }
  uint64_t bytes_on_wire() const { return on_wire_; }
  double first_ts() const { return first_ts_; }
  double last_ts() const { return last_ts_; }
  /// True when the stream so far ends exactly after a record (or after the file header).
  bool at_boundary() const { return header_done_ && in_header_ && pending_.empty(); }
  bool header_seen() const { return header_done_; }

 private:
  uint32_t u32(const unsigned char* p) const;
  std::string pending_;  ///< bytes of the current header not yet complete
  bool header_done_ = false;
  bool swapped_ = false;
  bool nano_ = false;
  bool in_header_ = true;  ///< reading a record header (else skipping its data)
  uint64_t need_ = 24;     ///< bytes still needed for the current piece
  uint64_t records_ = 0, captured_ = 0, on_wire_ = 0;
  double first_ts_ = 0, last_ts_ = 0;
};

/// tcpdump's closing statistics on standard error ("N packets captured", "N packets
/// received by filter", "N packets dropped by kernel", "N packets dropped by interface").
struct TcpdumpCounters {
  uint64_t captured = 0, received = 0, kernel_dropped = 0, interface_dropped = 0;
  bool seen = false;  ///< the "captured" line was there
};
TcpdumpCounters parse_tcpdump_counters(std::string_view stderr_text);

/// The argument vector run on the lab host for `opts` (interface, snaplen, buffer,
/// filter, -c max_packets; output to standard output, unbuffered, nanosecond time stamps).
std::vector<std::string> tcpdump_argv(const CaptureOptions& opts);

class RemoteCapture : public Capture {
 public:
  /// Logs in to `host` (its key pinned as for every SSH here), starts tcpdump and returns
  /// once it is listening — packets sent after that are captured. Fails naming the host
  /// and interface when tcpdump is missing, the interface does not exist or the filter
  /// does not compile. opts.immediate is ignored (tcpdump -U flushes per packet).
  static util::Result<std::unique_ptr<RemoteCapture>> start(const remote::SshTarget& host,
                                                            const CaptureOptions& opts);
  RemoteCapture(const RemoteCapture&) = delete;
  RemoteCapture& operator=(const RemoteCapture&) = delete;
  /// Without stop(): ends tcpdump and deletes the .part file.
  ~RemoteCapture() override;

  uint64_t packets_so_far() const override { return packets_.load(std::memory_order_relaxed); }
  /// tcpdump ended (max_packets reached, or it or the connection failed) or writing failed.
  bool finished() const override { return finished_.load(); }

  /// Waits opts.stop_grace, ends tcpdump, checks the stream (whole records, as many as
  /// tcpdump captured), fsyncs and renames the file. Any error removes the .part file.
  /// kernel_dropped includes packets tcpdump had received but not yet written when it
  /// was ended: tcpdump hands packets over up to 1 s late, so give stop_grace >= 1.5 s.
  util::Result<CaptureStats> stop() override;

 private:
  RemoteCapture() = default;
  void run();
  util::Status discard(const std::string& why);

  remote::SshTarget host_;
  CaptureOptions opts_;
  std::filesystem::path part_;
  std::unique_ptr<remote::SshSession> session_;
  FILE* file_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> packets_{0};
  std::atomic<bool> finished_{false};
  bool stopped_ = false;

  // Shared with the capture thread: `listening_` and `ended_` under mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  bool listening_ = false;
  bool ended_ = false;

  // Written by the capture thread; read after join().
  PcapStreamCounter counter_;
  std::string err_text_;  ///< tcpdump's standard error
  std::string error_;     ///< first stream/write/exec error
  int exit_status_ = -1;
};

}  // namespace testbed::capture
