#pragma once
// A new capture file made of records read through CaptureFile (their captured bytes, wire
// length and nanosecond time as read), kept in memory and serialised as a classic
// nanosecond pcap (libpcap's header: magic a1b23c4d, version 2.4, host byte order), so
// that a caller writes the whole file atomically (util::write_file_atomic) or to a pipe and
// never leaves half a file. Wireshark, tshark and libpcap read it. (The live capture writes
// its own file as it goes: capture/live_capture.h.)
#include <cstdint>
#include <string>

#include "orchestrator/analysis/capture_file.h"

namespace testbed::analysis {

class PcapBuffer {
 public:
  /// A file of link type `dlt` (a DLT_* value, as CaptureFile::link_type) whose header says
  /// `snaplen` (0: 262144, libpcap's default).
  PcapBuffer(int dlt, uint32_t snaplen);

  /// Appends one record (its time stamp in nanoseconds, as CaptureFile gives it).
  void add(const Frame& f);

  int link_type() const { return dlt_; }
  size_t records() const { return records_; }
  /// The file's bytes: the global header and every record added, in order.
  const std::string& bytes() const { return bytes_; }

 private:
  void put32(uint32_t v);
  std::string bytes_;
  int dlt_ = 0;
  uint32_t snaplen_ = 0;
  size_t records_ = 0;
};

}  // namespace testbed::analysis
