#pragma once
// The one reader of capture files: pcap (microsecond or nanosecond, either byte order) and
// pcapng, of the link types decode.h understands (Ethernet, Linux cooked SLL/SLL2, raw IP,
// NULL/LOOP). `CaptureFile` is the only owner of a pcap_t opened on a file (move-only);
// the analysis, the IDS's packet locator and anything else that reads a capture go
// through it. (The live capture keeps its own live handle: capture/live_capture.h.)
//
// Records come out in file order with libpcap's time stamps at nanosecond precision. A
// read filter (BPF, compiled by libpcap for the file's link type, as tcpdump -r applies
// it) and a time window [from, to) (as editcap -A/-B) skip records before anyone sees
// them; frame numbers still count every record of the file (Wireshark's frame.number).
//
// A file cut short in the middle of a record (a capture that was interrupted, a partial
// copy) ends with End::kCutShort after the last whole record, as tshark reads it; any
// other read error (a corrupt record) is End::kError. Both carry libpcap's message.
//
// Speed: classic pcap files of the link types libpcap passes through unchanged are read
// from a memory map (about 20 instructions a record instead of libpcap's two stdio freads,
// ~310); everything else, and every record libpcap would treat specially (longer than the
// snapshot length, cut short, odd time stamps), is left to libpcap from that record on.
#include <pcap/pcap.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "orchestrator/util/result.h"

namespace testbed::analysis {

/// DLT name for messages ("EN10MB", "LINUX_SLL2", …; "DLT 147" when libpcap has none).
std::string link_type_name(int dlt);

/// One end of a time window: seconds after the file's first record, or absolute (epoch).
struct TimeBound {
  double seconds = 0;
  bool relative = true;
  bool operator==(const TimeBound&) const = default;
};

/// Parses a time bound: "12.5" (seconds after the first record; not negative),
/// "@1765134000.25" (Unix time) or "2026-12-07T19:00:00.25Z" (UTC, ISO 8601). The error
/// names the value and the accepted forms.
util::Result<TimeBound> parse_time_bound(std::string_view s);

/// Which records of a file are read: all by default.
struct ReadFilter {
  std::string bpf;                    ///< pcap-filter(7) expression; empty = every record
  std::optional<TimeBound> from, to;  ///< keep from <= time < to
  bool empty() const { return bpf.empty() && !from && !to; }
};

/// One record as read. `data` is valid until the next call of CaptureFile::next().
struct Frame {
  pcap_pkthdr hdr{};             ///< hdr.ts.tv_usec holds NANOseconds
  const uint8_t* data = nullptr;
  uint64_t number = 0;           ///< 1-based position in the file, skipped records included
  double time() const { return double(hdr.ts.tv_sec) + double(hdr.ts.tv_usec) * 1e-9; }
};

class CaptureFile {
 public:
  /// Opens `path`. Fails with a message naming the file: missing, not a file, not
  /// pcap/pcapng (libpcap's words), or a link type decode.h does not understand.
  static util::Result<CaptureFile> open(const std::filesystem::path& path);

  CaptureFile(CaptureFile&& o) noexcept { steal(o); }
  CaptureFile& operator=(CaptureFile&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  CaptureFile(const CaptureFile&) = delete;
  CaptureFile& operator=(const CaptureFile&) = delete;
  ~CaptureFile() { release(); }

  /// Installs `f` for the records not read yet. A BPF expression that libpcap cannot
  /// compile for this link type is an error carrying pcap_compile's message.
  util::Status set_filter(const ReadFilter& f);

  const std::filesystem::path& path() const { return path_; }
  int link_type() const { return link_type_; }
  /// The file's snapshot length (the first interface's, for pcapng).
  uint32_t snapshot_length() const { return pcap_ ? uint32_t(pcap_snapshot(pcap_)) : 0; }

  /// The next record that passes the filter; false at the end of the file or on an error
  /// (end() says which).
  bool next(Frame* f) {
    for (;;) {
      if (!(base_ && map_next(f)) && !next_slow(f)) return false;
      f->number = ++records_;
      if (!filtered_ || passes(*f)) return true;
    }
  }

  enum class End {
    kNotYet,    ///< next() has not returned false
    kComplete,  ///< every record was read
    kCutShort,  ///< the file ends inside a record: the records before it were read
    kError,     ///< a corrupt record or an I/O error stopped the read
  };
  End end() const { return end_; }
  /// libpcap's message for kCutShort and kError.
  const std::string& end_message() const { return end_message_; }
  /// Records read from the file so far, skipped ones included.
  uint64_t records() const { return records_; }

 private:
  CaptureFile() = default;
  void steal(CaptureFile& o) noexcept;
  void release() noexcept;
  void map_file();
  void hand_over();
  bool next_slow(Frame* f);
  bool passes(const Frame& f);

  static uint32_t u32(const uint8_t* p, bool swap) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
  }
  // One record from the map; false (nothing consumed) for anything libpcap must judge.
  bool map_next(Frame* f) {
    if (size_ - off_ < 16) return false;
    const uint8_t* r = base_ + off_;
    const uint32_t sec = u32(r, swap_), frac = u32(r + 4, swap_), caplen = u32(r + 8, swap_),
                   len = u32(r + 12, swap_);
    if (caplen > snapshot_ || caplen > size_ - off_ - 16) return false;
    if (sec > uint32_t(INT32_MAX) || frac >= (nsec_ ? 1000000000u : 1000000u)) return false;
    f->hdr.ts.tv_sec = time_t(sec);
    f->hdr.ts.tv_usec = suseconds_t(nsec_ ? frac : frac * 1000u);  // as libpcap gives it
    f->hdr.caplen = caplen;
    f->hdr.len = len;
    f->data = r + 16;
    off_ += 16 + size_t(caplen);
    return true;
  }

  std::filesystem::path path_;
  pcap_t* pcap_ = nullptr;
  int link_type_ = 0;
  // The memory map (base_ null once libpcap reads).
  const uint8_t* base_ = nullptr;
  size_t size_ = 0, off_ = 0;
  uint32_t snapshot_ = 0;
  bool swap_ = false, nsec_ = false;
  // The filter.
  bool filtered_ = false;
  bool has_bpf_ = false;
  bpf_program bpf_{};
  ReadFilter filter_;
  double from_ = 0, to_ = 0;     // absolute bounds once the origin is known
  bool bounds_known_ = false;
  // Progress.
  uint64_t records_ = 0;
  End end_ = End::kNotYet;
  std::string end_message_;
};

}  // namespace testbed::analysis
