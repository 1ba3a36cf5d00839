#include "orchestrator/analysis/phases.h"

// xxHash compiled in (the same hash values as the library): the per-packet inputs are short
// and of fixed size, so the inlined code is a fraction of a library call.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "orchestrator/util/files.h"

namespace testbed::analysis {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kDiscovery: return "discovery";
    case Phase::kPortScan: return "port-scan";
    case Phase::kService: return "service";
    case Phase::kOs: return "os";
    case Phase::kScript: return "script";
    case Phase::kTraceroute: return "traceroute";
    case Phase::kOther: return "other";
  }
  return "other";
}

std::optional<Phase> parse_phase(std::string_view name) {
  for (Phase p : kAllPhases)
    if (name == phase_name(p)) return p;
  return std::nullopt;
}

const char* phase_group_name(PhaseGroup g) {
  switch (g) {
    case PhaseGroup::kHorizontal: return "horizontal";
    case PhaseGroup::kStrobe: return "strobe";
    case PhaseGroup::kServices: return "services";
    case PhaseGroup::kOther: return "other";
  }
  return "other";
}

PhaseGroup phase_group(Phase p) {
  switch (p) {
    case Phase::kDiscovery: return PhaseGroup::kHorizontal;
    case Phase::kPortScan: return PhaseGroup::kStrobe;
    case Phase::kService:
    case Phase::kOs:
    case Phase::kScript:
    case Phase::kTraceroute: return PhaseGroup::kServices;
    case Phase::kOther: return PhaseGroup::kOther;
  }
  return PhaseGroup::kOther;
}

Phase PhaseTimeline::phase_at(double t) const {
  // Intervals are few (tens): a scan for the latest-starting one containing t, and for a
  // gap, the interval announced within kAnnouncementLag after t.
  const PhaseInterval* best = nullptr;
  const PhaseInterval* next = nullptr;
  for (const PhaseInterval& iv : intervals) {
    if (iv.start <= t && t <= iv.end) {
      if (!best || iv.start >= best->start) best = &iv;
    } else if (iv.start > t && iv.start - t <= kAnnouncementLag) {
      if (!next || iv.start < next->start) next = &iv;
    }
  }
  if (best) return best->phase;
  return next ? next->phase : Phase::kOther;
}

// ---- phases.json ------------------------------------------------------------------------

std::string phase_timeline_json(const PhaseTimeline& tl) {
  nlohmann::ordered_json j;
  j["format"] = "testbed-phases";
  j["version"] = 1;
  j["clock"] = "unix-epoch-seconds";
  j["source"] = tl.source;
  j["start"] = tl.start;
  j["end"] = tl.end;
  if (tl.boundary_slack != kBoundarySlack) j["boundary_slack_s"] = tl.boundary_slack;
  j["intervals"] = nlohmann::ordered_json::array();
  for (const PhaseInterval& iv : tl.intervals) {
    nlohmann::ordered_json e;
    e["phase"] = phase_name(iv.phase);
    e["start"] = iv.start;
    e["end"] = iv.end;
    e["label"] = iv.label;
    j["intervals"].push_back(e);
  }
  // Labels come from Nmap's console output, which need not be UTF-8: replace invalid bytes
  // with U+FFFD instead of throwing (nlohmann's default).
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

util::Status write_phase_timeline(const std::filesystem::path& path, const PhaseTimeline& tl) {
  return util::write_file_atomic(path, phase_timeline_json(tl));
}

util::Result<PhaseTimeline> read_phase_timeline(const std::filesystem::path& path) {
  auto text = util::read_file(path);
  if (!text) return text.error();
  return parse_phase_timeline(*text, path.string());
}

util::Result<PhaseTimeline> parse_phase_timeline(std::string_view text, const std::string& name) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return util::fail("{}: not a JSON object; expected a phase timeline (see orchestrator/analysis/README.md)",
                      name);
  // (j.value("format", "") would throw on a non-string "format".)
  if (!j.contains("format") || !j["format"].is_string() || j["format"].get<std::string>() != "testbed-phases")
    return util::fail("{}: \"format\" must be \"testbed-phases\"", name);
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != 1)
    return util::fail("{}: unsupported \"version\" (this build reads version 1)", name);
  PhaseTimeline tl;
  auto num = [&](const nlohmann::json& o, const char* key, double* out) -> bool {
    if (!o.contains(key)) return true;
    if (!o[key].is_number()) return false;
    *out = o[key].get<double>();
    return std::isfinite(*out);
  };
  if (!num(j, "start", &tl.start) || !num(j, "end", &tl.end))
    return util::fail("{}: \"start\"/\"end\" must be numbers (seconds since the Unix epoch)", name);
  if (j.contains("source") && j["source"].is_string()) tl.source = j["source"].get<std::string>();
  if (!num(j, "boundary_slack_s", &tl.boundary_slack) || tl.boundary_slack < 0 ||
      tl.boundary_slack > 10)
    return util::fail("{}: \"boundary_slack_s\" must be a number of seconds in 0..10", name);
  if (!j.contains("intervals") || !j["intervals"].is_array())
    return util::fail("{}: \"intervals\" must be an array", name);
  size_t i = 0;
  for (const auto& e : j["intervals"]) {
    if (!e.is_object() || !e.contains("phase") || !e["phase"].is_string())
      return util::fail("{}: intervals[{}]: needs a \"phase\" string", name, i);
    auto ph = parse_phase(e["phase"].get<std::string>());
    if (!ph)
      return util::fail("{}: intervals[{}]: unknown phase \"{}\" (one of discovery, port-scan, service, os, "
                        "script, traceroute, other)", name, i, e["phase"].get<std::string>());
    PhaseInterval iv;
    iv.phase = *ph;
    if (!e.contains("start") || !e.contains("end") || !num(e, "start", &iv.start) || !num(e, "end", &iv.end))
      return util::fail("{}: intervals[{}]: \"start\" and \"end\" must be numbers", name, i);
    if (iv.end < iv.start)
      return util::fail("{}: intervals[{}]: end {} is before start {}", name, i, iv.end, iv.start);
    if (e.contains("label") && e["label"].is_string()) iv.label = e["label"].get<std::string>();
    tl.intervals.push_back(std::move(iv));
    ++i;
  }
  return tl;
}

// ---- Nmap -v log ------------------------------------------------------------------------

namespace {
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// "SYN Stealth Scan at 22:21" -> "SYN Stealth Scan"; also strips ", 0.01s elapsed …".
std::string_view task_name(std::string_view rest) {
  size_t at = rest.rfind(" at ");
  // The time follows " at "; the task itself may contain " at " only in theory.
  if (at != std::string_view::npos) rest = rest.substr(0, at);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '.')) rest.remove_suffix(1);
  return rest;
}
}  // namespace

Phase NmapLogPhaseTracker::phase_of_task(std::string_view t) {
  if (contains(t, "Ping Scan") || starts_with(t, "Parallel DNS resolution") ||
      starts_with(t, "System DNS resolution") || contains(t, "Ping"))
    return Phase::kDiscovery;
  if (starts_with(t, "Service scan")) return Phase::kService;
  if (starts_with(t, "OS detection")) return Phase::kOs;
  if (starts_with(t, "Traceroute")) return Phase::kTraceroute;
  if (starts_with(t, "NSE")) return Phase::kScript;
  if (contains(t, "Scan")) return Phase::kPortScan;  // SYN Stealth, Connect, UDP, FIN, ACK, Idle…
  return Phase::kOther;
}

void NmapLogPhaseTracker::open(double ts, Phase p, std::string label) {
  close(ts);
  open_ = PhaseInterval{p, ts, ts, std::move(label)};
}

void NmapLogPhaseTracker::close(double ts) {
  if (!open_) return;
  open_->end = ts;
  done_.push_back(std::move(*open_));
  open_.reset();
}

void NmapLogPhaseTracker::on_line(double ts, std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (!any_) first_ts_ = ts;
  any_ = true;
  last_ts_ = std::max(last_ts_, ts);
  if (starts_with(line, "Initiating ")) {
    std::string_view task = task_name(line.substr(11));
    open(ts, phase_of_task(task), std::string(task));
    announced_ = true;
  } else if (starts_with(line, "Completed ")) {
    // "Completed SYN Stealth Scan against 172.24.1.11 in 40.60s (2 hosts left)": one host
    // is done, the task goes on (Nmap 7.01/7.60 print these when hosts finish at
    // different times); only the task's own "Completed … elapsed" line ends it.
    if (contains(line, " against ") && (contains(line, " hosts left)") || contains(line, " host left)")))
      return;
    close(ts);
    announced_ = true;
  } else if (starts_with(line, "Retrying OS detection")) {
    if (!open_ || open_->phase != Phase::kOs) open(ts, Phase::kOs, "OS detection (retry)");
    announced_ = true;
  } else if (starts_with(line, "NSE: Script scanning")) {
    open(ts, Phase::kScript, "Script scanning");
    announced_ = true;
  }
}

PhaseTimeline NmapLogPhaseTracker::timeline() const {
  PhaseTimeline tl;
  tl.source = "nmap -v log";
  tl.start = first_ts_;
  tl.end = last_ts_;
  tl.intervals = done_;
  if (open_) {
    PhaseInterval iv = *open_;
    iv.end = std::max(iv.start, last_ts_);
    tl.intervals.push_back(std::move(iv));
  }
  return tl;
}

std::string NmapLogPhaseTracker::current_phase() const {
  if (!announced_) return "";
  return open_ ? phase_name(open_->phase) : "other";
}

util::Result<PhaseTimeline> timeline_from_nmap_log(const std::filesystem::path& path) {
  auto text = util::read_file(path);
  if (!text) return text.error();
  return parse_nmap_log(*text, path.string());
}

util::Result<PhaseTimeline> parse_nmap_log(std::string_view text, const std::string& name) {
  NmapLogPhaseTracker tr;
  std::istringstream in{std::string(text)};
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    char* end = nullptr;
    double ts = std::strtod(line.c_str(), &end);
    if (end == line.c_str() || !std::isfinite(ts))
      return util::fail("{}:{}: expected \"<epoch seconds> <nmap output line>\"", name, n);
    std::string_view rest(end);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    tr.on_line(ts, rest);
  }
  return tr.timeline();
}

// ---- packet-shape classifier --------------------------------------------------------------

uint64_t PhaseClassifier::host_key(const IpAddr& a) {
  if (!(a == last_addr_)) {
    last_addr_ = a;
    last_key_ = XXH3_64bits(&a, sizeof a);
  }
  return last_key_;
}

namespace {
// Combines a flow-table key with a port. Keys only index the classifier's own tables, so
// any well-mixed 64-bit function does (collisions are as unlikely as XXH3's); this one is
// a multiply-xorshift finaliser (splitmix64's), a few instructions instead of a hash call.
inline uint64_t mix(uint64_t h, uint64_t v) {
  uint64_t x = h ^ (v * 0x9e3779b97f4a7c15ull);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Nmap sends raw packets with a random TTL in [37, 59] unless --ttl is given; the kernel's
// own connections (version detection, NSE) use 64. Traceroute probes count up from 1.
bool is_traceroute_ttl(uint8_t ttl) { return ttl > 0 && ttl < 32; }

bool all_bytes(const PacketInfo& p, uint8_t b) {
  if (p.payload_caplen == 0) return false;
  for (uint32_t i = 0; i < p.payload_caplen; ++i)
    if (p.payload[i] != b) return false;
  return true;
}

bool payload_contains(const PacketInfo& p, std::string_view needle) {
  std::string_view s(reinterpret_cast<const char*>(p.payload), p.payload_caplen);
  return s.find(needle) != std::string_view::npos;
}
}  // namespace

Phase PhaseClassifier::classify_sent(const PacketInfo& p) {
  if (p.ip_version == 0) return Phase::kOther;
  if (is_traceroute_ttl(p.ttl)) return Phase::kTraceroute;
  if (p.status != DecodeStatus::kOk || !p.has_transport) return Phase::kOther;
  const uint8_t f = p.tcp_flags;
  switch (p.proto_class) {
    case ProtoClass::kIcmp: {
      bool echo = (p.ip_version == 4 && p.icmp_type == 8) || (p.ip_version == 6 && p.icmp_type == 128);
      // OS detection IE probes: echo with code 9 and 120 bytes, or 150 bytes of data.
      if (echo && (p.icmp_code != 0 || p.payload_len >= 100)) return Phase::kOs;
      if (echo) return Phase::kDiscovery;                          // -PE
      if (p.ip_version == 4 && (p.icmp_type == 13 || p.icmp_type == 17)) return Phase::kDiscovery;  // -PP, -PM
      if (p.ip_version == 6 && p.icmp_type == 135) return Phase::kDiscovery;  // neighbour solicitation
      return Phase::kOther;
    }
    case ProtoClass::kUdp:
      if (p.payload_len == 300 && all_bytes(p, 'C')) return Phase::kOs;  // OS probe U1
      if (p.dport == 53) return Phase::kDiscovery;  // reverse-DNS of the targets
      return after_os_ ? Phase::kScript : Phase::kService;
    case ProtoClass::kTcp: {
      // OS detection probe set (nmap.org/book/osdetect-methods.html).
      if ((f & kSyn) && (f & (kEce | kCwr))) return Phase::kOs;               // ECN
      if (f == 0) return Phase::kOs;                                            // T2
      if (f == (kSyn | kFin | kPsh | kUrg)) return Phase::kOs;                // T3
      if (f == (kFin | kPsh | kUrg)) return Phase::kOs;                       // T7
      if (f == kSyn) {
        uint16_t w = p.tcp_window;
        if (w == 31337 || ((w == 1 || w == 63 || w == 4 || w == 16 || w == 512) && p.tcp_opt_len > 4))
          return Phase::kOs;                                                    // SEQ, T5
        if (w == 1024 && p.tcp_opt_len == 4 && p.payload_len == 0) {           // raw SYN, MSS only
          uint32_t& n = raw_syns_[host_key(p.dst)];
          ++n;
          // Host discovery's -PS443 is the first raw SYN a host receives.
          return (n == 1 && p.dport == 443) ? Phase::kDiscovery : Phase::kPortScan;
        }
        if (w == 1024 || w == 2048 || w == 3072 || w == 4096) return Phase::kPortScan;
        return after_os_ ? Phase::kScript : Phase::kService;                   // a kernel connect()
      }
      if (f == kAck && p.payload_len == 0) {
        if (p.tcp_window == 32768 || (p.tcp_window == 1024 && p.tcp_opt_len > 4)) return Phase::kOs;  // T6, T4
        if (p.tcp_window == 1024 && p.tcp_opt_len == 0) return Phase::kDiscovery;  // -PA80
      }
      if (payload_contains(p, "Nmap Scripting Engine")) return Phase::kScript;
      return Phase::kOther;  // decided by the connection below
    }
    case ProtoClass::kOther:
      return Phase::kOther;
  }
  return Phase::kOther;
}

Phase PhaseClassifier::classify(const PacketInfo& p, bool sent) {
  if (p.ip_version == 0) return Phase::kOther;
  if (sent) {
    Phase ph = classify_sent(p);
    if (ph == Phase::kOs || ph == Phase::kTraceroute) after_os_ = true;
    uint64_t h = host_key(p.dst);
    const uint64_t port = mix(h, p.dport);
    if (p.has_transport && p.proto_class == ProtoClass::kTcp) {
      const uint64_t conn = mix(port, p.sport);  // not needed by most packets (port-scan SYNs)
      bool connect_syn = p.tcp_flags == kSyn && (ph == Phase::kService || ph == Phase::kScript);
      if (connect_syn) {
        by_conn_[conn] = ph;
      } else if (ph == Phase::kOther || (ph == Phase::kScript && p.payload_len > 0)) {
        // Later packets of a connection (ACK, data, FIN, RST) take the connection's phase;
        // NSE's user agent turns a connection into script traffic.
        if (Phase* c = by_conn_.find(conn)) {
          if (ph == Phase::kScript) *c = Phase::kScript;
          ph = *c;
        } else if (ph == Phase::kOther && p.payload_len > 0) {
          // Data on a connection whose SYN we did not see: version detection or NSE.
          ph = after_os_ ? Phase::kScript : Phase::kService;
        } else if (ph == Phase::kOther) {
          // A raw RST answering a SYN/ACK of the port scan, or a stray segment.
          if (const Phase* pt = by_port_.find(port)) ph = *pt;
          else if (const Phase* ht = by_host_.find(h)) ph = *ht;
        }
      }
    }
    if (ph != Phase::kOther) {
      // Port-scan probes are most of a capture and one per host:port: they are not stored
      // per port (memory stays bounded by hosts); a miss falls back to the host's phase.
      if (ph != Phase::kPortScan) by_port_[port] = ph;
      else if (!by_port_.empty()) by_port_.erase(port);
      if (!last_host_valid_ || last_host_ != h || last_host_phase_ != ph) {
        by_host_[h] = ph;
        last_host_ = h;
        last_host_phase_ = ph;
        last_host_valid_ = true;
      }
    }
    return ph;
  }
  // Received: the phase of what the scanner last sent to that host/port.
  uint64_t h = host_key(p.src);
  if (p.has_transport && (p.proto_class == ProtoClass::kTcp || p.proto_class == ProtoClass::kUdp)) {
    uint64_t port = mix(h, p.sport);
    if (const Phase* c = by_conn_.find(mix(port, p.dport))) return *c;
    if (const Phase* pt = by_port_.find(port)) return *pt;
  }
  const Phase* ht = by_host_.find(h);
  return ht ? *ht : Phase::kOther;
}

}  // namespace testbed::analysis
