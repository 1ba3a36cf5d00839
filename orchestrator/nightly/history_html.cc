// The history page (history.h): inline SVG line charts night by night and a table of every
// night, self-contained (no script, no network). Every text from a results directory goes
// through report::escape.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "orchestrator/nightly/history.h"
#include "orchestrator/report/html.h"
#include "orchestrator/results/layout.h"

namespace testbed::nightly {
namespace {

using report::escape;

struct Series {
  std::string name;
  std::vector<std::optional<double>> y;  ///< one per night; none: no figure that night
};

/// "20261126T020000Z" -> "2026-11-26 02:00"; other names as they are.
std::string night_label(const std::string& n) {
  if (n.size() == 16 && n[8] == 'T' && n[15] == 'Z')
    return fmt::format("{}-{}-{} {}:{}", n.substr(0, 4), n.substr(4, 2), n.substr(6, 2),
                       n.substr(9, 2), n.substr(11, 2));
  return n;
}

std::string anchor(const Night& n) { return "night-" + escape(n.name); }

constexpr int kWidth = 1000, kHeight = 230, kLeft = 64, kRight = 12, kTop = 12, kBottom = 40;

/// One chart: a line per series, drift nights as red rules, failed/incomplete nights as
/// grey rules, each rule a link to the night's row.
std::string line_chart(const History& h, const std::string& title, const std::string& unit,
                       const std::vector<Series>& series) {
  const size_t n = h.nights.size();
  double ymax = 0;
  for (const auto& s : series)
    for (const auto& v : s.y)
      if (v) ymax = std::max(ymax, *v);
  // Packets and seconds: whole-number ticks (a count has no half).
  double step = std::max(1.0, report::nice_step(ymax > 0 ? ymax : 1, 4));
  double top = std::max(step, std::ceil((ymax > 0 ? ymax : 1) / step) * step);
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto x = [&](size_t i) { return kLeft + (n > 1 ? pw * double(i) / double(n - 1) : pw / 2); };
  auto y = [&](double v) { return kTop + ph - ph * v / top; };
  std::string o = fmt::format(
      "<figure class=\"chart\"><figcaption>{}</figcaption><svg viewBox=\"0 0 {} {}\" "
      "role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\">\n",
      escape(title), kWidth, kHeight, escape(title));
  for (double t = 0; t <= top + step / 2; t += step) {
    o += fmt::format(
        "<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/><text x=\"{}\" "
        "y=\"{:.1f}\" class=\"yl\">{}</text>\n",
        kLeft, kWidth - kRight, y(t), y(t), kLeft - 6, y(t) + 4, report::fmt_num(t, 0));
  }
  o += fmt::format("<text x=\"12\" y=\"{}\" class=\"unit\" transform=\"rotate(-90 12 {})\">{}</text>\n",
                   kTop + ph / 2, kTop + ph / 2, escape(unit));
  // Night marks first, under the lines; as wide as a night (at most 3) so that a thousand
  // nights do not paint the chart over.
  const double mark_w = std::clamp(pw / double(std::max<size_t>(n, 1)) * 0.8, 0.4, 3.0);
  for (size_t i = 0; i < n; ++i) {
    const Night& night = h.nights[i];
    const char* cls = night.drift() ? "mark-drift"
                      : night.status != "complete" ? "mark-failed"
                                                   : nullptr;
    if (!cls) continue;
    o += fmt::format(
        "<a href=\"#{}\"><line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{:.1f}\" class=\"{}\" "
        "style=\"stroke-width:{:.2f}\"><title>{}: {}</title></line></a>\n",
        anchor(night), x(i), x(i), kTop, kTop + ph, cls, mark_w, escape(night_label(night.name)),
        night.drift() ? "drift" : escape(night.status));
  }
  // x labels: about eight.
  size_t every = std::max<size_t>(1, (n + 7) / 8);
  for (size_t i = 0; i < n; i += every) {
    // The outermost labels stay inside the drawing.
    const char* anchor_at = n > 1 && i == 0 ? "start" : n > 1 && i + 1 == n ? "end" : "middle";
    o += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"xl\" text-anchor=\"{}\">{}</text>\n",
                     x(i), kHeight - kBottom + 16, anchor_at,
                     escape(night_label(h.nights[i].name).substr(0, 10)));
  }
  for (size_t s = 0; s < series.size(); ++s) {
    const char* colour = report::palette(s);
    std::string pts;
    auto flush = [&] {
      if (!pts.empty())
        o += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                         pts, colour);
      pts.clear();
    };
    for (size_t i = 0; i < n; ++i) {
      if (!series[s].y[i]) {
        flush();
        continue;
      }
      pts += fmt::format("{}{:.1f},{:.1f}", pts.empty() ? "" : " ", x(i), y(*series[s].y[i]));
      if (n <= 60)  // a dot per night while they can be told apart
        o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"><title>{} {}: "
                         "{}</title></circle>\n",
                         x(i), y(*series[s].y[i]), colour, escape(series[s].name),
                         escape(night_label(h.nights[i].name)), report::fmt_num(*series[s].y[i], 2));
    }
    flush();
  }
  o += "</svg><div class=\"legend\">";
  for (size_t s = 0; s < series.size(); ++s)
    o += fmt::format("<span><i style=\"background:{}\"></i>{}</span>", report::palette(s),
                     escape(series[s].name));
  o += "<span><i class=\"kd\"></i>drift night</span><span><i class=\"kf\"></i>failed or "
       "incomplete night</span></div></figure>\n";
  return o;
}

/// One figure of a version's phase, night by night.
std::vector<Series> phase_series(const History& h, const std::string& version,
                                 std::optional<double> (*get)(const results::PhaseFigures&)) {
  std::vector<Series> out;
  for (const auto& phase : h.phases) {
    Series s{phase, {}};
    bool any = false;
    for (const Night& n : h.nights) {
      std::optional<double> v;
      if (n.figures)
        if (const auto* vf = n.figures->version(version))
          if (const auto* pf = vf->phase(phase)) v = get(*pf);
      any = any || (v && *v > 0);
      s.y.push_back(v);
    }
    if (any || phase != "other") out.push_back(std::move(s));
  }
  return out;
}

std::string summary(const History& h) {
  size_t complete = 0, failed = 0, incomplete = 0, drift = 0, retried = 0;
  for (const Night& n : h.nights) {
    complete += n.status == "complete";
    failed += n.status == "failed" || n.status == "unreadable";
    incomplete += n.status == "incomplete";
    drift += n.drift();
    retried += !n.retries.empty();
  }
  return fmt::format(
      "<p class=\"summary\">{} nights, {} to {}: <b>{}</b> complete, <b class=\"failed\">{}</b> "
      "failed, <b>{}</b> incomplete, <b class=\"drift\">{}</b> with drift, {} with a retried "
      "run.</p>\n",
      h.nights.size(), escape(night_label(h.nights.front().name)),
      escape(night_label(h.nights.back().name)), complete, failed, incomplete, drift, retried);
}

std::string list(const std::vector<std::string>& items) {
  std::string o;
  for (const auto& s : items) o += "<li>" + escape(s) + "</li>";
  return o.empty() ? "" : "<ul>" + o + "</ul>";
}

std::string nights_table(const History& h) {
  std::string o =
      "<table class=\"nights\"><colgroup><col style=\"width:16%\"><col style=\"width:11%\">"
      "<col style=\"width:8%\"><col style=\"width:65%\"></colgroup><thead><tr><th>night</th>"
      "<th>state</th><th>runs</th><th>what happened</th></tr></thead><tbody>\n";
  for (auto it = h.nights.rbegin(); it != h.nights.rend(); ++it) {  // newest first
    const Night& n = *it;
    std::string cls = n.drift() ? "drift" : n.status == "complete" ? "ok" : "failed";
    std::string name = escape(night_label(n.name));
    if (n.has_report_html)
      name = fmt::format("<a class=\"report\" href=\"{}/{}\">{}</a>", escape(n.name),
                         results::files::kReportHtml, name);
    std::string what;
    if (n.drift()) {
      what += "<div class=\"drift-note\"><b>drift</b>";
      if (!n.figures->baseline_dir.empty())
        what += " against " + escape(std::filesystem::path(n.figures->baseline_dir).filename().string());
      what += list(n.figures->drift_cells);
      what += n.figures->provenance_changes.empty()
                  ? "<div>provenance identical (not a change of software)</div>"
                  : "<div>provenance changed:</div>" + list(n.figures->provenance_changes);
      what += "</div>";
    }
    if (!n.problems.empty()) what += "<div class=\"problems\">" + list(n.problems) + "</div>";
    if (!n.retries.empty()) what += "<div class=\"retries\">" + list(n.retries) + "</div>";
    if (!n.error.empty()) what += "<div class=\"problems\">" + escape(n.error) + "</div>";
    if (!n.figures && n.status != "unreadable")
      what += "<div class=\"muted\">no figures: " + escape(n.report_error) + "</div>";
    o += fmt::format(
        "<tr id=\"{}\" class=\"{}\"><td>{}</td><td>{}{}</td><td>{}/{}</td><td>{}</td></tr>\n",
        anchor(n), cls, name, escape(n.status), n.drift() ? ", drift" : "", n.complete_runs,
        n.runs, what);
  }
  return o + "</tbody></table>\n";
}

constexpr const char* kStyle = R"(<style>
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;padding:16px;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:18px 0 4px}
figure.chart{margin:8px 0 16px;max-width:100%}
figure.chart svg{width:100%;height:auto;display:block}
figcaption{font-weight:600;margin-bottom:2px}
.grid{stroke:#e4e4e4}.yl{font-size:11px;text-anchor:end;fill:#555}
.xl{font-size:11px;fill:#555}.unit{font-size:11px;fill:#555;text-anchor:middle}
.mark-drift{stroke:#d62728;opacity:.55}.mark-failed{stroke:#888;stroke-dasharray:4 3;opacity:.6}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.legend i.kd{background:#d62728;opacity:.55}.legend i.kf{background:#888;opacity:.6}
table.nights{width:100%;table-layout:fixed;border-collapse:collapse;font-size:13px}
table.nights td,table.nights th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;
vertical-align:top;overflow-wrap:anywhere}
tr.drift td:first-child{border-left:4px solid #d62728}tr.failed td:first-child{border-left:4px
solid #888}tr.ok td:first-child{border-left:4px solid #2ca02c}
.drift-note b,.drift{color:#d62728}.failed,.problems{color:#8a4b00}.muted{color:#888}
ul{margin:2px 0;padding-left:18px}
</style>)";

}  // namespace

std::string history_html(const History& h) {
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += fmt::format("<title>History: {}</title>\n{}\n</head><body>\n", escape(h.experiment), kStyle);
  o += fmt::format("<h1>History of {}</h1>\n", escape(h.experiment));
  o += summary(h);
  o += "<p>Night by night, oldest left: each version's packets sent, unique packets (Table 2) "
       "and noise floor per phase, from each night's report.json; red rules mark drift nights, "
       "grey ones failed or incomplete nights (each links to its row below, which links to "
       "that night's report).</p>\n";
  for (const auto& v : h.versions) {
    o += fmt::format("<h2 id=\"version-{}\">{}</h2>\n", escape(v), escape(v));
    o += line_chart(h, v + ": packets sent per phase", "packets",
                    phase_series(h, v, [](const results::PhaseFigures& p) -> std::optional<double> {
                      return double(p.packets_sent);
                    }));
    o += line_chart(h, v + ": unique packets per phase (Table 2)", "packets",
                    phase_series(h, v, [](const results::PhaseFigures& p) -> std::optional<double> {
                      return double(p.unique);
                    }));
    o += line_chart(h, v + ": noise floor per phase", "packets",
                    phase_series(h, v, [](const results::PhaseFigures& p) -> std::optional<double> {
                      if (!p.noise_floor) return std::nullopt;
                      return double(*p.noise_floor);
                    }));
  }
  o += "<h2 id=\"durations\">Durations and drops</h2>\n";
  std::vector<Series> dur, drops;
  for (const auto& v : h.versions) {
    Series d{v, {}}, dr{v, {}};
    for (const Night& n : h.nights) {
      std::optional<double> dv;
      if (n.figures)
        if (const auto* vf = n.figures->version(v)) dv = vf->duration_s;
      d.y.push_back(dv);
      auto it = n.dropped.find(v);
      dr.y.push_back(it != n.dropped.end() ? std::optional<double>(double(it->second))
                                           : std::nullopt);
    }
    dur.push_back(std::move(d));
    drops.push_back(std::move(dr));
  }
  Series wall{"all runs (wall time)", {}};
  for (const Night& n : h.nights)
    wall.y.push_back(n.complete_runs ? std::optional<double>(n.wall_seconds) : std::nullopt);
  o += line_chart(h, "Scan duration per version (Table 1)", "seconds", dur);
  o += line_chart(h, "Wall time of the night's complete runs", "seconds", {wall});
  o += line_chart(h, "Capture drops per version (kernel + interface)", "packets", drops);
  o += "<h2 id=\"nights\">Every night, newest first</h2>\n";
  o += nights_table(h);
  o += "</body></html>\n";
  return o;
}

}  // namespace testbed::nightly
