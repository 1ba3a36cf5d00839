// Markdown, JSON and CSV renderings of an AnalysisResult.
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/util/files.h"

namespace testbed::analysis {
namespace {

std::string port_str(const PacketKey& k) {
  return (k.proto == 6 || k.proto == 17) ? std::to_string(k.dport) : "";
}

std::string md_escape(std::string s) {
  std::string o;
  for (char c : s) {
    if (c == '|' || c == '`' || c == '\\') o += '\\';
    o += c;
  }
  return o;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

nlohmann::json counts_json(const TrafficCounts& c) {
  return {{"packets", c.packets}, {"bytes", c.bytes}, {"icmp", c.by_proto[0]}, {"tcp", c.by_proto[1]},
          {"udp", c.by_proto[2]}, {"other", c.by_proto[3]}};
}

nlohmann::json key_json(const PacketKey& k, const PayloadStore& ps) {
  nlohmann::json j = {{"proto", k.proto_name()}, {"src", k.src_addr().str()}, {"dst", k.dst_addr().str()},
                      {"length", k.length}, {"payload_hash", fmt::format("{:016x}", k.payload_hash)},
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
  return j;
}

nlohmann::json table_json(const UniqueTable& t, const AnalysisResult& r, size_t limit) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < t.rows.size(); ++i) {
    nlohmann::json row = {{"phase", t.rows[i]}, {"common", t.common[i]}};
    nlohmann::json per = nlohmann::json::object();
    for (size_t c = 0; c < t.cells[i].size(); ++c) {
      const UniqueSetResult& u = t.cells[i][c];
      nlohmann::json list = nlohmann::json::array();
      for (size_t k = 0; k < u.unique.size() && k < limit; ++k) list.push_back(key_json(u.unique[k], *r.payloads));
      per[r.captures[c].input.label] = {
          {"set_size", u.set_size}, {"not_common", u.not_common}, {"unique", u.unique.size()},
          {"removed_by_similarity", {{"icmp", u.removed[0]}, {"tcp", u.removed[1]}, {"udp", u.removed[2]},
                                     {"other", u.removed[3]}}},
          {"unique_packets", list}};
    }
    row["inputs"] = per;
    rows.push_back(row);
  }
  return {{"grouping", t.grouping}, {"rows", rows}};
}

nlohmann::json rule_json(const SimilarityRule& r) {
  return {{"enabled", r.enabled}, {"max_length_diff", r.max_length_diff}, {"min_common_block", r.min_common_block}};
}

std::string fmt_duration(double d) { return fmt::format("{:.2f}", d); }

}  // namespace

nlohmann::json to_json(const AnalysisResult& r, size_t limit) {
  nlohmann::json j;
  const SimilarityOptions& so = r.options.similarity;
  j["options"] = {{"key_fields", key_fields_str(r.options.key_fields)},
                  {"byte_count", "on-the-wire frame length (pcap header len)"},
                  {"similarity", {{"tcp", rule_json(so.tcp)}, {"udp", rule_json(so.udp)},
                                  {"icmp", rule_json(so.icmp)}, {"other", rule_json(so.other)},
                                  {"same_dst", so.same_dst}, {"max_candidates", so.max_candidates}}}};
  j["captures"] = nlohmann::json::array();
  for (const CaptureAnalysis& c : r.captures) {
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
    cj["decode"] = {{"frames", d.frames}, {"ok", d.ok}, {"not_ip", d.not_ip}, {"truncated", d.truncated},
                    {"malformed", d.malformed}, {"unsupported_link", d.unsupported_link},
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
      cj["phase_agreement"] = {{"compared", c.agreement.compared}, {"agreed", c.agreement.agreed},
                               {"boundary_by_shape", c.agreement.boundary_by_shape},
                               {"timeline_vs_classifier", conf}};
    }
    if (c.timeline) cj["timeline"] = nlohmann::json::parse(phase_timeline_json(*c.timeline));
    if (c.result) {
      // Keyed by the kind ("nmap", "masscan", "zmap"): a reader sees whose report it was.
      const ScanResult& r = *c.result;
      cj[std::string(c.input.kind->kind)] = {
          {"version", r.version}, {"args", r.args}, {"elapsed_s", r.elapsed},
          {"finished", r.finished}, {"hosts_up", r.hosts_up}, {"hosts_total", r.hosts_total},
          {"open_ports", r.open_ports}};
    }
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& [k, n] : c.port_usage)
      ports.push_back({{"proto", k.first == 6 ? "tcp" : "udp"}, {"port", k.second}, {"packets", n}});
    cj["port_usage"] = ports;
    j["captures"].push_back(cj);
  }
  j["table2"] = table_json(r.three_phase, r, limit);
  j["table2_fine"] = table_json(r.fine, r, limit);
  return j;
}

std::string to_markdown(const AnalysisResult& r, size_t limit) {
  std::ostringstream o;
  const auto& caps = r.captures;
  auto header = [&](const std::string& first) {
    o << "| " << first << " |";
    for (const auto& c : caps) o << ' ' << md_escape(c.input.label) << " |";
    o << "\n|---|";
    for (size_t i = 0; i < caps.size(); ++i) o << "---:|";
    o << '\n';
  };
  auto row = [&](const std::string& name, auto fn) {
    o << "| " << name << " |";
    for (const auto& c : caps) o << ' ' << fn(c) << " |";
    o << '\n';
  };
  o << "## Table 1 — network usage\n\n";
  header("");
  row("duration, s", [](const CaptureAnalysis& c) { return fmt_duration(c.duration); });
  row("bytes sent", [](const CaptureAnalysis& c) { return std::to_string(c.sent.bytes); });
  row("bytes received", [](const CaptureAnalysis& c) { return std::to_string(c.received.bytes); });
  row("packets sent", [](const CaptureAnalysis& c) { return std::to_string(c.sent.packets); });
  row("packets received", [](const CaptureAnalysis& c) { return std::to_string(c.received.packets); });
  const char* names[4] = {"ICMP", "TCP", "UDP", "other"};
  for (int dir = 0; dir < 2; ++dir)
    for (int p = 0; p < 4; ++p)
      row(fmt::format("{} {}", names[p], dir == 0 ? "sent" : "received"), [&](const CaptureAnalysis& c) {
        return std::to_string((dir == 0 ? c.sent : c.received).by_proto[p]);
      });
  o << "\nScanner: ";
  for (size_t i = 0; i < caps.size(); ++i)
    o << (i ? ", " : "") << md_escape(caps[i].input.label) << " = " << caps[i].scanner.str()
      << (caps[i].scanner_auto ? " (auto)" : " (given)");
  o << ". Bytes are on-the-wire frame lengths (pcap header `len`). Duration from ";
  for (size_t i = 0; i < caps.size(); ++i) o << (i ? ", " : "") << caps[i].duration_source;
  o << ".\n";

  auto table2 = [&](const UniqueTable& t, const std::string& title) {
    o << "\n## " << title << "\n\n";
    header("phase");
    for (size_t i = 0; i < t.rows.size(); ++i) {
      o << "| " << t.rows[i] << " |";
      for (const auto& cell : t.cells[i]) o << ' ' << cell.unique.size() << " |";
      o << '\n';
    }
  };
  // Table 2, the similarity exclusion and the unique packets compare captures: with one
  // capture they would be empty sections (every packet is common to "all"), so they are left
  // out and the reader is told why.
  const bool compared = caps.size() >= 2;
  if (compared) {
    table2(r.three_phase, "Table 2 — unique packets per phase (study's three phases)");
    o << "\nGrouping: discovery → horizontal; port-scan → strobe; service, os, script, traceroute → "
         "services; unattributed → other.\n";
    table2(r.fine, "Table 2 by fine phase");
  } else {
    o << "\nOne capture: Table 2, the similarity exclusion and the unique packets compare "
         "captures, so they need two or more.\n";
  }

  o << "\n## Sent packets per fine phase (distinct keys in parentheses)\n\n";
  header("phase");
  for (Phase p : kAllPhases)
    row(phase_name(p), [&](const CaptureAnalysis& c) {
      return fmt::format("{} ({})", c.sent_by_phase[int(p)].packets, c.sent_keys[int(p)].size());
    });
  o << "\nPhase source: ";
  for (size_t i = 0; i < caps.size(); ++i) o << (i ? ", " : "") << caps[i].input.label << " = " << caps[i].phase_source;
  o << ".\n";
  bool any_agreement = false;
  for (const auto& c : caps) any_agreement |= c.agreement.available;
  if (any_agreement) {
    o << "\nTimeline vs packet-shape classifier (sent packets): ";
    for (size_t i = 0; i < caps.size(); ++i) {
      const auto& a = caps[i].agreement;
      o << (i ? ", " : "") << caps[i].input.label << " = ";
      if (!a.available) o << "n/a";
      else o << fmt::format("{}/{} ({:.1f}%)", a.agreed, a.compared, a.compared ? 100.0 * a.agreed / a.compared : 100.0);
    }
    o << ". Sent packets within 5 ms of a phase boundary that took their shape's phase: ";
    for (size_t i = 0; i < caps.size(); ++i)
      o << (i ? ", " : "") << caps[i].input.label << " = " << caps[i].agreement.boundary_by_shape;
    o << ".\n";
  }

  if (compared) {
    o << "\n## Similarity exclusion (packets removed as differing only by a variable element)\n\n";
    header("phase: removed ICMP/TCP/UDP/other of not-common");
    for (size_t i = 0; i < r.three_phase.rows.size(); ++i) {
      o << "| " << r.three_phase.rows[i] << " |";
      for (const auto& cell : r.three_phase.cells[i])
        o << fmt::format(" {}/{}/{}/{} of {} |", cell.removed[0], cell.removed[1], cell.removed[2], cell.removed[3],
                         cell.not_common);
      o << '\n';
    }
    const SimilarityOptions& so = r.options.similarity;
    auto rule = [](const SimilarityRule& x) {
      return x.enabled ? fmt::format("len ±{}, block ≥{}", x.max_length_diff, x.min_common_block) : std::string("off");
    };
    o << fmt::format("\nRules: TCP {}; UDP {}; ICMP {}; other {}{}.\n", rule(so.tcp), rule(so.udp), rule(so.icmp),
                     rule(so.other), so.same_dst ? "; same destination required" : "");
  }

  bool problems = false;
  for (const auto& c : caps)
    problems |= c.decode.truncated || c.decode.malformed || c.decode.not_ip || c.decode.snaplen_cut ||
                c.decode.bad_options;
  if (problems) {
    o << "\n## Decoding\n\n";
    header("");
    row("frames", [](const CaptureAnalysis& c) { return std::to_string(c.decode.frames); });
    row("not IP", [](const CaptureAnalysis& c) { return std::to_string(c.decode.not_ip); });
    row("truncated headers", [](const CaptureAnalysis& c) { return std::to_string(c.decode.truncated); });
    row("malformed", [](const CaptureAnalysis& c) { return std::to_string(c.decode.malformed); });
    row("cut by snaplen", [](const CaptureAnalysis& c) { return std::to_string(c.decode.snaplen_cut); });
    row("malformed IP/TCP options", [](const CaptureAnalysis& c) { return std::to_string(c.decode.bad_options); });
  }

  if (!compared) return o.str();
  o << "\n## Unique packets\n";
  bool any_unique = false;
  for (const auto& row : r.three_phase.cells)
    for (const auto& cell : row) any_unique |= !cell.unique.empty();
  if (!any_unique)
    o << "\nNone: every packet a capture sent is in all captures, or every capture that lacks "
         "it has a similar one (similarity exclusion above).\n";
  for (size_t i = 0; i < r.three_phase.rows.size(); ++i)
    for (size_t c = 0; c < caps.size(); ++c) {
      const auto& u = r.three_phase.cells[i][c].unique;
      if (u.empty()) continue;
      o << fmt::format("\n### {} — {} ({} unique)\n\n", r.three_phase.rows[i], md_escape(caps[c].input.label), u.size());
      o << "| proto | dst | port | flags | length | payload |\n|---|---|---:|---|---:|---|\n";
      for (size_t k = 0; k < u.size() && k < limit; ++k) {
        const PacketKey& key = u[k];
        o << fmt::format("| {} | {} | {} | {} | {} | `{}` |\n", key.proto_name(), key.dst_addr().str(), port_str(key),
                         tcp_flags_str(key.tcp_flags), key.length, md_escape(r.payloads->preview(key.payload_hash)));
      }
      if (u.size() > limit) o << fmt::format("\n… {} more (raise --unique-limit)\n", u.size() - limit);
    }
  return o.str();
}

util::Status write_csv(const AnalysisResult& r, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return util::fail("cannot create CSV directory {}: {}", dir.string(), ec.message());
  std::ostringstream t1;
  t1 << "label,scanner,duration_s,duration_source,bytes_sent,bytes_received,packets_sent,packets_received,"
        "icmp_sent,tcp_sent,udp_sent,other_sent,icmp_received,tcp_received,udp_received,other_received\n";
  for (const auto& c : r.captures)
    t1 << fmt::format("{},{},{:.3f},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", csv_field(c.input.label),
                      c.scanner.str(), c.duration, c.duration_source, c.sent.bytes, c.received.bytes, c.sent.packets,
                      c.received.packets, c.sent.by_proto[0], c.sent.by_proto[1], c.sent.by_proto[2],
                      c.sent.by_proto[3], c.received.by_proto[0], c.received.by_proto[1], c.received.by_proto[2],
                      c.received.by_proto[3]);
  std::ostringstream t2, up, uq, ph;
  t2 << "grouping,phase,label,set_size,common,not_common,removed_icmp,removed_tcp,removed_udp,removed_other,unique\n";
  uq << "grouping,phase,label,proto,src,dst,dport,tcp_flags,length,payload_hash,payload_preview\n";
  for (const UniqueTable* t : {&r.three_phase, &r.fine})
    for (size_t i = 0; i < t->rows.size(); ++i)
      for (size_t c = 0; c < r.captures.size(); ++c) {
        const auto& cell = t->cells[i][c];
        const std::string& label = r.captures[c].input.label;
        t2 << fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", t->grouping, t->rows[i], csv_field(label),
                          cell.set_size, t->common[i], cell.not_common, cell.removed[0], cell.removed[1],
                          cell.removed[2], cell.removed[3], cell.unique.size());
        for (const PacketKey& k : cell.unique)
          uq << fmt::format("{},{},{},{},{},{},{},{},{},{:016x},{}\n", t->grouping, t->rows[i], csv_field(label),
                            k.proto_name(), k.src_addr().str(), k.dst_addr().str(), port_str(k),
                            tcp_flags_str(k.tcp_flags), k.length, k.payload_hash,
                            csv_field(r.payloads->preview(k.payload_hash)));
      }
  up << "label,proto,port,packets\n";
  ph << "label,phase,group,packets_sent,bytes_sent,packets_received,bytes_received,distinct_sent_keys\n";
  for (const auto& c : r.captures) {
    for (const auto& [k, n] : c.port_usage)
      up << fmt::format("{},{},{},{}\n", csv_field(c.input.label), k.first == 6 ? "tcp" : "udp", k.second, n);
    for (Phase p : kAllPhases) {
      int i = int(p);
      ph << fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(c.input.label), phase_name(p),
                        phase_group_name(phase_group(p)), c.sent_by_phase[i].packets, c.sent_by_phase[i].bytes,
                        c.received_by_phase[i].packets, c.received_by_phase[i].bytes, c.sent_keys[i].size());
    }
  }
  for (auto [name, text] : {std::pair{"table1.csv", t1.str()}, std::pair{"table2.csv", t2.str()},
                            std::pair{"port_usage.csv", up.str()}, std::pair{"unique_packets.csv", uq.str()},
                            std::pair{"phases.csv", ph.str()}})
    if (auto st = util::write_file_atomic(dir / name, text); !st) return st;
  return {};
}

}  // namespace testbed::analysis
