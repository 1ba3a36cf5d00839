#include "orchestrator/analysis/analyze.h"

#include <pcap/pcap.h>
#include <xxhash.h>

#include <algorithm>
#include <memory>
#include <set>
#include <unordered_map>

#include "orchestrator/util/log.h"

namespace testbed::analysis {
namespace {

/// Owns a pcap_t from pcap_open_offline*; pcap_close also closes the file.
struct PcapCloser {
  void operator()(pcap_t* p) const noexcept {
    if (p) pcap_close(p);
  }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

util::Result<PcapHandle> open_capture(const std::filesystem::path& path) {
  char err[PCAP_ERRBUF_SIZE] = "";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return util::fail("capture {} does not exist or is not a file", path.string());
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) return util::fail("cannot read capture {}: {} (is it a pcap/pcapng file?)", path.string(), err);
  PcapHandle h(p);
  int lt = pcap_datalink(p);
  if (!link_type_supported(lt))
    return util::fail("capture {}: link type {} ({}) is not supported (supported: EN10MB, LINUX_SLL, "
                      "LINUX_SLL2, RAW, IPV4, IPV6, NULL, LOOP)", path.string(), lt, link_type_name(lt));
  return h;
}

struct IpAddrHash {
  size_t operator()(const IpAddr& a) const { return XXH3_64bits(&a, sizeof a); }
};

/// Distinct destination ports per source address: the scanner is the source with most.
class PortSpread {
 public:
  void add(const PacketInfo& p) {
    if (p.ip_version == 0) return;
    Entry* e = (last_ && last_addr_ == p.src) ? last_ : lookup(p.src);
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
    auto it = map_.find(a);
    return it == map_.end() ? 0 : it->second->count;
  }

 private:
  struct Entry {
    IpAddr addr;
    std::vector<uint64_t> bits = std::vector<uint64_t>(1024);
    uint32_t count = 0;
    uint64_t packets = 0;
  };
  Entry* lookup(const IpAddr& a) {
    auto it = map_.find(a);
    if (it == map_.end()) {
      if (map_.size() >= kMaxSources) return nullptr;  // bounded memory (8 KiB per source)
      auto e = std::make_unique<Entry>();
      e->addr = a;
      it = map_.emplace(a, e.get()).first;
      order_.push_back(std::move(e));
    }
    last_addr_ = a;
    last_ = it->second;
    return last_;
  }
  static constexpr size_t kMaxSources = 4096;
  std::unordered_map<IpAddr, Entry*, IpAddrHash> map_;
  std::vector<std::unique_ptr<Entry>> order_;
  IpAddr last_addr_;
  Entry* last_ = nullptr;
};

constexpr uint64_t kDetectPrefix = 100000;

/// Auto-detection on the first kDetectPrefix packets.
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

/// One streaming pass with a known scanner address.
util::Status run_pass(const CaptureInput& in, const AnalysisOptions& opts, const IpAddr& scanner,
                      PayloadStore& payloads, CaptureAnalysis* out, PortSpread* spread) {
  auto h = open_capture(in.pcap);
  if (!h) return h.error();
  pcap_t* pc = h->get();
  const int lt = pcap_datalink(pc);
  out->link_type = lt;
  out->link_type_name = link_type_name(lt);
  out->scanner = scanner;
  const PhaseTimeline* tl = out->timeline ? &*out->timeline : nullptr;
  out->phase_source = tl ? "timeline" : "classifier";
  out->agreement.available = tl != nullptr;
  PhaseClassifier classifier;
  // Timeline lookups: packets arrive in time order, so remember the last interval's span.
  double cached_lo = 1, cached_hi = 0;
  Phase cached_phase = Phase::kOther;
  auto timeline_phase = [&](double t) {
    if (!(t >= cached_lo && t < cached_hi)) {
      cached_phase = tl->phase_at(t);
      // Cache only inside a span where no interval boundary lies.
      cached_lo = -1e300;
      cached_hi = 1e300;
      for (const PhaseInterval& iv : tl->intervals) {
        for (double b : {iv.start - kAnnouncementLag, iv.start, std::nextafter(iv.end, 1e300)}) {
          if (b <= t) cached_lo = std::max(cached_lo, b);
          else cached_hi = std::min(cached_hi, b);
        }
      }
    }
    return cached_phase;
  };

  std::vector<uint64_t> port_counts(2 * 65536);  // port-scan histogram: TCP then UDP
  // Most sent packets of a scan are distinct port-scan probes: size that set up front
  // (about half the frames of ~70 bytes) instead of rehashing it a dozen times.
  {
    std::error_code ec;
    uintmax_t size = std::filesystem::file_size(in.pcap, ec);
    if (!ec) out->sent_keys[static_cast<int>(Phase::kPortScan)].reserve(std::min<uintmax_t>(size / 160, 8u << 20));
  }
  pcap_pkthdr* hdr;
  const u_char* data;
  PacketInfo p;
  bool first = true;
  int rc;
  while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1) {
    const double ts = double(hdr->ts.tv_sec) + double(hdr->ts.tv_usec) * 1e-9;  // nanosecond precision
    if (first) {
      out->first_ts = ts;
      first = false;
    }
    out->last_ts = std::max(out->last_ts, ts);
    decode_frame(lt, data, hdr->caplen, hdr->len, &p);
    DecodeCounts& dc = out->decode;
    ++dc.frames;
    if (p.snaplen_cut) ++dc.snaplen_cut;
    switch (p.status) {
      case DecodeStatus::kOk: ++dc.ok; break;
      case DecodeStatus::kNotIp: ++dc.not_ip; break;
      case DecodeStatus::kTruncated: ++dc.truncated; break;
      case DecodeStatus::kMalformed: ++dc.malformed; break;
      case DecodeStatus::kUnsupportedLink: ++dc.unsupported_link; break;
    }
    if (p.ip_version == 0) continue;
    if (spread) spread->add(p);
    const bool sent = p.src == scanner;
    const bool recv = p.dst == scanner;
    if (!sent && !recv) {
      ++out->unrelated_ip;
      continue;
    }
    Phase cls = classifier.classify(p, sent);
    Phase ph = cls;
    if (tl) {
      ph = timeline_phase(ts);
      if (sent) {
        ++out->agreement.compared;
        if (ph == cls) ++out->agreement.agreed;
        ++out->agreement.confusion[static_cast<int>(ph)][static_cast<int>(cls)];
      }
    }
    const int pi = static_cast<int>(ph);
    if (recv) {
      out->received.add(p);
      out->received_by_phase[pi].add(p);
    }
    if (!sent) continue;
    out->sent.add(p);
    out->sent_by_phase[pi].add(p);
    uint64_t hsh = p.payload_caplen ? payload_hash(p.payload, p.payload_caplen) : 0;
    if (hsh) payloads.add(hsh, p.payload, p.payload_caplen);
    out->sent_keys[pi].insert(make_packet_key(p, hsh, opts.key_fields));
    if (ph == Phase::kPortScan && p.has_transport &&
        (p.proto_class == ProtoClass::kTcp || p.proto_class == ProtoClass::kUdp))
      ++port_counts[(p.proto_class == ProtoClass::kUdp ? 65536 : 0) + p.dport];
  }
  for (uint32_t i = 0; i < port_counts.size(); ++i)
    if (port_counts[i]) out->port_usage[{uint8_t(i < 65536 ? 6 : 17), uint16_t(i & 0xffff)}] = port_counts[i];
  if (rc == PCAP_ERROR)
    return util::fail("capture {}: read error after {} packets: {} (the file may be cut short)",
                      in.pcap.string(), out->decode.frames, pcap_geterr(pc));
  return {};
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
  if (in.nmap_xml) {
    auto x = read_nmap_xml(*in.nmap_xml);
    if (!x) return x.error();
    base.nmap = std::move(*x);
  }
  if (in.phases_json) {
    auto t = read_phase_timeline(*in.phases_json);
    if (!t) return t.error();
    base.timeline = std::move(*t);
  } else if (in.nmap_log) {
    auto t = timeline_from_nmap_log(*in.nmap_log);
    if (!t) return t.error();
    base.timeline = std::move(*t);
  }

  IpAddr scanner;
  if (opts.scanner) {
    scanner = *opts.scanner;
    base.scanner_auto = false;
  } else {
    auto s = detect_scanner_prefix(in.pcap);
    if (!s) return s.error();
    scanner = *s;
  }
  CaptureAnalysis out = base;
  PortSpread spread;
  if (auto st = run_pass(in, opts, scanner, payloads, &out, &spread); !st) return st.error();
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
  if (out.nmap && out.nmap->finished) {
    out.duration = out.nmap->elapsed;
    out.duration_source = "nmap-xml";
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
