// report.html: the study's figures — Tables 1 and 2, the unique packets, the port-scan port
// usage (the study's Fig. 2) and the phase timeline.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "orchestrator/report/html.h"
#include "orchestrator/report/payload_decode.h"
#include "orchestrator/report/render_common.h"
#include "orchestrator/report/render_html_parts.h"

namespace testbed::report {
using analysis::CaptureAnalysis;

namespace {

double table1_value(const CaptureAnalysis& c, size_t row) {
  switch (row) {
    case 0:
      return c.duration;
    case 1:
      return static_cast<double>(c.sent.bytes);
    case 2:
      return static_cast<double>(c.received.bytes);
    case 3:
      return static_cast<double>(c.sent.packets);
    case 4:
      return static_cast<double>(c.received.packets);
    case 5:
    case 6:
    case 7:
      return static_cast<double>(c.sent.by_proto[row - 5]);
    default:
      return static_cast<double>(c.received.by_proto[row - 8]);
  }
}

std::string num_cell(double v, bool integer) {
  return integer ? fmt_int(static_cast<unsigned long long>(v)) : fmt_num(v, 1);
}

}  // namespace

std::string html_table1(const Model& m) {
  HtmlTable t;
  t.css_class = "num";
  t.caption =
      "This experiment (one capture per version: the first complete run) | the study's figures, "
      "greyed";
  t.header.push_back("");
  for (const auto& v : m.versions) t.header.push_back(escape(v));
  for (const char* v : kStudyVersions) {
    t.reference_columns.push_back(t.header.size());
    t.header.push_back(std::string("study ") + v);
  }
  for (size_t row = 0; row < std::size(kStudyTable1); ++row) {
    std::vector<std::string> cells = {kStudyTable1[row].name};
    for (const auto& c : m.study.captures)
      cells.push_back(num_cell(table1_value(c, row), row != 0));
    for (double v : kStudyTable1[row].v) cells.push_back(num_cell(v, row != 0));
    t.rows.push_back(cells);
  }
  std::string o = t.render();
  o += "<p class=\"note\">Duration: Nmap's own elapsed time from its XML report where present, "
       "else the capture span. "
       "Bytes: on-the-wire frame lengths at the router. Sent = from the scanner, received = to "
       "it.</p>";
  return o;
}

std::string html_table2(const Model& m, const analysis::UniqueTable& tab,
                        const analysis::NoiseFloor& nf, bool with_study) {
  HtmlTable t;
  t.css_class = "num";
  t.header = {"phase"};
  for (const auto& v : m.versions) t.header.push_back(escape(v));
  t.header.push_back("common to all");
  if (with_study)
    for (const char* v : kStudyVersions) {
      t.reference_columns.push_back(t.header.size());
      t.header.push_back(std::string("study ") + v);
    }
  for (size_t r = 0; r < tab.rows.size(); ++r) {
    std::vector<std::string> cells = {escape(tab.rows[r])};
    for (size_t v = 0; v < tab.cells[r].size(); ++v) {
      const auto& u = tab.cells[r][v];
      std::string cell = fmt_int(u.unique.size());
      std::string small;
      if (const analysis::NoiseCell* c = nf.find(tab.rows[r], m.versions[v]); c && c->pairs)
        small = fmt::format(
            "<span title=\"noise floor: the most unique packets between two runs of this version\">"
            "noise ≤{}</span> · ",
            c->max);
      small +=
          fmt::format("<span title=\"|P_n|: distinct packets sent in this phase\">of {}</span>",
                      fmt_int(u.set_size));
      if (u.removed_total())
        small +=
            fmt::format(" · <span title=\"removed by the similarity exclusion\">−{} similar</span>",
                        u.removed_total());
      cell += "<span class=\"nf\">" + small + "</span>";
      cells.push_back(cell);
    }
    cells.push_back(fmt_int(tab.common[r]));
    if (with_study) {
      const StudyRow* s = nullptr;
      for (const auto& sr : kStudyTable2)
        if (tab.rows[r] == sr.name) s = &sr;
      for (size_t i = 0; i < 3; ++i)
        cells.push_back(s ? fmt_int(static_cast<unsigned long long>(s->v[i])) : "–");
    }
    t.rows.push_back(cells);
  }
  return t.render();
}

namespace {

/// The payload cell of a unique packet: what it decodes to, the printable preview, and (one
/// click away) the hex dump and a display filter that finds it in Wireshark.
std::string payload_cell(const Model& m, size_t v, const analysis::PacketKey& k) {
  const analysis::LocatedPacket* at = m.places.find(v, k);
  const std::string payload = payload_of(k, at, *m.study.payloads);
  std::string o;
  if (auto d = decode_payload(k, payload); !d.kind.empty())
    o += "<b>" + escape(d.kind) + "</b>: " + escape(d.summary) + "<br>";
  o += escape(m.study.payloads->preview(k.payload_hash, 96));
  o += "<details class=\"hex\"><summary>" +
       std::string(payload.empty() ? "display filter" : fmt::format("hex ({} bytes), display filter", payload.size())) +
       "</summary>";
  if (!payload.empty()) o += "<pre>" + escape(hex_dump(payload)) + "</pre>";
  o += "<code>" + escape(display_filter(k, payload)) + "</code></details>";
  return o;
}

/// "frame N" of the run's capture, with its time from the capture's first frame.
std::string frame_cell(const Model& m, size_t v, const analysis::PacketKey& k) {
  const analysis::LocatedPacket* at = m.places.find(v, k);
  if (!at) return "";
  return fmt::format("<span title=\"{}/capture.pcap; Wireshark: frame.number == {}\">{}<span "
                     "class=\"nf\">{} · {:.3f} s</span></span>",
                     escape(m.places.runs[v]), at->frame, at->frame, escape(m.places.runs[v]),
                     at->ts - m.places.first_ts[v]);
}

}  // namespace

std::string html_unique(const Model& m, size_t limit) {
  // The lists the top findings point to are open whatever their length: the biggest
  // difference is never behind a click.
  std::set<std::string> open;
  for (size_t i = 0; i < m.findings.size() && i < 3; ++i)
    for (const auto* side : {&m.findings[i].versions, &m.findings[i].other_versions})
      for (const auto& ver : *side)
        for (size_t v = 0; v < m.versions.size(); ++v)
          if (m.versions[v] == ver) open.insert(unique_anchor(m.findings[i].phase, v));
  std::string o;
  const auto& tab = m.study.fine;
  for (size_t r = 0; r < tab.rows.size(); ++r) {
    for (size_t v = 0; v < tab.cells[r].size(); ++v) {
      const auto& u = tab.cells[r][v];
      if (u.unique.empty()) continue;
      const std::string id = unique_anchor(tab.rows[r], v);
      // Short lists are open: a reader sees the differences without a click (no JS needed).
      o += fmt::format("<details id=\"{}\"{}><summary>{} — {}: {} unique packet{}</summary>",
                       escape(id), u.unique.size() <= 12 || open.count(id) ? " open" : "",
                       escape(m.versions[v]), escape(tab.rows[r]), u.unique.size(),
                       u.unique.size() == 1 ? "" : "s");
      HtmlTable t;
      t.css_class = "num";
      t.header = {"#",      "proto", "destination", "port",
                  "flags",  "length", "frame",     "payload (decoded, printable, hex)"};
      for (size_t i = 0; i < u.unique.size() && i < limit; ++i) {
        const auto& k = u.unique[i];
        t.rows.push_back({std::to_string(i + 1), escape(k.proto_name()),
                          escape(k.dst_addr().str()), port_str(k),
                          escape(k.proto == 6 ? analysis::tcp_flags_str(k.tcp_flags) : ""),
                          std::to_string(k.length), frame_cell(m, v, k), payload_cell(m, v, k)});
      }
      std::string table = t.render();
      // The payload column is the last: give it the monospace class.
      size_t pos = 0;
      while ((pos = table.find("<td>", pos)) != std::string::npos) {
        size_t end = table.find("</tr>", pos), last = table.rfind("<td>", end);
        if (last == pos) table.replace(pos, 4, "<td class=\"pl\">");
        pos += 4;
      }
      o += table;
      if (u.unique.size() > limit)
        o += fmt::format("<p class=\"note\">{} more in csv/unique_packets.csv.</p>",
                         u.unique.size() - limit);
      o += "</details>\n";
    }
  }
  return o.empty() ? "<p class=\"note\">No unique packets: every version sent the same packet keys "
                     "in every phase.</p>"
                   : o;
}

/// "What differs": one sentence per finding, biggest first, each linking to its packets.
std::string html_differs(const Model& m) {
  if (m.findings.empty())
    return "<p class=\"note\">Nothing: no version sent a packet the others did not (Table 2 is "
           "all zeros).</p>";
  std::string o = "<ol class=\"findings\">";
  for (const Finding& f : m.findings)
    o += "<li>" + escape(f.sentence) + " <a href=\"#" + escape(f.anchor) + "\">packets</a></li>";
  return o + "</ol><p class=\"note\">Generated from the unique packets of the study's columns "
             "(Table 2 by fine phase), grouped by phase, protocol, payload class and destination "
             "ports. Noise: a packet not sent by every run of its version, or sent by a run of "
             "another version.</p>";
}

std::string html_port_usage(const Model& m) {
  // Fig. 2 of the study: destination ports of the port-scan phase. Two panels: the whole
  // port space in 1024-port bins, and the well-known ports in 16-port bins.
  std::string o;
  for (auto [lo, hi, bin, title] :
       {std::tuple{0u, 65536u, 1024u, "All destination ports (bins of 1024)"},
        std::tuple{0u, 1024u, 16u, "Well-known ports 0–1023 (bins of 16)"}}) {
    BarChart c;
    c.title = title;
    c.y_label = "packets sent";
    size_t nb = (hi - lo) / bin;
    for (size_t b = 0; b < nb; ++b)
      c.categories.push_back(fmt::format("{}–{}", lo + b * bin, lo + (b + 1) * bin - 1));
    c.label_every = 4;
    for (size_t v = 0; v < m.study.captures.size(); ++v) {
      BarSeries s;
      s.name = m.versions[v];
      s.values.assign(nb, 0);
      for (const auto& [pp, n] : m.study.captures[v].port_usage)
        if (pp.second >= lo && pp.second < hi)
          s.values[(pp.second - lo) / bin] += static_cast<double>(n);
      c.series.push_back(std::move(s));
    }
    o += c.render_svg();
  }
  return o;
}

std::string html_timeline(const Model& m) {
  TimelineChart c;
  for (analysis::Phase p : analysis::kAllPhases) c.kinds.push_back(analysis::phase_name(p));
  bool any = false;
  for (size_t v = 0; v < m.study.captures.size(); ++v) {
    const auto& cap = m.study.captures[v];
    if (!cap.timeline) continue;
    const auto& tl = *cap.timeline;
    double t0 = tl.start > 0 ? tl.start : (tl.intervals.empty() ? 0 : tl.intervals.front().start);
    for (const auto& iv : tl.intervals) {
      any = true;
      c.bars.push_back(
          {m.versions[v], analysis::phase_name(iv.phase), iv.start - t0, iv.end - t0,
           fmt::format("{}: {} {} ({:.1f}–{:.1f} s)", m.versions[v], analysis::phase_name(iv.phase),
                       iv.label, iv.start - t0, iv.end - t0)});
    }
    if (tl.end > t0) c.x_max = std::max(c.x_max, tl.end - t0);
  }
  if (!any)
    return "<p class=\"note\">No phase timeline (no phases.json or nmap.log in the runs).</p>";
  return c.render_svg() +
         "<p class=\"note\">Seconds from each scan's start; phases from Nmap's -v lines as they "
         "arrived "
         "(phases.json). Hover a bar for the task Nmap announced.</p>";
}

}  // namespace testbed::report
