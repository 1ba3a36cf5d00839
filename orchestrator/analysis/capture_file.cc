#include "orchestrator/analysis/capture_file.h"

#include <fcntl.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "orchestrator/analysis/decode.h"

namespace testbed::analysis {
namespace fs = std::filesystem;

namespace {

// stdio buffer for the capture file: libpcap reads each record with two small freads, so a
// large buffer turns ~20,000 4 KiB read(2) calls per 80 MB into ~80.
constexpr size_t kReadBuffer = 1u << 20;

bool parse_double(std::string_view s, double* out) {
  if (s.empty() || s.front() == '+' || s.front() == '-') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(*out);
}

// "YYYY-MM-DDTHH:MM:SS[.fraction]Z" -> Unix time.
bool parse_iso_utc(std::string_view s, double* out) {
  if (s.size() < 20 || s.back() != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':')
    return false;
  auto num = [&](size_t at, size_t n, int* v) {
    auto [p, ec] = std::from_chars(s.data() + at, s.data() + at + n, *v);
    return ec == std::errc() && p == s.data() + at + n;
  };
  std::tm tm{};
  int y, mo, d, h, mi, sec;
  if (!num(0, 4, &y) || !num(5, 2, &mo) || !num(8, 2, &d) || !num(11, 2, &h) ||
      !num(14, 2, &mi) || !num(17, 2, &sec))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return false;
  double frac = 0;
  std::string_view rest = s.substr(19, s.size() - 20);
  if (!rest.empty()) {
    if (rest.front() != '.' || rest.size() < 2) return false;
    std::string f = "0" + std::string(rest);
    if (!parse_double(f, &frac)) return false;
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  *out = double(timegm(&tm)) + frac;
  return true;
}

}  // namespace

std::string link_type_name(int dlt) {
  const char* n = pcap_datalink_val_to_name(dlt);
  return n ? n : "DLT " + std::to_string(dlt);
}

util::Result<TimeBound> parse_time_bound(std::string_view s) {
  TimeBound b;
  if (!s.empty() && s.front() == '@') {
    b.relative = false;
    if (parse_double(s.substr(1), &b.seconds)) return b;
  } else if (s.find('T') != std::string_view::npos) {
    b.relative = false;
    if (parse_iso_utc(s, &b.seconds)) return b;
  } else if (parse_double(s, &b.seconds)) {
    return b;
  }
  return util::fail("\"{}\" is not a time: give seconds after the first packet (e.g. 12.5), "
                    "Unix time as @SECONDS (e.g. @1765134000.25) or UTC as "
                    "YYYY-MM-DDTHH:MM:SS[.fraction]Z",
                    s);
}

util::Result<CaptureFile> CaptureFile::open(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return util::fail("capture {} does not exist or is not a file", path.string());
  // Opened here (not by pcap_open_offline) to give the stream a large buffer and no
  // locking: only this thread reads it. Same message as pcap_open_offline on failure.
  FILE* f = std::fopen(path.c_str(), "rbe");
  if (!f)
    return util::fail("cannot read capture {}: {}: {} (is it a pcap/pcapng file?)", path.string(),
                      path.string(), std::strerror(errno));
  std::setvbuf(f, nullptr, _IOFBF, kReadBuffer);
  __fsetlocking(f, FSETLOCKING_BYCALLER);
  char err[PCAP_ERRBUF_SIZE] = "";
  // pcap_fopen_offline*() takes ownership of f on success (pcap_close closes it), not on
  // failure.
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    std::fclose(f);
    return util::fail("cannot read capture {}: {} (is it a pcap/pcapng file?)", path.string(), err);
  }
  CaptureFile c;
  c.path_ = path;
  c.pcap_ = p;
  c.link_type_ = pcap_datalink(p);
  if (!link_type_supported(c.link_type_))
    return util::fail("capture {}: link type {} ({}) is not supported (supported: EN10MB, LINUX_SLL, "
                      "LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)",
                      path.string(), c.link_type_, link_type_name(c.link_type_));
  c.map_file();
  return c;
}

void CaptureFile::steal(CaptureFile& o) noexcept {
  path_ = std::move(o.path_);
  pcap_ = std::exchange(o.pcap_, nullptr);
  link_type_ = o.link_type_;
  base_ = std::exchange(o.base_, nullptr);
  size_ = o.size_;
  off_ = o.off_;
  snapshot_ = o.snapshot_;
  swap_ = o.swap_;
  nsec_ = o.nsec_;
  filtered_ = o.filtered_;
  has_bpf_ = std::exchange(o.has_bpf_, false);
  bpf_ = std::exchange(o.bpf_, bpf_program{});
  filter_ = std::move(o.filter_);
  from_ = o.from_;
  to_ = o.to_;
  bounds_known_ = o.bounds_known_;
  records_ = o.records_;
  end_ = o.end_;
  end_message_ = std::move(o.end_message_);
}

void CaptureFile::release() noexcept {
  if (base_) munmap(const_cast<uint8_t*>(base_), size_);
  base_ = nullptr;
  if (has_bpf_) pcap_freecode(&bpf_);
  has_bpf_ = false;
  if (pcap_) pcap_close(pcap_);  // also closes the FILE
  pcap_ = nullptr;
}

util::Status CaptureFile::set_filter(const ReadFilter& f) {
  assert(records_ == 0 && "set the filter before reading");
  if (has_bpf_) pcap_freecode(&bpf_);
  has_bpf_ = false;
  if (!f.bpf.empty()) {
    if (pcap_compile(pcap_, &bpf_, f.bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
      return util::fail("capture {}: read filter \"{}\" (link type {}): {}", path_.string(), f.bpf,
                        link_type_name(link_type_), pcap_geterr(pcap_));
    has_bpf_ = true;
  }
  filter_ = f;
  filtered_ = !f.empty();
  bounds_known_ = false;
  return {};
}

bool CaptureFile::passes(const Frame& fr) {
  if (filter_.from || filter_.to) {
    if (!bounds_known_) {
      // The first record of the file is the origin of relative bounds (Wireshark's
      // frame.time_relative); set_filter comes before the first record.
      const double origin = fr.time();
      from_ = !filter_.from ? -INFINITY : filter_.from->seconds + (filter_.from->relative ? origin : 0);
      to_ = !filter_.to ? INFINITY : filter_.to->seconds + (filter_.to->relative ? origin : 0);
      bounds_known_ = true;
    }
    const double t = fr.time();
    if (!(t >= from_ && t < to_)) return false;
  }
  return !has_bpf_ || pcap_offline_filter(&bpf_, &fr.hdr, fr.data) != 0;
}

bool CaptureFile::next_slow(Frame* f) {
  if (base_) hand_over();
  if (end_ != End::kNotYet) return false;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(pcap_, &h, &data);
  if (rc == 1) {
    f->hdr = *h;
    f->data = data;
    return true;
  }
  if (rc == PCAP_ERROR_BREAK) {
    end_ = End::kComplete;
  } else {
    // libpcap's reader hit the end of the file inside a record ("truncated dump file") or
    // found a record it cannot take ("invalid packet capture length", an I/O error).
    FILE* file = pcap_file(pcap_);
    end_ = file && std::feof(file) && !std::ferror(file) ? End::kCutShort : End::kError;
    end_message_ = pcap_geterr(pcap_);
  }
  return false;
}

// Maps classic pcap files of link types whose records libpcap passes through unchanged
// (it rewrites some pseudo-headers: SLL CAN, USB, NFLOG; those stay with libpcap).
void CaptureFile::map_file() {
  switch (link_type_) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
      break;
    default:
      return;
  }
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) {
    ::close(fd);
    return;
  }
  void* m = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED) return;
  const uint8_t* b = static_cast<const uint8_t*>(m);
  uint32_t magic;
  std::memcpy(&magic, b, 4);
  bool ok = true;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d)
    swap_ = false;
  else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)
    swap_ = true;
  else
    ok = false;
  nsec_ = magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
  uint16_t major, minor;
  std::memcpy(&major, b + 4, 2);
  std::memcpy(&minor, b + 6, 2);
  if (swap_) {
    major = __builtin_bswap16(major);
    minor = __builtin_bswap16(minor);
  }
  if (!ok || major != 2 || minor != 4 || pcap_snapshot(pcap_) <= 0) {
    munmap(m, size_t(st.st_size));
    return;
  }
  madvise(m, size_t(st.st_size), MADV_SEQUENTIAL);
  base_ = b;
  size_ = size_t(st.st_size);
  off_ = 24;
  snapshot_ = uint32_t(pcap_snapshot(pcap_));
}

// libpcap continues at the first record the map did not take.
void CaptureFile::hand_over() {
  FILE* f = pcap_file(pcap_);
  if (f) std::fseek(f, long(off_), SEEK_SET);
  munmap(const_cast<uint8_t*>(base_), size_);
  base_ = nullptr;
}

}  // namespace testbed::analysis
