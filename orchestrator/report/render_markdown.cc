// Markdown: a capture analysis (`testbed analyze`) and report.md.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "orchestrator/report/inert.h"
#include "orchestrator/report/model.h"
#include "orchestrator/report/payload_decode.h"
#include "orchestrator/report/render.h"
#include "orchestrator/report/render_common.h"
#include "orchestrator/report/scanner_build.h"

namespace testbed::report {
using namespace analysis;

namespace {

std::string fmt_duration(double d) { return fmt::format("{:.2f}", d); }

/// A table's header row and alignment row: `first` over the row names, then one
/// right-aligned column per name in `columns` (as given: the caller's own names).
std::string md_header(const std::string& first, const std::vector<std::string>& columns) {
  std::string o = first.empty() ? "| |" : "| " + first + " |";
  for (const auto& c : columns) o += " " + md_text(c) + " |";
  o += "\n|---|";
  for (size_t i = 0; i < columns.size(); ++i) o += "---:|";
  return o + "\n";
}

std::string noise_markdown(const Model& m) {
  std::string o = "## Noise floor (unique packets between runs of the same version)\n\n";
  if (!m.noise_grouped.available()) {
    return o +
           "Needs repetitions >= 2: with one run per version the run-to-run noise is unknown.\n\n";
  }
  o += "Cell: Table 2 figure (between versions) / noise floor max (mean) over pairs of runs of "
       "that version.\n\n";
  o += md_header("phase", m.versions);
  for (size_t r = 0; r < m.study.three_phase.rows.size(); ++r) {
    const std::string& row = m.study.three_phase.rows[r];
    o += "| " + row + " |";
    for (size_t v = 0; v < m.versions.size(); ++v) {
      size_t between = m.study.three_phase.cells[r][v].unique.size();
      const analysis::NoiseCell* c = m.noise_grouped.find(row, m.versions[v]);
      o += c && c->pairs ? fmt::format(" {} / {} ({:.1f}) |", between, c->max, c->mean)
                         : fmt::format(" {} / n/a |", between);
    }
    o += "\n";
  }
  return o + "\n";
}

/// "What differs": the findings, biggest first (findings.h).
std::string differs_markdown(const Model& m) {
  std::string o = "## What differs\n\n";
  if (m.findings.empty())
    return o + "Nothing: no version sent a packet the others did not (Table 2 is all zeros).\n\n";
  for (size_t i = 0; i < m.findings.size(); ++i)
    o += fmt::format("{}. {}\n", i + 1, md_text(m.findings[i].sentence));
  return o + "\nGenerated from the unique packets of the study's columns (Table 2 by fine "
             "phase), grouped by phase, protocol, payload class and destination ports; the "
             "packets themselves are listed under \"Unique packets\" with run, frame and time.\n\n";
}

std::string classifier_markdown(const Model& m) {
  std::string o = "## " + classifier_question(m.data.results.runs) + "\n\n";
  if (m.loo.available) {
    o += fmt::format(
        "Leave-one-out over {} runs: {} correct ({:.0f} %). Rows: actual, columns: predicted.\n\n",
        m.loo.total, m.loo.correct, 100 * m.loo.accuracy());
    o += md_header("actual \\ predicted", m.loo.versions);
    for (size_t a = 0; a < m.loo.versions.size(); ++a) {
      o += "| " + md_text(m.loo.versions[a]) + " |";
      for (size_t p = 0; p < m.loo.versions.size(); ++p)
        o += fmt::format(" {} |", m.loo.counts[a][p]);
      o += "\n";
    }
  } else {
    o += m.loo.reason +
         ". Pairwise similarity of the runs, phases kept apart: of their sent keys that recur "
         "in other runs but not in all, the share with an equal or similar packet (the "
         "study's similarity rule) in the other run:\n\n";
    o += md_header("", m.run_names);
    for (size_t i = 0; i < m.run_names.size(); ++i) {
      o += "| " + md_text(m.run_names[i]) + " |";
      for (size_t k = 0; k < m.run_names.size(); ++k)
        o += fmt::format(" {:.3f} |", m.similarity[i][k]);
      o += "\n";
    }
  }
  return o + "\n";
}

// The Markdown of one AnalysisResult, section by section into one stream.
class CaptureMarkdown {
 public:
  CaptureMarkdown(const AnalysisResult& r, const PacketPlaces* places)
      : r_(r), caps_(r.captures), places_(places) {}

  std::string render(size_t limit) {
    table1();
    // Table 2, the similarity exclusion and the unique packets compare captures: with one
    // capture they would be empty sections (every packet is common to "all"), so they are
    // left out and the reader is told why.
    const bool compared = caps_.size() >= 2;
    if (compared) {
      table2(r_.three_phase, "Table 2 — unique packets per phase (study's three phases)");
      o_ << "\nGrouping: discovery → horizontal; port-scan → strobe; service, os, script, "
            "traceroute → services; unattributed → other.\n";
      table2(r_.fine, "Table 2 by fine phase");
    } else {
      o_ << "\nOne capture: Table 2, the similarity exclusion and the unique packets compare "
            "captures, so they need two or more.\n";
    }
    phases();
    if (compared) similarity();
    decoding();
    if (compared) unique(limit);
    return o_.str();
  }

 private:
  void header(const std::string& first) {
    o_ << "| " << first << " |";
    for (const auto& c : caps_) o_ << ' ' << md_text(c.input.label) << " |";
    o_ << "\n|---|";
    for (size_t i = 0; i < caps_.size(); ++i) o_ << "---:|";
    o_ << '\n';
  }
  template <typename Fn>
  void row(const std::string& name, Fn fn) {
    o_ << "| " << name << " |";
    for (const auto& c : caps_) o_ << ' ' << fn(c) << " |";
    o_ << '\n';
  }
  /// ", "-separated "label = value" of every capture.
  template <typename Fn>
  void per_capture(Fn value) {
    for (size_t i = 0; i < caps_.size(); ++i)
      o_ << (i ? ", " : "") << md_text(caps_[i].input.label) << " = " << value(caps_[i]);
  }

  void table1() {
    o_ << "## Table 1 — network usage\n\n";
    header("");
    row("duration, s", [](const CaptureAnalysis& c) { return fmt_duration(c.duration); });
    row("bytes sent", [](const CaptureAnalysis& c) { return std::to_string(c.sent.bytes); });
    row("bytes received",
        [](const CaptureAnalysis& c) { return std::to_string(c.received.bytes); });
    row("packets sent", [](const CaptureAnalysis& c) { return std::to_string(c.sent.packets); });
    row("packets received",
        [](const CaptureAnalysis& c) { return std::to_string(c.received.packets); });
    const char* names[4] = {"ICMP", "TCP", "UDP", "other"};
    for (int dir = 0; dir < 2; ++dir)
      for (int p = 0; p < 4; ++p)
        row(fmt::format("{} {}", names[p], dir == 0 ? "sent" : "received"),
            [&](const CaptureAnalysis& c) {
              return std::to_string((dir == 0 ? c.sent : c.received).by_proto[p]);
            });
    o_ << "\nScanner: ";
    for (size_t i = 0; i < caps_.size(); ++i)
      o_ << (i ? ", " : "") << md_text(caps_[i].input.label) << " = " << caps_[i].scanner.str()
         << (caps_[i].scanner_auto ? " (auto)" : " (given)");
    o_ << ". Bytes are on-the-wire frame lengths (pcap header `len`). Duration from ";
    for (size_t i = 0; i < caps_.size(); ++i) o_ << (i ? ", " : "") << caps_[i].duration_source;
    o_ << ".\n";
  }

  void table2(const UniqueTable& t, const std::string& title) {
    o_ << "\n## " << title << "\n\n";
    header("phase");
    for (size_t i = 0; i < t.rows.size(); ++i) {
      o_ << "| " << t.rows[i] << " |";
      for (const auto& cell : t.cells[i]) o_ << ' ' << cell.unique.size() << " |";
      o_ << '\n';
    }
  }

  void phases() {
    o_ << "\n## Sent packets per fine phase (distinct keys in parentheses)\n\n";
    header("phase");
    for (Phase p : kAllPhases)
      row(phase_name(p), [&](const CaptureAnalysis& c) {
        return fmt::format("{} ({})", c.sent_by_phase[int(p)].packets, c.sent_keys[int(p)].size());
      });
    o_ << "\nPhase source: ";
    per_capture([](const CaptureAnalysis& c) { return c.phase_source; });
    o_ << ".\n";
    bool any_agreement = false;
    for (const auto& c : caps_) any_agreement |= c.agreement.available;
    if (!any_agreement) return;
    o_ << "\nTimeline vs packet-shape classifier (sent packets): ";
    per_capture([](const CaptureAnalysis& c) {
      const auto& a = c.agreement;
      return a.available ? fmt::format("{}/{} ({:.1f}%)", a.agreed, a.compared,
                                       a.compared ? 100.0 * a.agreed / a.compared : 100.0)
                         : std::string("n/a");
    });
    o_ << ". Sent packets within 5 ms of a phase boundary that took their shape's phase: ";
    per_capture([](const CaptureAnalysis& c) { return c.agreement.boundary_by_shape; });
    o_ << ".\n";
  }

  void similarity() {
    o_ << "\n## Similarity exclusion (packets removed as differing only by a variable "
          "element)\n\n";
    header("phase: removed ICMP/TCP/UDP/other of not-common");
    for (size_t i = 0; i < r_.three_phase.rows.size(); ++i) {
      o_ << "| " << r_.three_phase.rows[i] << " |";
      for (const auto& cell : r_.three_phase.cells[i])
        o_ << fmt::format(" {}/{}/{}/{} of {} |", cell.removed[0], cell.removed[1], cell.removed[2],
                          cell.removed[3], cell.not_common);
      o_ << '\n';
    }
    const SimilarityOptions& so = r_.options.similarity;
    auto rule = [](const SimilarityRule& x) {
      return x.enabled ? fmt::format("len ±{}, block ≥{}", x.max_length_diff, x.min_common_block)
                       : std::string("off");
    };
    o_ << fmt::format("\nRules: TCP {}; UDP {}; ICMP {}; other {}{}.\n", rule(so.tcp), rule(so.udp),
                      rule(so.icmp), rule(so.other),
                      so.same_dst ? "; same destination required" : "");
  }

  void decoding() {
    bool problems = false;
    for (const auto& c : caps_)
      problems |= c.decode.truncated || c.decode.malformed || c.decode.not_ip ||
                  c.decode.snaplen_cut || c.decode.bad_options;
    if (!problems) return;
    o_ << "\n## Decoding\n\n";
    header("");
    row("frames", [](const CaptureAnalysis& c) { return std::to_string(c.decode.frames); });
    row("not IP", [](const CaptureAnalysis& c) { return std::to_string(c.decode.not_ip); });
    row("truncated headers",
        [](const CaptureAnalysis& c) { return std::to_string(c.decode.truncated); });
    row("malformed", [](const CaptureAnalysis& c) { return std::to_string(c.decode.malformed); });
    row("cut by snaplen",
        [](const CaptureAnalysis& c) { return std::to_string(c.decode.snaplen_cut); });
    row("malformed IP/TCP options",
        [](const CaptureAnalysis& c) { return std::to_string(c.decode.bad_options); });
  }

  void unique(size_t limit) {
    o_ << "\n## Unique packets\n";
    bool any_unique = false;
    for (const auto& row : r_.three_phase.cells)
      for (const auto& cell : row) any_unique |= !cell.unique.empty();
    if (!any_unique)
      o_ << "\nNone: every packet a capture sent is in all captures, or every capture that lacks "
            "it has a similar one (similarity exclusion above).\n";
    for (size_t i = 0; i < r_.three_phase.rows.size(); ++i)
      for (size_t c = 0; c < caps_.size(); ++c) {
        const auto& u = r_.three_phase.cells[i][c].unique;
        if (u.empty()) continue;
        o_ << fmt::format("\n### {} — {} ({} unique)\n\n", r_.three_phase.rows[i],
                          md_text(caps_[c].input.label), u.size());
        o_ << "| proto | dst | port | flags | length | frame (run, time) | payload |\n"
              "|---|---|---:|---|---:|---|---|\n";
        for (size_t k = 0; k < u.size() && k < limit; ++k) {
          const PacketKey& key = u[k];
          const LocatedPacket* at = places_ ? places_->find(c, key) : nullptr;
          const std::string frame =
              at ? fmt::format("{} ({}, {:.3f} s)", at->frame, places_->runs[c],
                               at->ts - places_->first_ts[c])
                 : "";
          const DecodedPayload d = decode_payload(key, payload_of(key, at, *r_.payloads));
          const std::string decoded = d.kind.empty() ? "" : " — " + d.kind + ": " + d.summary;
          o_ << fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", key.proto_name(),
                            key.dst_addr().str(), port_str(key), tcp_flags_str(key.tcp_flags),
                            key.length, md_text(frame),
                            md_text(r_.payloads->preview(key.payload_hash) + decoded));
        }
        if (u.size() > limit)
          o_ << fmt::format("\n… {} more (raise --unique-limit)\n", u.size() - limit);
      }
  }

  const AnalysisResult& r_;
  const std::vector<CaptureAnalysis>& caps_;
  const PacketPlaces* places_;
  std::ostringstream o_;
};

}  // namespace

std::string capture_markdown(const AnalysisResult& r, size_t limit, const PacketPlaces* places) {
  return CaptureMarkdown(r, places).render(limit);
}

std::string report_markdown(const Model& m, size_t limit) {
  std::string o = fmt::format("# Report: {}\n\nResults: {}  \nGenerated: {}\n\n",
                              md_text(m.data.results.experiment),
                              md_code(m.data.results.dir.string()), m.generated);
  if (auto note = lab_backend_note(m.data.results.runs); !note.empty()) o += note + "\n\n";
  o += differs_markdown(m);
  o += "## Runs\n\n| run | status | packets | dropped | scanner | note "
       "|\n|---|---|---:|---:|---|---|\n";
  for (const RunRecord& r : m.data.results.runs) {
    uint64_t drops = r.manifest.dropped();
    std::string note = run_note(r);
    o += fmt::format("| {} | {} | {} | {} | {} | {} |\n", md_text(r.name()), md_text(r.status),
                     r.complete() ? std::to_string(r.manifest.packets()) : "",
                     r.complete() ? std::to_string(drops) : "",
                     md_text(first_line(r.manifest.scanner_version)), md_text(note));
  }
  // Where each version's scanner came from (first complete run of each).
  std::set<std::string> shown;
  for (const RunRecord& r : m.data.results.runs) {
    nlohmann::json b = r.complete() ? scanner_build(r.manifest) : nlohmann::json();
    if (b.is_null() || !shown.insert(r.version).second) continue;
    if (shown.size() == 1) o += "\nScanner builds:\n\n";
    o += fmt::format("- {}: {}; {}\n", md_text(r.version), md_text(scanner_build_summary(b)),
                     md_text(compiled_with(r.manifest.scanner_version)));
  }
  o += "\nThe study's own figures (7.01 / 7.60 / 7.80, docs/method.md) for reference: Table 1 "
       "duration "
       "111 / 247 / 32 s, "
       "packets sent 15366 / 17491 / 9307; Table 2 horizontal 3 / 0 / 3, strobe 0 / 1000 / 0, "
       "services 10 / 19 / 10.\n\n";
  o += capture_markdown(m.study, limit, &m.places);
  o += "\n" + noise_markdown(m) + classifier_markdown(m);
  for (const auto& x : m.extra) o += "## " + x.title + "\n\n" + x.markdown + "\n";
  if (m.drift)
    o += "## Compared with the baseline\n\n" +
         m.drift->to_markdown(m.baseline_name, m.data.results.dir.string());
  return o;
}

}  // namespace testbed::report
