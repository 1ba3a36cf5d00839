// report.html: the page — style sheet, header, summary cards, navigation and the sections
// (render_html_parts.h) in order.
#include <fmt/format.h>

#include "orchestrator/report/html.h"
#include "orchestrator/report/lab_graph.h"
#include "orchestrator/report/model.h"
#include "orchestrator/report/render.h"
#include "orchestrator/report/render_common.h"
#include "orchestrator/report/render_html_parts.h"

namespace testbed::report {

namespace {

const char* kCss = R"CSS(
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#ffffff;--soft:#f6f8fa;--accent:#0072B2;--bad:#b42318;--good:#1a7f37}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#0b3d5c;color:#fff;padding:22px 40px 18px}
header h1{margin:0 0 4px;font-size:24px;font-weight:600}
header .sub{opacity:.85;font-size:13px}
main{max-width:1180px;margin:0 auto;padding:8px 40px 60px}
nav{margin:14px 0 4px;font-size:13px}
nav a{color:var(--accent);text-decoration:none;margin-right:14px}
h2{font-size:19px;font-weight:600;margin:34px 0 8px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;font-weight:600;margin:20px 0 6px}
p.note{color:var(--muted);margin:4px 0 10px;max-width:900px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0 6px}
.card{flex:1 1 160px;border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:var(--soft)}
.card .k{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card .v{font-size:22px;font-weight:600}
.card.bad .v{color:var(--bad)} .card.good .v{color:var(--good)}
table{border-collapse:collapse;margin:8px 0 14px;font-size:13px;display:block;max-width:100%;overflow-x:auto}
caption{text-align:left;color:var(--muted);padding:0 0 4px;font-size:12px}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;border-bottom:2px solid var(--line)}
tbody th{font-weight:500;white-space:nowrap}
table.num td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.num thead th:not(:first-child){text-align:right}
table.runs td:nth-child(n+6),table.runs thead th:nth-child(n+6){text-align:left;white-space:normal}
th.ref,td.ref{color:#8c959f;background:#fafbfc;font-style:italic}
td.pl,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
td.pl{max-width:520px;text-align:left!important;white-space:normal!important}
td.pl details.hex{border:0;padding:0;margin:2px 0;background:none}
td.pl details.hex>summary{font-weight:400;color:var(--accent)}
td.pl pre{margin:4px 0;white-space:pre;overflow-x:auto;font-size:11px}
ol.findings li{margin:4px 0}
.nf{display:block;color:var(--muted);font-size:11px;line-height:1.2;white-space:nowrap}
.st-complete{color:var(--good);font-weight:600}.st-failed,.st-unreadable,.st-interrupted{color:var(--bad);font-weight:600}
.st-incomplete,.st-missing{color:#9a6700;font-weight:600}
.drift{color:var(--bad);font-weight:700}
details{margin:6px 0;border:1px solid var(--line);border-radius:6px;padding:4px 10px;background:#fff}
details>summary{cursor:pointer;font-weight:600;padding:2px 0}
.chart{max-width:100%;height:auto;display:block;margin:8px 0 16px;font-family:inherit}
.chart .grid{stroke:#eaeef2;stroke-width:1}.chart .axis{stroke:#8c959f;stroke-width:1}
.chart text{font-size:11px;fill:#424a53}.chart .ct{font-size:13px;font-weight:600;fill:#1f2328}
.chart .yt{text-anchor:end}.chart .xt{text-anchor:end}.chart .xtc{text-anchor:middle}.chart .al{text-anchor:middle}
.chart .lg{font-size:12px}.chart .band{fill:#f6f8fa}
.heat td{min-width:64px;padding:0}.heat td>span{display:block;padding:4px 10px}
footer{color:var(--muted);font-size:12px;margin-top:40px;border-top:1px solid var(--line);padding-top:10px}
)CSS";

/// From <!DOCTYPE> to the opening <main>: title, style sheet, page header.
std::string html_head(const Model& m) {
  const auto& res = m.data.results;
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      // No script, no remote resource: the page is inert whatever a payload contains.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'; img-src data:\">";
  h += "<title>testbed report: " + escape(res.experiment) + "</title><style>" + kCss +
       "</style></head><body>";
  h += "<header><h1>" + escape(report_title(res.runs)) + " — " + escape(res.experiment) +
       "</h1><div class=\"sub\">" + escape(res.dir.string()) + " · generated " +
       escape(m.generated) + "</div></header><main>";
  return h;
}

/// The summary cards and, when the runs say where their nodes ran, that note.
std::string html_cards(const Model& m) {
  const auto& res = m.data.results;
  size_t complete = m.data.runs.size(), not_ok = res.runs.size() - complete;
  uint64_t drops = 0;
  for (const RunRecord& r : res.runs) drops += r.manifest.dropped();
  std::string h = "<div class=\"cards\">";
  auto card = [&](const std::string& k, const std::string& v, const char* cls = "") {
    h += fmt::format(
        "<div class=\"card {}\"><div class=\"k\">{}</div><div class=\"v\">{}</div></div>", cls, k,
        v);
  };
  card("versions", std::to_string(m.versions.size()));
  card("runs analysed", fmt::format("{} / {}", complete, res.runs.size()), not_ok ? "bad" : "good");
  card("repetitions", std::to_string(res.repetitions));
  card("capture drops", fmt_int(drops), drops ? "bad" : "good");
  if (m.loo.available)
    card("classifier (leave-one-out)", fmt::format("{:.0f} %", 100 * m.loo.accuracy()));
  if (m.drift)
    card("vs baseline", m.drift->drift ? "drift" : "no drift", m.drift->drift ? "bad" : "good");
  h += "</div>";
  if (auto note = lab_backend_note(res.runs); !note.empty())
    h += "<p class=\"note\">" + escape(note) + "</p>";
  return h;
}

/// The navigation bar: a link to each section the page has (the extra sections and "The
/// lab" when they are there).
std::string html_nav(const Model& m, bool lab) {
  std::string extra;  // sections other modules add (the IDS section), in page order
  for (const auto& x : m.extra)
    extra += "<a href=\"#" + escape(x.id) + "\">" + escape(x.title) + "</a>";
  return "<nav><a href=\"#differs\">What differs</a><a href=\"#runs\">Runs</a><a href=\"#t1\">Table 1</a><a href=\"#t2\">Table 2</a>"
         "<a href=\"#unique\">Unique packets</a><a href=\"#ports\">Port usage</a>"
         "<a href=\"#timeline\">Timeline</a><a href=\"#noise\">Noise floor</a>"
         "<a href=\"#classifier\">Classifier</a>" + extra +
         std::string(m.drift ? "<a href=\"#baseline\">Baseline</a>" : "") +
         "<a href=\"#capture\">Capture</a><a href=\"#provenance\">Provenance</a>" +
         std::string(lab ? "<a href=\"#lab\">The lab</a>" : "") + "</nav>";
}

/// The sections from "Runs" to "Provenance", in page order.
std::string html_sections(const Model& m, size_t limit) {
  size_t not_ok = m.data.results.runs.size() - m.data.runs.size();
  std::string h = "<h2 id=\"differs\">What differs</h2>" + html_differs(m);
  h += "<h2 id=\"runs\">Runs</h2>" + html_runs(m);
  if (not_ok)
    h += fmt::format(
        "<p class=\"note\">{} run(s) not complete or unreadable: listed above, not analysed.</p>",
        not_ok);
  h += "<h2 id=\"t1\">Table 1 — network usage per version</h2>" + html_table1(m);
  h += "<h2 id=\"t2\">Table 2 — unique packets per phase</h2>"
       "<p class=\"note\">U<sub>n</sub> = P<sub>n</sub> \\ (P<sub>1</sub> ∩ … ∩ P<sub>k</sub>) "
       "over the scanner's sent packet keys, after the similarity exclusion (docs/method.md). "
       "Small print: the noise floor where measured, and |P<sub>n</sub>| with the packets "
       "removed as mere variants.</p>";
  h += html_table2(m, m.study.three_phase, m.noise_grouped, true);
  h += "<h3>By fine phase</h3>" + html_table2(m, m.study.fine, m.noise_fine, false);
  h += "<h2 id=\"unique\">Unique packets per phase and version</h2>" + html_unique(m, limit);
  h += "<h2 id=\"ports\">Destination-port usage in the port-scan phase (the study's Fig. 2)</h2>" +
       html_port_usage(m);
  h += "<h2 id=\"timeline\">Phase timeline per version</h2>" + html_timeline(m);
  h += "<h2 id=\"noise\">Noise floor</h2>" + html_noise(m);
  h += "<h2 id=\"classifier\">" + escape(classifier_question(m.data.results.runs)) + "</h2>" +
       html_classifier(m);
  for (const auto& x : m.extra)
    h += "<h2 id=\"" + escape(x.id) + "\">" + escape(x.title) + "</h2>" + x.html;
  if (m.drift) h += "<h2 id=\"baseline\">Compared with the baseline</h2>" + html_drift(m);
  h += "<h2 id=\"capture\">Capture and decoding</h2>" + html_capture(m);
  h += "<h2 id=\"provenance\">Provenance</h2>" + html_provenance(m);
  return h;
}

}  // namespace

std::string report_html(const Model& m, size_t limit) {
  // "The lab": the topology drawn by Graphviz ("" without a topology copy).
  const std::string lab = lab_graph_html(m.data.results.dir);
  std::string h = html_head(m) + html_cards(m) + html_nav(m, !lab.empty());
  for (const auto& w : m.data.results.warnings) h += "<p class=\"note\">⚠ " + escape(w) + "</p>";
  h += html_sections(m, limit);
  h += lab;
  h += "<footer>Method: Malinich, Mesyura, Arseniuk, “Analysis of traffic usage by scanning "
       "computer networks with different versions of Nmap”, VNTU 2021 (docs/method.md). Study "
       "figures are for Nmap 7.01/7.60/7.80 in the authors' lab and are shown for reference "
       "only. Machine-readable: report.json, csv/.</footer>";
  return h + "</main></body></html>\n";
}

}  // namespace testbed::report
