#include "orchestrator/analysis/analyze.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>

#include "orchestrator/analysis/flat_map.h"
#include "orchestrator/util/log.h"

namespace testbed::analysis {
namespace {

/// Opens the capture of `in` with the read filter of `opts`.
util::Result<CaptureFile> open_capture(const CaptureInput& in, const AnalysisOptions& opts) {
  auto f = CaptureFile::open(in.pcap);
  if (!f) return f.error();
  if (!opts.read.empty())
    if (auto st = f->set_filter(opts.read); !st) return st.error();
  return f;
}

/// How a read ended: a file cut short inside a record is analysed up to the cut (recorded
/// in `out`, as tshark reads it); any other read error fails the analysis.
util::Status read_end(const CaptureFile& f, CaptureAnalysis* out) {
  if (f.end() == CaptureFile::End::kCutShort) out->cut_short = f.end_message();
  if (f.end() == CaptureFile::End::kError)
    return util::fail("capture {}: read error after {} packets: {}", f.path().string(), f.records(),
                      f.end_message());
  return {};
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

/// Feeds every remaining frame of `file` to `pass` (and `spread`).
util::Status stream_rest(CaptureFile& file, CapturePass& pass, PortSpread* spread, CaptureAnalysis* out) {
  const int lt = file.link_type();
  Frame fr;
  PacketInfo p;
  while (file.next(&fr)) {
    decode_frame(lt, fr.data, fr.hdr.caplen, fr.hdr.len, &p);
    if (spread) spread->add(p);
    pass.frame(fr.time(), p);
  }
  pass.finish();
  return read_end(file, out);
}

/// One streaming pass with a known scanner address.
util::Status run_pass(const CaptureInput& in, const AnalysisOptions& opts, const IpAddr& scanner,
                      PayloadStore& payloads, CaptureAnalysis* out, PortSpread* spread) {
  auto f = open_capture(in, opts);
  if (!f) return f.error();
  CapturePass pass(in, opts, scanner, f->link_type(), payloads, out);
  return stream_rest(*f, pass, spread, out);
}

/// Auto-detection on the first kDetectPrefix packets (the fallback when they are too big
/// to keep in memory, see detect_and_run).
util::Result<IpAddr> detect_scanner_prefix(const CaptureInput& in, const AnalysisOptions& opts) {
  auto f = open_capture(in, opts);
  if (!f) return f.error();
  PortSpread spread;
  Frame fr;
  PacketInfo p;
  for (uint64_t n = 0; n < kDetectPrefix && f->next(&fr); ++n) {
    decode_frame(f->link_type(), fr.data, fr.hdr.caplen, fr.hdr.len, &p);
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
  bool add(int lt, const analysis::Frame& fr) {
    const uint32_t caplen = fr.hdr.caplen;
    size_t need = caplen + sizeof(Frame);
    if (bytes_ + need > kBudget) return false;
    bytes_ += need;
    uint8_t* copy = alloc(caplen);
    if (caplen) std::memcpy(copy, fr.data, caplen);
    Frame& f = frames_.emplace_back();
    f.ts = fr.time();
    decode_frame(lt, copy, caplen, fr.hdr.len, &f.p);
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
  auto f = open_capture(in, opts);
  if (!f) return f.error();
  const int lt = f->link_type();
  PrefixBuffer buf;
  Frame fr;
  uint64_t n = 0;
  bool overflow = false;
  while (n < kDetectPrefix && f->next(&fr)) {
    ++n;
    if (!buf.add(lt, fr)) {
      overflow = true;
      break;
    }
  }
  if (overflow) {
    buf.clear();
    { CaptureFile done = std::move(*f); }  // closed before the file is read again
    auto s = detect_scanner_prefix(in, opts);
    if (!s) return s.error();
    if (auto st = run_pass(in, opts, *s, payloads, out, spread); !st) return st.error();
    return *s;
  }
  for (const PrefixBuffer::Frame& pf : buf.frames()) spread->add(pf.p);
  const IpAddr scanner = spread->best().first;
  CapturePass pass(in, opts, scanner, lt, payloads, out);
  for (const PrefixBuffer::Frame& pf : buf.frames()) pass.frame(pf.ts, pf.p);
  buf.clear();
  if (auto st = stream_rest(*f, pass, spread, out); !st) return st.error();
  return scanner;
}

}  // namespace

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
      return util::fail("capture {}: no IP traffic{} to find the scanner by; give its address "
                        "(--scanner-ip)", in.pcap.string(),
                        opts.read.empty() ? "" : " passed the read filter or time window");
  }
  out.scanner_distinct_ports = spread.count(scanner);
  if (out.result && out.result->finished) {
    out.duration = out.result->elapsed;
    out.duration_source = std::string(in.kind->result_source);
  } else {
    out.duration = out.last_ts > out.first_ts ? out.last_ts - out.first_ts : 0;
    out.duration_source = "capture";
  }
  if (!out.cut_short.empty())
    util::log_warn("capture {} is cut short in the middle of a packet ({}): analysed the {} frames "
                   "before the cut", in.pcap.string(), out.cut_short, out.decode.frames);
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
