#include "orchestrator/analysis/analyze.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio_ext.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "orchestrator/analysis/flat_map.h"
#include "orchestrator/util/log.h"

namespace testbed::analysis {
namespace {

/// Owns a pcap_t from pcap_open_offline* / pcap_fopen_offline*; pcap_close also closes the
/// file.
struct PcapCloser {
  void operator()(pcap_t* p) const noexcept {
    if (p) pcap_close(p);
  }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

// stdio buffer for the capture file: libpcap reads each record with two small freads, so a
// large buffer turns ~20,000 4 KiB read(2) calls per 80 MB into ~80.
constexpr size_t kReadBuffer = 1u << 20;

util::Result<PcapHandle> open_capture(const std::filesystem::path& path) {
  char err[PCAP_ERRBUF_SIZE] = "";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return util::fail("capture {} does not exist or is not a file", path.string());
  // Opened here (not by pcap_open_offline) to give the stream a large buffer and no
  // locking: only this thread reads it. Same message as pcap_open_offline on failure.
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return util::fail("cannot read capture {}: {}: {} (is it a pcap/pcapng file?)", path.string(),
                      path.string(), std::strerror(errno));
  std::setvbuf(f, nullptr, _IOFBF, kReadBuffer);
  __fsetlocking(f, FSETLOCKING_BYCALLER);
  // pcap_fopen_offline*() takes ownership of f on success (pcap_close closes it), not on
  // failure.
  pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    std::fclose(f);
    return util::fail("cannot read capture {}: {} (is it a pcap/pcapng file?)", path.string(), err);
  }
  PcapHandle h(p);
  int lt = pcap_datalink(p);
  if (!link_type_supported(lt))
    return util::fail("capture {}: link type {} ({}) is not supported (supported: EN10MB, LINUX_SLL, "
                      "LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)", path.string(), lt, link_type_name(lt));
  return h;
}

/// Hash of an address for the per-source table (not stored anywhere).
inline uint64_t addr_hash(const IpAddr& a) {
  uint64_t lo, hi;
  std::memcpy(&lo, a.bytes, 8);
  std::memcpy(&hi, a.bytes + 8, 8);
  uint64_t x = (lo * 0x9e3779b97f4a7c15ull) ^ (hi + a.family) * 0xc2b2ae3d27d4eb4full;
  return x ^ (x >> 29);
}

/// Distinct destination ports per source address: the scanner is the source with most.
class PortSpread {
 public:
  void add(const PacketInfo& p) {
    if (p.ip_version == 0) return;
    Entry* e = lookup(p.src);
    if (!e) return;
    ++e->packets;
    if (!p.has_transport || (p.proto_class != ProtoClass::kTcp && p.proto_class != ProtoClass::kUdp)) return;
    uint64_t& w = e->bits[p.dport >> 6];
    uint64_t bit = uint64_t{1} << (p.dport & 63);
    if (!(w & bit)) {
      w |= bit;
      ++e->count;
    }
  }
  /// The source with the most distinct destination ports; ties (e.g. no port could be
  /// decoded because snaplen cut every header) go to the source of more packets, then to
  /// the one seen first.
  std::pair<IpAddr, uint32_t> best() const {
    const Entry* b = nullptr;
    for (const auto& e : order_)
      if (!b || e->count > b->count || (e->count == b->count && e->packets > b->packets)) b = e.get();
    return b ? std::pair{b->addr, b->count} : std::pair{IpAddr{}, 0u};
  }
  uint32_t count(const IpAddr& a) const {
    const Entry* e = const_cast<PortSpread*>(this)->find(a, addr_hash(a));
    return e ? e->count : 0;
  }

 private:
  struct Entry {
    IpAddr addr;
    std::vector<uint64_t> bits = std::vector<uint64_t>(1024);
    uint32_t count = 0;
    uint64_t packets = 0;
  };
  // Scanner and targets alternate packet by packet: the last two sources are remembered
  // before the hash table is asked.
  Entry* lookup(const IpAddr& a) {
    if (recent_[0] && recent_[0]->addr == a) return recent_[0];
    if (recent_[1] && recent_[1]->addr == a) {
      std::swap(recent_[0], recent_[1]);
      return recent_[0];
    }
    const uint64_t h = addr_hash(a);
    Entry* e = find(a, h);
    if (!e) {
      if (order_.size() >= kMaxSources) return nullptr;  // bounded memory (8 KiB per source)
      order_.push_back(std::make_unique<Entry>());
      e = order_.back().get();
      e->addr = a;
      index_[h].push_back(e);
    }
    recent_[1] = recent_[0];
    recent_[0] = e;
    return e;
  }
  Entry* find(const IpAddr& a, uint64_t h) {
    if (std::vector<Entry*>* v = index_.find(h))
      for (Entry* e : *v)
        if (e->addr == a) return e;
    return nullptr;
  }
  static constexpr size_t kMaxSources = 4096;
  FlatU64Map<std::vector<Entry*>> index_;  // addr_hash -> entries (collisions kept apart)
  std::vector<std::unique_ptr<Entry>> order_;
  Entry* recent_[2] = {nullptr, nullptr};
};

constexpr uint64_t kDetectPrefix = 100000;

/// The per-packet work of one pass over a capture with a known scanner address: Table 1,
/// phases, sent keys, port usage, decode counts.
class CapturePass {
 public:
  CapturePass(const CaptureInput& in, const AnalysisOptions& opts, const IpAddr& scanner, int lt,
              PayloadStore& payloads, CaptureAnalysis* out)
      : opts_(opts), scanner_(scanner), payloads_(payloads), out_(out),
        classifier_(in.kind ? in.kind->classifier() : nullptr) {
    out->link_type = lt;
    out->link_type_name = link_type_name(lt);
    out->scanner = scanner;
    tl_ = out->timeline ? &*out->timeline : nullptr;
    out->phase_source = tl_ ? "timeline" : "classifier";
    out->agreement.available = tl_ != nullptr;
    // Most sent packets of a scan are distinct port-scan probes: size that set up front
    // (about half the frames of ~70 bytes) instead of rehashing it a dozen times.
    std::error_code ec;
    uintmax_t size = std::filesystem::file_size(in.pcap, ec);
    if (!ec) out->sent_keys[static_cast<int>(Phase::kPortScan)].reserve(std::min<uintmax_t>(size / 160, 8u << 20));
  }

  /// One decoded frame captured at `ts` (epoch seconds), in capture order.
  void frame(double ts, const PacketInfo& p) {
    CaptureAnalysis* out = out_;
    if (first_) {
      out->first_ts = ts;
      first_ = false;
    }
    out->last_ts = std::max(out->last_ts, ts);
    DecodeCounts& dc = out->decode;
    ++dc.frames;
    if (p.snaplen_cut) ++dc.snaplen_cut;
    if (p.bad_options) ++dc.bad_options;
    switch (p.status) {
      case DecodeStatus::kOk: ++dc.ok; break;
      case DecodeStatus::kNotIp: ++dc.not_ip; break;
      case DecodeStatus::kTruncated: ++dc.truncated; break;
      case DecodeStatus::kMalformed: ++dc.malformed; break;
      case DecodeStatus::kUnsupportedLink: ++dc.unsupported_link; break;
    }
    if (p.ip_version == 0) return;
    const bool sent = p.src == scanner_;
    const bool recv = p.dst == scanner_;
    if (!sent && !recv) {
      ++out->unrelated_ip;
      return;
    }
    Phase cls = classifier_ ? classifier_->classify(p, sent) : Phase::kOther;
    Phase ph = cls;
    if (tl_) {
      ph = timeline_phase(ts);
      if (sent) {
        ++out->agreement.compared;
        if (ph == cls) ++out->agreement.agreed;
        ++out->agreement.confusion[static_cast<int>(ph)][static_cast<int>(cls)];
      }
      // Within kBoundarySlack of a phase boundary the console line's time is too coarse
      // (Nmap may print "Initiating Traceroute" after its first probes left): a packet
      // whose shape names one of the two phases meeting there takes that phase.
      const double slack = tl_->boundary_slack;
      if (cls != ph && (ts - cached_lo_ < slack || cached_hi_ - ts < slack)) {
        Phase before = tl_->phase_at(ts - slack), after = tl_->phase_at(ts + slack);
        if (before != after && (cls == before || cls == after)) {
          ph = cls;
          if (sent) ++out->agreement.boundary_by_shape;
        }
      }
    }
    const int pi = static_cast<int>(ph);
    if (recv) {
      out->received.add(p);
      out->received_by_phase[pi].add(p);
    }
    if (!sent) return;
    out->sent.add(p);
    out->sent_by_phase[pi].add(p);
    uint64_t hsh = p.payload_caplen ? payload_hash(p.payload, p.payload_caplen) : 0;
    if (hsh) payloads_.add(hsh, p.payload, p.payload_caplen);
    inserter_.insert(out->sent_keys[pi], make_packet_key(p, hsh, opts_.key_fields));
    if (ph == Phase::kPortScan && p.has_transport &&
        (p.proto_class == ProtoClass::kTcp || p.proto_class == ProtoClass::kUdp))
      ++port_counts_[(p.proto_class == ProtoClass::kUdp ? 65536 : 0) + p.dport];
  }

  /// After the last frame.
  void finish() {
    inserter_.flush();
    for (uint32_t i = 0; i < port_counts_.size(); ++i)
      if (port_counts_[i])
        out_->port_usage[{uint8_t(i < 65536 ? 6 : 17), uint16_t(i & 0xffff)}] = port_counts_[i];
  }

 private:
  // Timeline lookups: packets arrive in time order, so remember the last interval's span.
  Phase timeline_phase(double t) {
    if (!(t >= cached_lo_ && t < cached_hi_)) {
      cached_phase_ = tl_->phase_at(t);
      // Cache only inside a span where no interval boundary lies.
      cached_lo_ = -1e300;
      cached_hi_ = 1e300;
      for (const PhaseInterval& iv : tl_->intervals) {
        for (double b : {iv.start - kAnnouncementLag, iv.start, std::nextafter(iv.end, 1e300)}) {
          if (b <= t)
            cached_lo_ = std::max(cached_lo_, b);
          else
            cached_hi_ = std::min(cached_hi_, b);
        }
      }
    }
    return cached_phase_;
  }

  const AnalysisOptions& opts_;
  const IpAddr scanner_;
  PayloadStore& payloads_;
  CaptureAnalysis* out_;
  const PhaseTimeline* tl_ = nullptr;
  std::unique_ptr<ShapeClassifier> classifier_;  // the kind's; none: every shape is "other"
  KeyInserter inserter_;  // sent_keys are complete after finish()
  double cached_lo_ = 1, cached_hi_ = 0;
  Phase cached_phase_ = Phase::kOther;
  bool first_ = true;
  // Port-scan histogram: TCP then UDP.
  std::vector<uint64_t> port_counts_ = std::vector<uint64_t>(2 * 65536);
};

double frame_time(const pcap_pkthdr* h) {
  return double(h->ts.tv_sec) + double(h->ts.tv_usec) * 1e-9;  // nanosecond precision
}

/// Reads the records of a capture that libpcap has opened, in order. Classic pcap files
/// (version 2.4, microsecond or nanosecond magic, either byte order) of the link types that
/// libpcap passes through unchanged are read from a memory map; everything else, and every
/// record libpcap would treat specially (longer than the snapshot length, cut short at the
/// end, odd time stamps), is left to libpcap from that record on (pcap_dispatch on the
/// same stream, positioned there). Why: libpcap reads each record with two stdio freads,
/// ~310 instructions per packet (callgrind on the 1M-packet benchmark capture), as much as
/// the rest of the per-packet analysis; the map costs ~20 and yields the same records.
class FrameReader {
 public:
  /// `pc` stays owned by the caller and must outlive the reader.
  FrameReader(pcap_t* pc, const std::filesystem::path& path) : pc_(pc) { map(path); }
  ~FrameReader() {
    if (base_) munmap(const_cast<uint8_t*>(base_), size_);
  }
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  enum Status { kDone, kStopped, kError };  ///< kError: pcap_geterr(pc) says why

  /// Calls `f(const pcap_pkthdr*, const u_char*)` for the next frames, at most `max` of
  /// them; `f` returns false to stop (the frame counts as read).
  template <typename F>
  Status read(uint64_t max, F&& f) {
    uint64_t n = 0;
    pcap_pkthdr h;
    const uint8_t* data;
    while (base_ && n < max) {
      if (!next(&h, &data)) {
        hand_over();
        break;
      }
      ++n;
      if (!f(&h, data)) return kStopped;
    }
    if (n >= max) return kDone;
    struct Ctx {
      F* f;
      pcap_t* pc;
      bool stopped;
    } ctx{&f, pc_, false};
    auto cb = [](u_char* user, const pcap_pkthdr* hdr, const u_char* bytes) {
      Ctx& c = *reinterpret_cast<Ctx*>(user);
      if (c.stopped) return;
      if (!(*c.f)(hdr, bytes)) {
        c.stopped = true;
        pcap_breakloop(c.pc);
      }
    };
    const int cnt = max == UINT64_MAX ? -1 : int(std::min<uint64_t>(max - n, INT32_MAX));
    int rc = pcap_dispatch(pc_, cnt, cb, reinterpret_cast<u_char*>(&ctx));
    if (ctx.stopped) return kStopped;
    return rc == PCAP_ERROR ? kError : kDone;
  }

 private:
  static uint32_t u32(const uint8_t* p, bool swap) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
  }
  void map(const std::filesystem::path& path) {
    switch (pcap_datalink(pc_)) {
      case DLT_EN10MB:
      case DLT_RAW:
      case DLT_IPV4:
      case DLT_IPV6:
      case DLT_NULL:
      case DLT_LOOP:
        break;
      default:
        return;  // libpcap rewrites some pseudo-headers (SLL CAN, USB, NFLOG): leave it to libpcap
    }
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
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
    if (!ok || major != 2 || minor != 4 || pcap_snapshot(pc_) <= 0) {
      munmap(m, size_t(st.st_size));
      return;
    }
    madvise(m, size_t(st.st_size), MADV_SEQUENTIAL);
    base_ = b;
    size_ = size_t(st.st_size);
    off_ = 24;
    snapshot_ = uint32_t(pcap_snapshot(pc_));
  }
  bool next(pcap_pkthdr* h, const uint8_t** data) {
    if (size_ - off_ < 16) return false;
    const uint8_t* r = base_ + off_;
    uint32_t sec = u32(r, swap_), frac = u32(r + 4, swap_), caplen = u32(r + 8, swap_),
             len = u32(r + 12, swap_);
    if (caplen > snapshot_ || caplen > size_ - off_ - 16) return false;
    if (sec > uint32_t(INT32_MAX) || frac >= (nsec_ ? 1000000000u : 1000000u)) return false;
    h->ts.tv_sec = time_t(sec);
    h->ts.tv_usec = suseconds_t(nsec_ ? frac : frac * 1000u);  // nanoseconds, as libpcap gives them
    h->caplen = caplen;
    h->len = len;
    *data = r + 16;
    off_ += 16 + size_t(caplen);
    return true;
  }
  // libpcap continues at the record the map did not take.
  void hand_over() {
    FILE* f = pcap_file(pc_);
    if (f) std::fseek(f, long(off_), SEEK_SET);
    munmap(const_cast<uint8_t*>(base_), size_);
    base_ = nullptr;
  }

  pcap_t* pc_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0, off_ = 0;
  uint32_t snapshot_ = 0;
  bool swap_ = false, nsec_ = false;
};

/// Feeds every remaining frame of `reader` to `pass` (and `spread`).
util::Status stream_rest(pcap_t* pc, FrameReader& reader, const CaptureInput& in, int lt,
                         CapturePass& pass, PortSpread* spread, const CaptureAnalysis& out) {
  PacketInfo p;
  auto st = reader.read(UINT64_MAX, [&](const pcap_pkthdr* h, const u_char* data) {
    decode_frame(lt, data, h->caplen, h->len, &p);
    if (spread) spread->add(p);
    pass.frame(frame_time(h), p);
    return true;
  });
  pass.finish();
  if (st == FrameReader::kError)
    return util::fail("capture {}: read error after {} packets: {} (the file may be cut short)",
                      in.pcap.string(), out.decode.frames, pcap_geterr(pc));
  return {};
}

/// One streaming pass with a known scanner address.
util::Status run_pass(const CaptureInput& in, const AnalysisOptions& opts, const IpAddr& scanner,
                      PayloadStore& payloads, CaptureAnalysis* out, PortSpread* spread) {
  auto h = open_capture(in.pcap);
  if (!h) return h.error();
  const int lt = pcap_datalink(h->get());
  FrameReader reader(h->get(), in.pcap);
  CapturePass pass(in, opts, scanner, lt, payloads, out);
  return stream_rest(h->get(), reader, in, lt, pass, spread, *out);
}

/// Auto-detection on the first kDetectPrefix packets (the fallback when they are too big
/// to keep in memory, see detect_and_run).
util::Result<IpAddr> detect_scanner_prefix(const std::filesystem::path& path) {
  auto h = open_capture(path);
  if (!h) return h.error();
  int lt = pcap_datalink(h->get());
  PortSpread spread;
  pcap_pkthdr* hdr;
  const u_char* data;
  PacketInfo p;
  for (uint64_t n = 0; n < kDetectPrefix && pcap_next_ex(h->get(), &hdr, &data) == 1; ++n) {
    decode_frame(lt, data, hdr->caplen, hdr->len, &p);
    spread.add(p);
  }
  return spread.best().first;
}

/// Frames of the detection prefix, copied so they outlive libpcap's buffer.
class PrefixBuffer {
 public:
  /// Bytes of frames and decoded records kept at most; more falls back to reading twice.
  static constexpr size_t kBudget = 64u << 20;
  struct Frame {
    double ts;
    PacketInfo p;  ///< decoded from the copy: payload points into this buffer
  };
  /// False (and nothing kept) when the frame would exceed the budget.
  bool add(int lt, const pcap_pkthdr* h, const u_char* data) {
    size_t need = h->caplen + sizeof(Frame);
    if (bytes_ + need > kBudget) return false;
    bytes_ += need;
    uint8_t* copy = alloc(h->caplen);
    if (h->caplen) std::memcpy(copy, data, h->caplen);
    Frame& f = frames_.emplace_back();
    f.ts = frame_time(h);
    decode_frame(lt, copy, h->caplen, h->len, &f.p);
    return true;
  }
  const std::vector<Frame>& frames() const { return frames_; }
  void clear() {
    frames_ = std::vector<Frame>();
    chunks_ = std::vector<std::unique_ptr<uint8_t[]>>();
    bytes_ = 0;
    left_ = 0;
  }

 private:
  uint8_t* alloc(size_t n) {
    if (n > left_) {
      size_t size = std::max<size_t>(n, 1u << 20);
      chunks_.push_back(std::make_unique<uint8_t[]>(size));
      next_ = chunks_.back().get();
      left_ = size;
    }
    uint8_t* r = next_;
    next_ += n;
    left_ -= n;
    return r;
  }
  std::vector<Frame> frames_;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  uint8_t* next_ = nullptr;
  size_t left_ = 0, bytes_ = 0;
};

/// Auto-detects the scanner on the first kDetectPrefix packets and analyses the capture in
/// the same read: the prefix is kept in memory (decoded) until the answer is known, then
/// replayed, and the rest is streamed. `spread` receives every packet. Returns the
/// prefix's answer. When the prefix does not fit PrefixBuffer::kBudget, reads the file
/// twice instead (same answer, same results).
util::Result<IpAddr> detect_and_run(const CaptureInput& in, const AnalysisOptions& opts,
                                    PayloadStore& payloads, CaptureAnalysis* out,
                                    PortSpread* spread) {
  auto h = open_capture(in.pcap);
  if (!h) return h.error();
  pcap_t* pc = h->get();
  const int lt = pcap_datalink(pc);
  FrameReader reader(pc, in.pcap);
  PrefixBuffer buf;
  auto rs = reader.read(kDetectPrefix, [&](const pcap_pkthdr* hdr, const u_char* data) {
    return buf.add(lt, hdr, data);
  });
  const bool overflow = rs == FrameReader::kStopped;
  if (overflow) {
    buf.clear();
    h->reset();
    auto s = detect_scanner_prefix(in.pcap);
    if (!s) return s.error();
    if (auto st = run_pass(in, opts, *s, payloads, out, spread); !st) return st.error();
    return *s;
  }
  for (const PrefixBuffer::Frame& f : buf.frames()) spread->add(f.p);
  const IpAddr scanner = spread->best().first;
  CapturePass pass(in, opts, scanner, lt, payloads, out);
  for (const PrefixBuffer::Frame& f : buf.frames()) pass.frame(f.ts, f.p);
  const bool more = rs != FrameReader::kError && buf.frames().size() == kDetectPrefix;
  buf.clear();
  if (rs == FrameReader::kError) {
    pass.finish();
    return util::fail("capture {}: read error after {} packets: {} (the file may be cut short)",
                      in.pcap.string(), out->decode.frames, pcap_geterr(pc));
  }
  if (more) {
    if (auto st = stream_rest(pc, reader, in, lt, pass, spread, *out); !st) return st.error();
  } else {
    pass.finish();
  }
  return scanner;
}

}  // namespace

std::string link_type_name(int dlt) {
  const char* n = pcap_datalink_val_to_name(dlt);
  return n ? n : "DLT " + std::to_string(dlt);
}

PacketKeySet CaptureAnalysis::group_keys(PhaseGroup g) const {
  PacketKeySet s;
  for (Phase p : kAllPhases)
    if (phase_group(p) == g) s.insert(sent_keys[static_cast<int>(p)].begin(), sent_keys[static_cast<int>(p)].end());
  return s;
}

util::Result<CaptureAnalysis> analyze_capture(const CaptureInput& in, const AnalysisOptions& opts,
                                              PayloadStore& payloads) {
  CaptureAnalysis base;
  base.input = in;
  if ((in.result_file || in.console_log) && !in.kind)
    return util::fail("capture {}: a result file or console log needs the scanner kind",
                      in.pcap.string());
  if (in.result_file) {
    auto x = read_result_file(*in.kind, *in.result_file);
    if (!x) return x.error();
    base.result = std::move(*x);
  }
  if (in.phases_json) {
    auto t = read_phase_timeline(*in.phases_json);
    if (!t) return t.error();
    base.timeline = std::move(*t);
  } else if (in.console_log) {
    auto t = read_console_log(*in.kind, *in.console_log);
    if (!t) return t.error();
    base.timeline = std::move(*t);
  }

  IpAddr scanner;
  CaptureAnalysis out = base;
  PortSpread spread;
  if (opts.scanner) {
    scanner = *opts.scanner;
    base.scanner_auto = false;
    out.scanner_auto = false;
    if (auto st = run_pass(in, opts, scanner, payloads, &out, &spread); !st) return st.error();
  } else {
    auto s = detect_and_run(in, opts, payloads, &out, &spread);
    if (!s) return s.error();
    scanner = *s;
  }
  if (base.scanner_auto) {
    auto [best, n] = spread.best();
    if (!(best == scanner) && (n > spread.count(scanner) || scanner.empty())) {
      // The first packets pointed elsewhere: redo the pass with the whole file's answer.
      util::log_debug("{}: scanner is {} (not {} as the first packets suggested); second pass",
                      in.pcap.string(), best.str(), scanner.str());
      scanner = best;
      out = base;
      if (auto st = run_pass(in, opts, scanner, payloads, &out, nullptr); !st) return st.error();
    }
    if (scanner.empty())
      return util::fail("capture {}: no IP traffic to find the scanner by; give its address "
                        "(--scanner-ip)", in.pcap.string());
  }
  out.scanner_distinct_ports = spread.count(scanner);
  if (out.result && out.result->finished) {
    out.duration = out.result->elapsed;
    out.duration_source = std::string(in.kind->result_source);
  } else {
    out.duration = out.last_ts > out.first_ts ? out.last_ts - out.first_ts : 0;
    out.duration_source = "capture";
  }
  return out;
}

UniqueTable unique_table(const std::vector<const CaptureAnalysis*>& caps, bool grouped,
                         const PayloadStore& payloads, const SimilarityOptions& opts) {
  UniqueTable t;
  t.grouping = grouped ? "three-phase" : "fine";
  if (grouped && caps.size() == 1) {
    // One input: nothing can be unique; report the group set sizes without copying sets.
    const CaptureAnalysis& c = *caps[0];
    for (int g = 0; g < kPhaseGroupCount; ++g) {
      size_t n = 0;
      std::vector<const PacketKeySet*> seen;
      for (Phase p : kAllPhases) {
        if (phase_group(p) != static_cast<PhaseGroup>(g)) continue;
        const PacketKeySet& s = c.sent_keys[static_cast<int>(p)];
        for (const PacketKey& k : s) {
          bool dup = false;
          for (const PacketKeySet* prev : seen) dup = dup || prev->count(k);
          n += !dup;
        }
        seen.push_back(&s);
      }
      UniqueSetResult r;
      r.set_size = n;
      t.rows.push_back(phase_group_name(static_cast<PhaseGroup>(g)));
      t.cells.push_back({r});
      t.common.push_back(n);
    }
  } else if (grouped) {
    for (int g = 0; g < kPhaseGroupCount; ++g) {
      std::vector<PacketKeySet> sets;
      sets.reserve(caps.size());
      for (const CaptureAnalysis* c : caps) sets.push_back(c->group_keys(static_cast<PhaseGroup>(g)));
      std::vector<const PacketKeySet*> ptrs;
      for (const auto& s : sets) ptrs.push_back(&s);
      size_t common = 0;
      t.rows.push_back(phase_group_name(static_cast<PhaseGroup>(g)));
      t.cells.push_back(compute_unique_sets(ptrs, payloads, opts, &common));
      t.common.push_back(common);
    }
  } else {
    for (Phase p : kAllPhases) {
      std::vector<const PacketKeySet*> ptrs;
      for (const CaptureAnalysis* c : caps) ptrs.push_back(&c->sent_keys[static_cast<int>(p)]);
      size_t common = 0;
      t.rows.push_back(phase_name(p));
      t.cells.push_back(compute_unique_sets(ptrs, payloads, opts, &common));
      t.common.push_back(common);
    }
  }
  return t;
}

util::Result<AnalysisResult> analyze(const std::vector<CaptureInput>& inputs, const AnalysisOptions& opts) {
  if (inputs.empty()) return util::fail("no captures to analyse");
  std::set<std::string> labels;
  for (const CaptureInput& in : inputs)
    if (!labels.insert(in.label).second)
      return util::fail("label \"{}\" is used twice; give each capture its own label (LABEL=FILE)", in.label);
  AnalysisResult r;
  r.options = opts;
  r.payloads = std::make_shared<PayloadStore>(opts.payload_max, opts.payload_budget);
  util::Progress progress("analysing captures");
  for (size_t i = 0; i < inputs.size(); ++i) {
    progress.update(fmt::format("{} ({}/{})", inputs[i].label, i + 1, inputs.size()));
    auto c = analyze_capture(inputs[i], opts, *r.payloads);
    if (!c) return c.error();
    const DecodeCounts& d = c->decode;
    if (d.truncated || d.malformed || d.bad_options)
      util::log_warn("{}: of {} frames, {} have truncated headers, {} malformed headers, {} malformed "
                     "IP/TCP options; they are counted as far as they decode (see \"Decoding\" in the report)",
                     inputs[i].pcap.string(), d.frames, d.truncated, d.malformed, d.bad_options);
    r.captures.push_back(std::move(*c));
  }
  progress.finish(fmt::format("{} capture(s) analysed", inputs.size()));
  if (r.payloads->full())
    util::log_warn("payload store full ({} bytes): later payloads are compared by hash only",
                   r.payloads->bytes());
  std::vector<const CaptureAnalysis*> ptrs;
  for (const auto& c : r.captures) ptrs.push_back(&c);
  r.three_phase = unique_table(ptrs, true, *r.payloads, opts.similarity);
  r.fine = unique_table(ptrs, false, *r.payloads, opts.similarity);
  return r;
}

}  // namespace testbed::analysis
