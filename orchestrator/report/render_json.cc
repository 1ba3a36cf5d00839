// JSON: a capture analysis (`testbed analyze --json`) and report.json.
#include <fmt/format.h>

#include "orchestrator/report/model.h"
#include "orchestrator/report/payload_decode.h"
#include "orchestrator/report/render.h"
#include "orchestrator/report/render_common.h"
#include "orchestrator/report/scanner_build.h"
#include "orchestrator/results/manifest.h"

namespace testbed::report {
using nlohmann::json;
using namespace analysis;

namespace {

nlohmann::json counts_json(const TrafficCounts& c) {
  return {{"packets", c.packets}, {"bytes", c.bytes},     {"icmp", c.by_proto[0]},
          {"tcp", c.by_proto[1]}, {"udp", c.by_proto[2]}, {"other", c.by_proto[3]}};
}

nlohmann::json key_json(const PacketKey& k, const PayloadStore& ps,
                        const analysis::LocatedPacket* at, const PacketPlaces* places, size_t c) {
  nlohmann::json j = {{"proto", k.proto_name()},
                      {"src", k.src_addr().str()},
                      {"dst", k.dst_addr().str()},
                      {"length", k.length},
                      {"payload_hash", fmt::format("{:016x}", k.payload_hash)},
                      {"payload_preview", ps.preview(k.payload_hash)}};
  if (k.proto == 6 || k.proto == 17) j["dport"] = k.dport;
  if (k.proto == 6) j["tcp_flags"] = tcp_flags_str(k.tcp_flags);
  if (k.ttl) j["ttl"] = k.ttl;
  if (k.ip_id) j["ip_id"] = k.ip_id;
  if (k.window) j["window"] = k.window;
  if (k.tcp_options) j["tcp_options_layout"] = fmt::format("{:08x}", k.tcp_options);
  if (k.icmp_type || k.icmp_code) {
    j["icmp_type"] = k.icmp_type;
    j["icmp_code"] = k.icmp_code;
  }
  const std::string payload = payload_of(k, at, ps);
  if (places && c < places->runs.size()) j["run"] = places->runs[c];
  if (at) {
    j["frame"] = at->frame;
    j["time"] = epoch_time(*at);  // a string: a double loses the nanoseconds
    j["time_relative"] = at->ts - places->first_ts[c];
  }
  j["display_filter"] = display_filter(k, payload);
  if (!payload.empty()) j["payload_hex"] = hex_string(payload);
  if (auto d = decode_payload(k, payload); !d.kind.empty())
    j["decoded"] = {{"kind", d.kind}, {"summary", d.summary}, {"fields", d.fields}};
  return j;
}

nlohmann::json table_json(const UniqueTable& t, const AnalysisResult& r, size_t limit,
                          const PacketPlaces* places) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < t.rows.size(); ++i) {
    nlohmann::json row = {{"phase", t.rows[i]}, {"common", t.common[i]}};
    nlohmann::json per = nlohmann::json::object();
    for (size_t c = 0; c < t.cells[i].size(); ++c) {
      const UniqueSetResult& u = t.cells[i][c];
      nlohmann::json list = nlohmann::json::array();
      for (size_t k = 0; k < u.unique.size() && k < limit; ++k)
        list.push_back(key_json(u.unique[k], *r.payloads,
                                places ? places->find(c, u.unique[k]) : nullptr, places, c));
      per[r.captures[c].input.label] = {{"set_size", u.set_size},
                                        {"not_common", u.not_common},
                                        {"unique", u.unique.size()},
                                        {"removed_by_similarity",
                                         {{"icmp", u.removed[0]},
                                          {"tcp", u.removed[1]},
                                          {"udp", u.removed[2]},
                                          {"other", u.removed[3]}}},
                                        {"unique_packets", list}};
    }
    row["inputs"] = per;
    rows.push_back(row);
  }
  return {{"grouping", t.grouping}, {"rows", rows}};
}

nlohmann::json rule_json(const SimilarityRule& r) {
  return {{"enabled", r.enabled},
          {"max_length_diff", r.max_length_diff},
          {"min_common_block", r.min_common_block}};
}

json runs_json(const Model& m) {
  json a = json::array();
  for (const RunRecord& r : m.data.results.runs) {
    json j = {
        {"version", r.version}, {"rep", r.rep}, {"dir", r.dir.string()}, {"status", r.status}};
    if (!r.stage.empty()) j["stage"] = r.stage;
    if (!r.error.empty()) j["error"] = r.error;
    if (r.complete()) {
      j["capture"] = r.manifest.capture ? results::to_json(*r.manifest.capture) : json::object();
      j["scanner_version"] = first_line(r.manifest.scanner_version);
      j["scanner_compiled_with"] = compiled_with(r.manifest.scanner_version);
      j["scanner_build"] = scanner_build(r.manifest);
      if (!r.manifest.lab.host.empty()) j["lab_host"] = r.manifest.lab.host;
      // Attempts the retry policy discarded (experiment `retries:`), as the manifest has them.
      if (!r.manifest.retries.empty()) j["retries"] = results::to_json(r.manifest).at("retries");
    }
    a.push_back(j);
  }
  return a;
}

json noise_json(const analysis::NoiseFloor& nf) {
  json rows = json::array();
  for (size_t r = 0; r < nf.rows.size(); ++r) {
    json per = json::object();
    for (size_t v = 0; v < nf.versions.size(); ++v) {
      const auto& c = nf.cells[r][v];
      per[nf.versions[v]] = {{"pairs", c.pairs}, {"max", c.max}, {"mean", c.mean}};
    }
    rows.push_back({{"phase", nf.rows[r]}, {"versions", per}});
  }
  return {{"available", nf.available()},
          {"grouping", nf.grouped ? "three-phase" : "fine"},
          {"rows", rows}};
}

json classifier_json(const Model& m) {
  json j = {{"method",
             "leave-one-out, mean similarity to each version's runs; similarity of two runs = "
             "share of their informative sent keys (per fine phase; keys that recur in other "
             "runs but not in all) with an equal or similar packet in the other run (the "
             "study's similarity rule, as for Table 2)"},
            {"available", m.loo.available}};
  if (!m.loo.available) j["reason"] = m.loo.reason;
  j["versions"] = m.loo.versions;
  j["confusion"] = m.loo.counts;
  j["correct"] = m.loo.correct;
  j["total"] = m.loo.total;
  json preds = json::array();
  for (const auto& p : m.loo.predictions) {
    json s = json::object();
    for (const auto& [v, sc] : p.scores) s[v] = sc;
    preds.push_back({{"run", p.run},
                     {"actual", p.actual},
                     {"predicted", p.predicted},
                     {"tie", p.tie},
                     {"scores", s}});
  }
  j["predictions"] = preds;
  j["pairwise_similarity"] = {{"runs", m.run_names}, {"matrix", m.similarity}};
  return j;
}

/// One capture of capture_json: counts, decoding, phases, agreement, timeline, result file.
nlohmann::json one_capture_json(const CaptureAnalysis& c) {
  nlohmann::json cj;
  cj["label"] = c.input.label;
  cj["pcap"] = c.input.pcap.string();
  cj["link_type"] = c.link_type_name;
  cj["scanner"] = c.scanner.str();
  cj["scanner_auto"] = c.scanner_auto;
  cj["scanner_distinct_ports"] = c.scanner_distinct_ports;
  cj["first_ts"] = c.first_ts;
  cj["last_ts"] = c.last_ts;
  cj["duration_s"] = c.duration;
  cj["duration_source"] = c.duration_source;
  cj["sent"] = counts_json(c.sent);
  cj["received"] = counts_json(c.received);
  cj["unrelated_ip_packets"] = c.unrelated_ip;
  const DecodeCounts& d = c.decode;
  cj["decode"] = {{"frames", d.frames},           {"ok", d.ok},
                  {"not_ip", d.not_ip},           {"truncated", d.truncated},
                  {"malformed", d.malformed},     {"unsupported_link", d.unsupported_link},
                  {"snaplen_cut", d.snaplen_cut}, {"bad_options", d.bad_options}};
  cj["phase_source"] = c.phase_source;
  nlohmann::json phases = nlohmann::json::object();
  for (Phase p : kAllPhases) {
    int i = static_cast<int>(p);
    phases[phase_name(p)] = {{"sent", counts_json(c.sent_by_phase[i])},
                             {"received", counts_json(c.received_by_phase[i])},
                             {"distinct_sent_keys", c.sent_keys[i].size()}};
  }
  cj["phases"] = phases;
  if (c.agreement.available) {
    nlohmann::json conf = nlohmann::json::object();
    for (Phase a : kAllPhases) {
      nlohmann::json row = nlohmann::json::object();
      for (Phase b : kAllPhases)
        if (uint64_t n = c.agreement.confusion[int(a)][int(b)]) row[phase_name(b)] = n;
      if (!row.empty()) conf[phase_name(a)] = row;
    }
    cj["phase_agreement"] = {{"compared", c.agreement.compared},
                             {"agreed", c.agreement.agreed},
                             {"boundary_by_shape", c.agreement.boundary_by_shape},
                             {"timeline_vs_classifier", conf}};
  }
  if (c.timeline) cj["timeline"] = nlohmann::json::parse(phase_timeline_json(*c.timeline));
  if (c.result) {
    // Keyed by the kind ("nmap", "masscan", "zmap"): a reader sees whose report it was.
    const ScanResult& r = *c.result;
    cj[std::string(c.input.kind->kind)] = {
        {"version", r.version},      {"args", r.args},         {"elapsed_s", r.elapsed},
        {"finished", r.finished},    {"hosts_up", r.hosts_up}, {"hosts_total", r.hosts_total},
        {"open_ports", r.open_ports}};
  }
  nlohmann::json ports = nlohmann::json::array();
  for (const auto& [k, n] : c.port_usage)
    ports.push_back({{"proto", k.first == 6 ? "tcp" : "udp"}, {"port", k.second}, {"packets", n}});
  cj["port_usage"] = ports;
  return cj;
}

}  // namespace

nlohmann::json capture_json(const AnalysisResult& r, size_t limit, const PacketPlaces* places) {
  nlohmann::json j;
  const SimilarityOptions& so = r.options.similarity;
  j["options"] = {{"key_fields", key_fields_str(r.options.key_fields)},
                  {"byte_count", "on-the-wire frame length (pcap header len)"},
                  {"similarity",
                   {{"tcp", rule_json(so.tcp)},
                    {"udp", rule_json(so.udp)},
                    {"icmp", rule_json(so.icmp)},
                    {"other", rule_json(so.other)},
                    {"same_dst", so.same_dst},
                    {"max_candidates", so.max_candidates}}}};
  j["captures"] = nlohmann::json::array();
  for (const CaptureAnalysis& c : r.captures) j["captures"].push_back(one_capture_json(c));
  j["table2"] = table_json(r.three_phase, r, limit, places);
  j["table2_fine"] = table_json(r.fine, r, limit, places);
  return j;
}

json findings_json(const Model& m) {
  json a = json::array();
  for (const Finding& f : m.findings)
    a.push_back({{"phase", f.phase},
                 {"proto", f.proto},
                 {"payload_class", f.payload_class},
                 {"versions", f.versions},
                 {"ports", f.ports},
                 {"other_versions", f.other_versions},
                 {"other_ports", f.other_ports},
                 {"packets", f.packets},
                 {"total", f.total},
                 {"noise_known", f.noise_known},
                 {"noise_packets", f.noisy},
                 {"noise_floor", f.noise_floor},
                 {"sentence", f.sentence},
                 {"html_anchor", f.anchor}});
  return a;
}

json report_json(const Model& m) {
  json j = {{"format", "testbed-report"},
            {"version", 1},
            {"experiment", m.data.results.experiment},
            {"results_dir", m.data.results.dir.string()},
            {"generated", m.generated},
            {"repetitions", m.data.results.repetitions},
            {"versions", m.versions},
            {"what_differs", findings_json(m)},
            {"analysis_settings_source", m.data.results.options_source},
            {"warnings", m.data.results.warnings},
            {"runs", runs_json(m)},
            {"analysis", capture_json(m.study, 1000, &m.places)},
            {"noise_floor",
             {{"three_phase", noise_json(m.noise_grouped)}, {"fine", noise_json(m.noise_fine)}}},
            {"classifier", classifier_json(m)}};
  json study = {
      {"versions", kStudyVersions}, {"table1", json::object()}, {"table2", json::object()}};
  for (const auto& r : kStudyTable1) study["table1"][r.name] = r.v;
  for (const auto& r : kStudyTable2) study["table2"][r.name] = r.v;
  j["study"] = study;
  if (m.drift) {
    j["baseline"] = m.drift->to_json();
    j["baseline"]["dir"] = m.baseline_name;
  }
  j["drift"] = m.drift ? m.drift->drift : false;
  for (const auto& x : m.extra) j["sections"][x.id] = x.json;
  return j;
}

}  // namespace testbed::report
