#include "orchestrator/ids/signatures.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "orchestrator/analysis/locate.h"
#include "orchestrator/ids/select.h"

namespace testbed::ids {
namespace fs = std::filesystem;

std::string key_text(const analysis::PacketKey& k) {
  return fmt::format("{}/{}/{}/{}/{}/len{}/{:016x}", k.proto, k.src_addr().str(),
                     k.dst_addr().str(), k.dport, analysis::tcp_flags_str(k.tcp_flags), k.length,
                     k.payload_hash);
}

namespace {

/// The rule text without msg, metadata and sid: two rules with the same body match the
/// same packets.
std::string rule_body(const RuleSpec& r) {
  RuleSpec b = r;
  b.sid = 0;
  b.version = b.phase = b.run = b.key = "";
  b.frame = 0;
  return rule_text(b);
}

}  // namespace

util::Result<std::vector<RuleSpec>> generate_rules(const report::AnalysedResults& data,
                                                   const std::vector<size_t>& training) {
  std::vector<size_t> use = training;
  if (use.empty())
    for (size_t i = 0; i < data.runs.size(); ++i) use.push_back(i);
  std::vector<analysis::RunPhaseSets> sets;
  std::set<std::string> versions;
  for (size_t i : use) {
    const report::AnalysedRun& a = data.runs.at(i);
    const report::RunRecord& rec = data.results.runs[a.record];
    sets.push_back(analysis::run_phase_sets(a.capture, rec.version, rec.name(), false));
    versions.insert(rec.version);
  }
  if (versions.size() < 2)
    return util::fail("{}: signatures need complete runs of at least two scanner versions (found "
                      "{})",
                      data.results.dir.string(), versions.size());
  std::vector<const analysis::RunPhaseSets*> ptrs;
  for (const auto& s : sets) ptrs.push_back(&s);
  const auto& opts = data.results.options;
  auto unique = select_unique(ptrs, *data.payloads, opts.similarity);

  // Locate every packet in the first training run of its version (one read per capture).
  std::unordered_map<std::string, size_t> first_run;  // version -> index into `use`
  for (size_t j = 0; j < use.size(); ++j) first_run.try_emplace(sets[j].version, j);
  std::unordered_map<std::string, std::vector<analysis::PacketKey>> wanted;
  for (const auto& u : unique) wanted[u.version].push_back(u.key);
  std::unordered_map<std::string, analysis::LocatedPackets> found;
  for (auto& [version, keys] : wanted) {
    const analysis::CaptureAnalysis& c = data.runs[use[first_run[version]]].capture;
    auto l = analysis::locate_packets(c.input.pcap, c.scanner, opts.key_fields, keys);
    if (!l) return l.error();
    found[version] = std::move(*l);
  }

  std::vector<RuleSpec> out;
  std::set<std::string> bodies;
  for (const auto& u : unique) {
    auto it = found[u.version].find(u.key);
    if (it == found[u.version].end())
      return util::fail("{}: a unique packet of {} ({}) is not in its capture any more (was "
                        "the capture changed after the analysis?)",
                        data.results.dir.string(), u.version, key_text(u.key));
    const analysis::LocatedPacket& l = it->second;
    RuleSpec r;
    r.version = u.version;
    r.phase = u.phase;
    r.run = sets[first_run[u.version]].run;
    r.frame = l.frame;
    r.key = key_text(u.key);
    r.family = u.key.family;
    r.proto = u.key.proto;
    r.dst = u.key.dst_addr().str();
    r.dport = u.key.dport;
    r.tcp_flags = u.key.tcp_flags;
    r.ip_len = u.key.family == 4 ? u.key.length : 0;
    r.dsize = l.payload_len;
    if (u.key.proto == 1 || u.key.proto == 58) {
      r.icmp_type = l.icmp_type;
      r.icmp_code = l.icmp_code;
    }
    if (!l.payload.empty()) {
      std::vector<const std::string*> rivals;
      for (uint64_t h : u.rivals)
        if (const std::string* p = data.payloads->find(h)) rivals.push_back(p);
      std::vector<const std::string*> kin;
      for (uint64_t h : u.kin)
        if (const std::string* p = data.payloads->find(h)) kin.push_back(p);
      const ContentWindow w = content_window(l.payload, rivals, kin);
      r.content = l.payload.substr(w.offset, w.length);
      r.offset = static_cast<uint32_t>(w.offset);
      r.anchored = w.anchored;
      // The variants may differ in length (a token of random length): a dsize range, no
      // IP length.
      for (const std::string* k : kin) {
        const uint32_t n = static_cast<uint32_t>(k->size()) + (l.payload_len - l.payload.size());
        if (n != r.dsize) {
          r.dsize_max = std::max({r.dsize_max, r.dsize, n});
          r.ip_len = 0;
        }
      }
      if (r.dsize_max) {
        uint32_t lo = r.dsize;
        for (const std::string* k : kin)
          lo = std::min(lo, static_cast<uint32_t>(k->size()) +
                                static_cast<uint32_t>(l.payload_len - l.payload.size()));
        r.dsize = lo;
      }
    }
    if (!bodies.insert(rule_body(r)).second) continue;
    r.sid = kSidBase + static_cast<uint32_t>(out.size());
    out.push_back(std::move(r));
  }
  return out;
}

util::Result<CheckedRules> check_generated(const Suricata& s, std::vector<RuleSpec> rules,
                                           const fs::path& workdir) {
  std::vector<std::string> text;
  for (const auto& r : rules) text.push_back(rule_text(r));
  auto check = check_rules(s, text, workdir);
  if (!check) return check.error();
  CheckedRules out;
  out.suricata_version = s.version;
  out.rejected = check->errors;
  std::set<size_t> bad;
  for (const auto& e : check->errors) bad.insert(e.line);
  for (size_t i = 0; i < rules.size(); ++i)
    if (!bad.count(i + 1)) out.accepted.push_back(std::move(rules[i]));
  return out;
}

std::string rules_file(const CheckedRules& c, const std::string& source) {
  std::map<std::string, size_t> per_version;
  for (const auto& r : c.accepted) ++per_version[r.version];
  std::string o = fmt::format(
      "# testbed signatures: rules for the packets unique to each scanner version\n"
      "# source: {}\n# checked by: Suricata {} (suricata -T)\n# rules: {}",
      source, c.suricata_version, c.accepted.size());
  for (const auto& [v, n] : per_version) o += fmt::format(", {} {}", v, n);
  o += fmt::format("; rejected by Suricata: {}\n", c.rejected.size());
  for (const auto& r : c.accepted) o += rule_text(r) + "\n";
  return o;
}

RunSupport run_support(const report::AnalysedResults& data, const std::vector<RuleSpec>& rules) {
  RunSupport s;
  for (const std::string& v : data.results.versions) {
    size_t n = 0;
    for (const auto& a : data.runs) n += data.results.runs[a.record].version == v;
    s.runs_per_version.push_back({v, n});
    if (n < kMinRunsForRules) s.few_runs.push_back(v);
    if (n == 1)
      for (const RuleSpec& r : rules) s.one_run_rules += r.version == v;
  }
  return s;
}

std::vector<std::string> RunSupport::warnings(size_t total_rules) const {
  std::vector<std::string> w;
  for (const auto& [v, n] : runs_per_version)
    if (n < kMinRunsForRules)
      w.push_back(fmt::format(
          "version {} has {} complete run{} (fewer than {}): its rules cannot tell a version "
          "trait from run-to-run noise (a random port or token of one run gets a rule too); "
          "run the experiment with --repeat {} or more",
          v, n, n == 1 ? "" : "s", kMinRunsForRules, kMinRunsForRules));
  if (one_run_rules)
    w.push_back(fmt::format("{} of the {} rules rest on one run only", one_run_rules,
                            total_rules));
  return w;
}

}  // namespace testbed::ids
