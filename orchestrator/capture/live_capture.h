#pragma once
// Live packet capture with libpcap into a pcap file, in a thread of its own.
//
// File format: classic pcap with NANOSECOND timestamps (magic a1b23c4d), link type of the
// interface (Ethernet on veth/tap). Timestamps are the host's CLOCK_REALTIME as the kernel
// stamps packets (PCAP_TSTAMP_HOST), i.e. the same clock as util's wall-clock time stamps,
// so Nmap log lines stamped on the host line up with packets. Read it with
// pcap_open_offline_with_tstamp_precision(..., PCAP_TSTAMP_PRECISION_NANO), tshark or capinfos.
//
// The file is written to output + ".part" and renamed to `output` only by a stop() that
// found no error: a file at `output` is always complete. With CaptureOptions::output_fd
// the same pcap stream goes to that descriptor instead (a pipe), flushed at every read.
#include <pcap/pcap.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "orchestrator/capture/capture.h"
#include "orchestrator/util/result.h"

namespace testbed::capture {

struct PcapCloser {
  void operator()(pcap_t* p) const noexcept { pcap_close(p); }
};
struct PcapDumperCloser {
  void operator()(pcap_dumper_t* d) const noexcept { pcap_dump_close(d); }
};
/// Owns a pcap_t (pcap_create / pcap_open_*); pcap_close frees it.
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;
/// Owns a pcap_dumper_t (pcap_dump_open); pcap_dump_close flushes and closes its FILE.
/// pcap_dump_close cannot report errors: flush and check before closing (see stop()).
using PcapDumperHandle = std::unique_ptr<pcap_dumper_t, PcapDumperCloser>;

/// A running capture. Not copyable or movable (its thread refers to it); hold it by
/// unique_ptr. Destroying it without stop() ends the capture and deletes the .part file.
class LiveCapture : public Capture {
 public:
  /// Opens and activates the interface, compiles the filter, creates output + ".part" and
  /// starts the capture thread. Fails with a message naming the interface (missing
  /// interface, no permission, bad filter) or the file.
  static util::Result<std::unique_ptr<LiveCapture>> start(const CaptureOptions& opts);

  LiveCapture(const LiveCapture&) = delete;
  LiveCapture& operator=(const LiveCapture&) = delete;
  ~LiveCapture() override;

  /// Packets written so far (for progress). Thread-safe.
  uint64_t packets_so_far() const override { return packets_.load(std::memory_order_relaxed); }
  /// max_packets written, or writing failed (EPIPE: the reader of output_fd went away).
  bool finished() const override { return finished_.load(); }

  /// Waits opts.stop_grace, ends the capture, drains what the kernel still holds, reads
  /// the drop counters, flushes and fsyncs the file and renames it to `output`. On any
  /// write error (e.g. ENOSPC) the .part file is removed and an error returned: no
  /// incomplete file ever sits at `output`. Call once. Stream (output_fd): flushed; an
  /// error says writing the stream failed.
  util::Result<CaptureStats> stop() override;

  const CaptureOptions& options() const { return opts_; }

 private:
  LiveCapture() = default;
  void loop();
  static void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes);
  void write_packet(const pcap_pkthdr* h, const u_char* bytes);
  void end_thread();

  CaptureOptions opts_;
  std::filesystem::path part_;
  PcapHandle pcap_;
  PcapDumperHandle dumper_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> packets_{0};
  std::atomic<bool> finished_{false};
  bool stopped_ = false;

  // Written only by the capture thread while it runs; read after join().
  CaptureStats stats_;
  std::string write_error_;  ///< first write/flush error, empty if none
  std::string loop_error_;   ///< pcap_dispatch error, empty if none
  std::chrono::steady_clock::time_point last_flush_{};
};

}  // namespace testbed::capture
