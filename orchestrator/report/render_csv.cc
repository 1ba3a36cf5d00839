// CSV: a capture analysis (`testbed analyze --csv`) and the report's csv/.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <sstream>

#include "orchestrator/report/inert.h"
#include "orchestrator/report/model.h"
#include "orchestrator/report/payload_decode.h"
#include "orchestrator/report/render.h"
#include "orchestrator/report/render_common.h"
#include "orchestrator/util/files.h"

namespace testbed::report {
namespace fs = std::filesystem;
using namespace analysis;

namespace {

/// run,frame,time,time_relative,display_filter,payload_hex,decoded of a unique packet.
std::string unique_place_csv(const PacketKey& k, size_t c, const PayloadStore& store,
                             const PacketPlaces* places) {
  const LocatedPacket* at = places ? places->find(c, k) : nullptr;
  const std::string payload = payload_of(k, at, store);
  const DecodedPayload d = decode_payload(k, payload);
  return fmt::format(
      "{},{},{},{},{},{},{}",
      places && c < places->runs.size() ? csv_field(places->runs[c]) : "",
      at ? std::to_string(at->frame) : "", at ? epoch_time(*at) : "",
      at ? fmt::format("{:.6f}", at->ts - places->first_ts[c]) : "",
      csv_field(display_filter(k, payload)), hex_string(payload),
      d.kind.empty() ? "" : csv_field(d.kind + ": " + d.summary));
}

/// The label's `version,repetition` columns for `testbed analyze`: a run's label "7.80/1" (a
/// results directory's "<scanner>/<repetition>") splits at its last '/' when a number
/// follows; any other label is the version, with no repetition.
std::string label_version_rep(const std::string& label) {
  const size_t slash = label.rfind('/');
  if (slash != std::string::npos && slash > 0 && slash + 1 < label.size() &&
      label.find_first_not_of("0123456789", slash + 1) == std::string::npos)
    return csv_field(label.substr(0, slash)) + "," + label.substr(slash + 1);
  return csv_field(label) + ",";
}

/// The CSVs of one analysis; `ids[i]` is capture i's "version,repetition" cells, `places`
/// where each unique packet is (run, frame, time; may be null).
util::Status write_capture_csv_ids(const AnalysisResult& r, const std::vector<std::string>& ids,
                                   const std::filesystem::path& dir, const PacketPlaces* places) {
  auto version_rep = [&](size_t i) -> const std::string& { return ids[i]; };
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return util::fail("cannot create CSV directory {}: {}", dir.string(), ec.message());
  std::ostringstream t1;
  t1 << "label,version,repetition,scanner,duration_s,duration_source,bytes_sent,bytes_received,packets_sent,packets_"
        "received,"
        "icmp_sent,tcp_sent,udp_sent,other_sent,icmp_received,tcp_received,udp_received,other_"
        "received\n";
  for (size_t ci = 0; ci < r.captures.size(); ++ci) {
    const CaptureAnalysis& c = r.captures[ci];
    t1 << fmt::format("{},{},{},{:.3f},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                      csv_field(c.input.label), version_rep(ci), c.scanner.str(), c.duration, c.duration_source,
                      c.sent.bytes, c.received.bytes, c.sent.packets, c.received.packets,
                      c.sent.by_proto[0], c.sent.by_proto[1], c.sent.by_proto[2],
                      c.sent.by_proto[3], c.received.by_proto[0], c.received.by_proto[1],
                      c.received.by_proto[2], c.received.by_proto[3]);
  }
  std::ostringstream t2, up, uq, ph;
  t2 << "grouping,phase,label,version,repetition,set_size,common,not_common,removed_icmp,removed_tcp,removed_udp,"
        "removed_other,unique\n";
  uq << "grouping,phase,label,version,repetition,proto,src,dst,dport,tcp_flags,length,payload_hash,"
        "payload_preview,run,frame,time,time_relative,display_filter,payload_hex,decoded\n";
  for (const UniqueTable* t : {&r.three_phase, &r.fine})
    for (size_t i = 0; i < t->rows.size(); ++i)
      for (size_t c = 0; c < r.captures.size(); ++c) {
        const auto& cell = t->cells[i][c];
        const std::string& label = r.captures[c].input.label;
        t2 << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", t->grouping, t->rows[i],
                          csv_field(label), version_rep(c), cell.set_size, t->common[i], cell.not_common,
                          cell.removed[0], cell.removed[1], cell.removed[2], cell.removed[3],
                          cell.unique.size());
        for (const PacketKey& k : cell.unique) {
          uq << fmt::format("{},{},{},{},{},{},{},{},{},{},{:016x},{},", t->grouping, t->rows[i],
                            csv_field(label), version_rep(c), k.proto_name(), k.src_addr().str(),
                            k.dst_addr().str(), port_str(k), tcp_flags_str(k.tcp_flags), k.length,
                            k.payload_hash, csv_field(r.payloads->preview(k.payload_hash)));
          uq << unique_place_csv(k, c, *r.payloads, places) << '\n';
        }
      }
  up << "label,version,repetition,proto,port,packets\n";
  ph << "label,version,repetition,phase,group,packets_sent,bytes_sent,packets_received,bytes_received,distinct_sent_"
        "keys\n";
  for (size_t ci = 0; ci < r.captures.size(); ++ci) {
    const CaptureAnalysis& c = r.captures[ci];
    for (const auto& [k, n] : c.port_usage)
      up << fmt::format("{},{},{},{},{}\n", csv_field(c.input.label), version_rep(ci), k.first == 6 ? "tcp" : "udp",
                        k.second, n);
    for (Phase p : kAllPhases) {
      int i = int(p);
      ph << fmt::format("{},{},{},{},{},{},{},{},{}\n", csv_field(c.input.label),
                        version_rep(ci), phase_name(p),
                        phase_group_name(phase_group(p)), c.sent_by_phase[i].packets,
                        c.sent_by_phase[i].bytes, c.received_by_phase[i].packets,
                        c.received_by_phase[i].bytes, c.sent_keys[i].size());
    }
  }
  for (auto [name, text] :
       {std::pair{"table1.csv", t1.str()}, std::pair{"table2.csv", t2.str()},
        std::pair{"port_usage.csv", up.str()}, std::pair{"unique_packets.csv", uq.str()},
        std::pair{"phases.csv", ph.str()}})
    if (auto st = util::write_file_atomic(dir / name, text); !st) return st;
  return {};
}

}  // namespace

util::Status write_capture_csv(const AnalysisResult& r, const std::filesystem::path& dir,
                               const PacketPlaces* places) {
  std::vector<std::string> ids;
  for (const auto& c : r.captures) ids.push_back(label_version_rep(c.input.label));
  return write_capture_csv_ids(r, ids, dir, places);
}

util::Status write_report_csv(const Model& m, const fs::path& dir) {
  // The study's columns are labelled by version; each is that version's first complete run.
  std::vector<std::string> ids;
  for (const AnalysedRun* a : m.data.primary()) {
    const RunRecord& rec = m.data.results.runs[a->record];
    ids.push_back(csv_field(rec.version) + "," + std::to_string(rec.rep));
  }
  if (ids.size() != m.study.captures.size()) ids.assign(m.study.captures.size(), ",");
  if (auto st = write_capture_csv_ids(m.study, ids, dir, &m.places); !st) return st;
  std::string runs = "run,version,rep,status,packets,kernel_dropped,interface_dropped,error\n";
  for (const RunRecord& r : m.data.results.runs) {
    runs += fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(r.name()), csv_field(r.version),
                        r.rep, csv_field(r.status), r.manifest.packets(),
                        r.manifest.kernel_dropped(), r.manifest.interface_dropped(),
                        csv_field(r.error));
  }
  std::string noise = "grouping,phase,version,pairs,max,mean\n";
  for (const auto* nf : {&m.noise_grouped, &m.noise_fine})
    for (size_t r = 0; r < nf->rows.size(); ++r)
      for (size_t v = 0; v < nf->versions.size(); ++v)
        noise += fmt::format("{},{},{},{},{},{:.3f}\n", nf->grouped ? "three-phase" : "fine",
                             nf->rows[r], csv_field(nf->versions[v]), nf->cells[r][v].pairs,
                             nf->cells[r][v].max, nf->cells[r][v].mean);
  std::string cls = "run,actual,predicted,tie\n";
  for (const auto& p : m.loo.predictions)
    cls += fmt::format("{},{},{},{}\n", csv_field(p.run), csv_field(p.actual),
                       csv_field(p.predicted), p.tie);
  std::string sim = "run";
  for (const auto& n : m.run_names) sim += "," + csv_field(n);
  sim += "\n";
  for (size_t i = 0; i < m.run_names.size(); ++i) {
    sim += csv_field(m.run_names[i]);
    for (double v : m.similarity[i]) sim += fmt::format(",{:.4f}", v);
    sim += "\n";
  }
  std::string differs =
      "rank,phase,proto,payload_class,versions,ports,other_versions,other_ports,packets,"
      "noise_known,noise_packets,noise_floor,sentence\n";
  for (size_t i = 0; i < m.findings.size(); ++i) {
    const Finding& f = m.findings[i];
    differs += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}\n", i + 1, f.phase, f.proto,
                           csv_field(f.payload_class), csv_field(fmt::format("{}", fmt::join(f.versions, " "))),
                           fmt::join(f.ports, " "), csv_field(fmt::format("{}", fmt::join(f.other_versions, " "))),
                           fmt::join(f.other_ports, " "), f.total, f.noise_known, f.noisy,
                           f.noise_floor, csv_field(f.sentence));
  }
  for (auto [name, text] : {std::pair{"runs.csv", &runs}, std::pair{"noise_floor.csv", &noise},
                            std::pair{"what_differs.csv", &differs},
                            std::pair{"classifier.csv", &cls}, std::pair{"similarity.csv", &sim}})
    if (auto st = util::write_file_atomic(dir / name, *text); !st) return st;
  if (m.drift) {
    std::string d = "version,phase,a_only,b_only,between,noise_floor,threshold,drift\n";
    for (const auto& c : m.drift->cells)
      d += fmt::format("{},{},{},{},{},{},{},{}\n", csv_field(c.version), c.phase, c.a_only, c.b_only,
                       c.between, c.noise ? std::to_string(*c.noise) : "", c.threshold, c.drift);
    if (auto st = util::write_file_atomic(dir / "drift.csv", d); !st) return st;
  }
  return {};
}

}  // namespace testbed::report
