#include "orchestrator/report/report.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "orchestrator/analysis/classifier.h"
#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/report/compare.h"
#include "orchestrator/report/html.h"
#include "orchestrator/results/layout.h"
#include "orchestrator/report/lab_graph.h"
#include "orchestrator/report/provenance.h"
#include "orchestrator/report/results.h"
#include "orchestrator/report/scanner_build.h"
#include "orchestrator/util/clock.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"

namespace testbed::report {
namespace fs = std::filesystem;
using analysis::CaptureAnalysis;
using nlohmann::json;

namespace {

// The study's own figures (docs/method.md, Malinich et al. 2021), shown beside ours for reference.
const std::array<const char*, 3> kStudyVersions = {"7.01", "7.60", "7.80"};
struct StudyRow {
  const char* name;
  std::array<double, 3> v;
};
const StudyRow kStudyTable1[] = {
    {"duration, s", {111, 247, 32}},
    {"bytes sent", {937862, 951182, 750892}},
    {"bytes received", {937158, 950870, 750788}},
    {"packets sent", {15366, 17491, 9307}},
    {"packets received", {12715, 12567, 6771}},
    {"ICMP sent", {1166, 1224, 1060}},
    {"TCP sent", {14115, 16159, 8222}},
    {"UDP sent", {85, 108, 25}},
    {"ICMP received", {247, 308, 81}},
    {"TCP received", {12468, 12259, 6690}},
    {"UDP received", {0, 0, 0}},
};
const StudyRow kStudyTable2[] = {
    {"horizontal", {3, 0, 3}},
    {"strobe", {0, 1000, 0}},
    {"services", {10, 19, 10}},
};

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

// Where the nodes ran, from the runs' lab provenance, and what that means for the tables:
// "" when every run says nothing (older manifests).
std::string lab_backend_note(const std::vector<RunRecord>& runs) {
  std::set<std::string> kinds;
  bool tcg = false;
  for (const RunRecord& r : runs) {
    const std::string& backend = r.manifest.lab.backend;
    const std::string& accel = r.manifest.lab.accel;
    if (backend == "vm") {
      kinds.insert(accel == "tcg" ? "QEMU virtual machines under TCG (software emulation)"
                                  : "QEMU/KVM virtual machines");
      tcg = tcg || accel == "tcg";
    } else if (backend == "lxc") {
      kinds.insert("LXC containers");
    }
  }
  if (kinds.empty()) return "";
  std::string s = fmt::format("Lab nodes: {}.", fmt::join(kinds, "; "));
  if (tcg)
    s += " Durations and rates under TCG are not comparable with KVM or LXC runs (every guest "
         "instruction is emulated); packet contents, counts and phases are.";
  return s;
}

std::string first_line(const std::string& s) {
  size_t a = s.find_first_not_of(" \r\n\t");
  if (a == std::string::npos) return "";
  size_t e = s.find_first_of("\r\n", a);
  return s.substr(a, e == std::string::npos ? std::string::npos : e - a);
}

std::string utc_now() { return util::utc_now("%Y-%m-%d %H:%M:%S UTC"); }

std::string port_str(const analysis::PacketKey& k) {
  return (k.proto == 6 || k.proto == 17) ? std::to_string(k.dport) : "";
}

/// Everything computed once and rendered three ways.
struct Model {
  AnalysedResults data;
  analysis::AnalysisResult study;     ///< one capture per version (the primary runs)
  std::vector<std::string> versions;  ///< study column order
  std::vector<analysis::RunPhaseSets> grouped_sets, fine_sets;
  analysis::NoiseFloor noise_grouped, noise_fine;
  analysis::ConfusionMatrix loo;
  std::vector<std::vector<double>> similarity;  ///< run × run (fine phases)
  std::vector<std::string> run_names;
  std::optional<DriftReport> drift;
  std::string baseline_name;
  std::string generated;
  std::vector<ExtraSection> extra;  ///< ReportOptions::sections, rendered
};

std::vector<const analysis::RunPhaseSets*> ptrs(const std::vector<analysis::RunPhaseSets>& v) {
  std::vector<const analysis::RunPhaseSets*> p;
  for (const auto& s : v) p.push_back(&s);
  return p;
}

util::Status check_cancel(const ReportOptions& opts) {
  if (opts.cancel && opts.cancel->load())
    return util::fail("interrupted before the report was written (nothing written)");
  return {};
}

util::Result<Model> build_model(const fs::path& dir, const ReportOptions& opts) {
  auto loaded = load_results(dir);
  if (!loaded) return loaded.error();
  analysis::AnalysisOptions aopts = loaded->options;
  auto store = std::make_shared<analysis::PayloadStore>(aopts.payload_max, aopts.payload_budget);
  Model m;
  m.generated = utc_now();
  m.data = analyse_results(std::move(*loaded), aopts, store, opts.cancel);
  if (auto st = check_cancel(opts); !st) return st.error();
  if (m.data.runs.empty())
    return util::fail(
        "{}: no complete, readable run to report on (see the runs' failure.json files)",
        dir.string());

  m.study.options = aopts;
  m.study.payloads = store;
  for (const AnalysedRun* a : m.data.primary()) {
    CaptureAnalysis c = a->capture;  // a copy: the study's columns are labelled by version
    c.input.label = m.data.results.runs[a->record].version;
    m.versions.push_back(c.input.label);
    m.study.captures.push_back(std::move(c));
  }
  std::vector<const CaptureAnalysis*> cols;
  for (const auto& c : m.study.captures) cols.push_back(&c);
  m.study.three_phase = analysis::unique_table(cols, true, *store, aopts.similarity);
  m.study.fine = analysis::unique_table(cols, false, *store, aopts.similarity);

  m.grouped_sets = m.data.phase_sets(true);
  m.fine_sets = m.data.phase_sets(false);
  m.noise_grouped = analysis::noise_floor(ptrs(m.grouped_sets), true, *store, aopts.similarity);
  m.noise_fine = analysis::noise_floor(ptrs(m.fine_sets), false, *store, aopts.similarity);
  const analysis::RunComparison compared(ptrs(m.fine_sets), *store, aopts.similarity);
  m.loo = analysis::leave_one_out(ptrs(m.fine_sets), compared);
  m.similarity = compared.matrix();
  for (const auto& s : m.fine_sets) m.run_names.push_back(s.run);

  for (const auto& make : opts.sections) m.extra.push_back(make(m.data));
  if (opts.baseline) {
    auto base = load_results(*opts.baseline);
    if (!base) return util::fail("--baseline: {}", base.error().message);
    // The baseline is read with OUR settings: a comparison needs one packet key.
    AnalysedResults b = analyse_results(std::move(*base), aopts, store, opts.cancel);
    if (auto st = check_cancel(opts); !st) return st.error();
    if (b.runs.empty())
      return util::fail("--baseline {}: no complete, readable run", opts.baseline->string());
    auto bsets = b.phase_sets(true);
    m.drift = compare_runs(ptrs(bsets), ptrs(m.grouped_sets), *store, aopts.similarity,
                           opts.drift_tolerance, opts.allow_missing);
    explain_missing(*m.drift, b.results, m.data.results);
    explain_provenance(*m.drift, b.results, m.data.results);
    m.baseline_name = opts.baseline->string();
  }
  return m;
}

// ---------------------------------------------------------------------------------------
// JSON

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

json report_json(const Model& m) {
  json j = {{"format", "testbed-report"},
            {"version", 1},
            {"experiment", m.data.results.experiment},
            {"results_dir", m.data.results.dir.string()},
            {"generated", m.generated},
            {"repetitions", m.data.results.repetitions},
            {"versions", m.versions},
            {"analysis_settings_source", m.data.results.options_source},
            {"warnings", m.data.results.warnings},
            {"runs", runs_json(m)},
            {"analysis", analysis::to_json(m.study, 1000)},
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

// ---------------------------------------------------------------------------------------
// Markdown

std::string noise_markdown(const Model& m) {
  std::string o = "## Noise floor (unique packets between runs of the same version)\n\n";
  if (!m.noise_grouped.available()) {
    return o +
           "Needs repetitions >= 2: with one run per version the run-to-run noise is unknown.\n\n";
  }
  o += "Cell: Table 2 figure (between versions) / noise floor max (mean) over pairs of runs of "
       "that version.\n\n";
  o += "| phase |";
  for (const auto& v : m.versions) o += " " + v + " |";
  o += "\n|---|";
  for (size_t i = 0; i < m.versions.size(); ++i) o += "---:|";
  o += "\n";
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

std::string classifier_markdown(const Model& m) {
  std::string o = "## Which version produced a capture?\n\n";
  if (m.loo.available) {
    o += fmt::format(
        "Leave-one-out over {} runs: {} correct ({:.0f} %). Rows: actual, columns: predicted.\n\n",
        m.loo.total, m.loo.correct, 100 * m.loo.accuracy());
    o += "| actual \\ predicted |";
    for (const auto& v : m.loo.versions) o += " " + v + " |";
    o += "\n|---|";
    for (size_t i = 0; i < m.loo.versions.size(); ++i) o += "---:|";
    o += "\n";
    for (size_t a = 0; a < m.loo.versions.size(); ++a) {
      o += "| " + m.loo.versions[a] + " |";
      for (size_t p = 0; p < m.loo.versions.size(); ++p)
        o += fmt::format(" {} |", m.loo.counts[a][p]);
      o += "\n";
    }
  } else {
    o += m.loo.reason +
         ". Pairwise similarity of the runs, phases kept apart: of their sent keys that recur "
         "in other runs but not in all, the share with an equal or similar packet (the "
         "study's similarity rule) in the other run:\n\n";
    o += "| |";
    for (const auto& n : m.run_names) o += " " + n + " |";
    o += "\n|---|";
    for (size_t i = 0; i < m.run_names.size(); ++i) o += "---:|";
    o += "\n";
    for (size_t i = 0; i < m.run_names.size(); ++i) {
      o += "| " + m.run_names[i] + " |";
      for (size_t k = 0; k < m.run_names.size(); ++k)
        o += fmt::format(" {:.3f} |", m.similarity[i][k]);
      o += "\n";
    }
  }
  return o + "\n";
}

std::string report_markdown(const Model& m, size_t limit) {
  std::string o = fmt::format("# Report: {}\n\nResults: `{}`  \nGenerated: {}\n\n",
                              m.data.results.experiment, m.data.results.dir.string(), m.generated);
  if (auto note = lab_backend_note(m.data.results.runs); !note.empty()) o += note + "\n\n";
  o += "## Runs\n\n| run | status | packets | dropped | scanner | note "
       "|\n|---|---|---:|---:|---|---|\n";
  for (const RunRecord& r : m.data.results.runs) {
    uint64_t drops = r.manifest.dropped();
    std::string note = r.error.empty() ? "" : (r.stage.empty() ? "" : r.stage + ": ") + r.error;
    std::replace(note.begin(), note.end(), '\n', ' ');
    std::replace(note.begin(), note.end(), '|', '/');
    o += fmt::format(
        "| {} | {} | {} | {} | {} | {} |\n", r.name(), r.status,
        r.complete() ? std::to_string(r.manifest.packets()) : "",
        r.complete() ? std::to_string(drops) : "", first_line(r.manifest.scanner_version), note);
  }
  // Where each version's scanner came from (first complete run of each).
  std::set<std::string> shown;
  for (const RunRecord& r : m.data.results.runs) {
    nlohmann::json b = r.complete() ? scanner_build(r.manifest) : nlohmann::json();
    if (b.is_null() || !shown.insert(r.version).second) continue;
    if (shown.size() == 1) o += "\nScanner builds:\n\n";
    o += fmt::format("- {}: {}; {}\n", r.version, scanner_build_summary(b),
                     compiled_with(r.manifest.scanner_version));
  }
  o += "\nThe study's own figures (7.01 / 7.60 / 7.80, docs/method.md) for reference: Table 1 "
       "duration "
       "111 / 247 / 32 s, "
       "packets sent 15366 / 17491 / 9307; Table 2 horizontal 3 / 0 / 3, strobe 0 / 1000 / 0, "
       "services 10 / 19 / 10.\n\n";
  o += analysis::to_markdown(m.study, limit);
  o += "\n" + noise_markdown(m) + classifier_markdown(m);
  for (const auto& x : m.extra) o += "## " + x.title + "\n\n" + x.markdown + "\n";
  if (m.drift)
    o += "## Compared with the baseline\n\n" +
         m.drift->to_markdown(m.baseline_name, m.data.results.dir.string());
  return o;
}

// ---------------------------------------------------------------------------------------
// HTML

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
thead th{background:var(--soft);font-weight:600;border-bottom:2px solid var(--line);white-space:nowrap}
tbody th{font-weight:500;white-space:nowrap}
table.num td{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.num thead th:not(:first-child){text-align:right}
th.ref,td.ref{color:#8c959f;background:#fafbfc;font-style:italic}
td.pl,td.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
td.pl{max-width:520px;text-align:left!important;white-space:normal!important}
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

std::string status_span(const std::string& s) {
  return fmt::format("<span class=\"st-{}\">{}</span>", escape(s), escape(s));
}

std::string html_runs(const Model& m) {
  HtmlTable t;
  t.css_class = "num";
  t.header = {
      "run",     "status", "packets captured", "dropped (kernel + interface)", "scan time, s",
      "scanner", "note"};
  for (const RunRecord& r : m.data.results.runs) {
    std::string packets, drops, secs;
    if (r.complete()) {
      packets = fmt_int(r.manifest.packets());
      uint64_t k = r.manifest.kernel_dropped(), i = r.manifest.interface_dropped();
      drops = (k + i) ? fmt::format("<span class=\"drift\">{} + {}</span>", k, i) : "0";
      if (r.manifest.scan && r.manifest.scan->seconds() > 0)
        secs = fmt_num(r.manifest.scan->seconds(), 1);
    }
    std::string note = r.error.empty() ? "" : (r.stage.empty() ? "" : r.stage + ": ") + r.error;
    t.rows.push_back({escape(r.name()), status_span(r.status), packets, drops, secs,
                      "<span class=\"mono\">" +
                          escape(first_line(r.manifest.scanner_version)) + "</span>",
                      "<span style=\"white-space:normal\">" + escape(note) + "</span>"});
  }
  return t.render();
}

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

std::string html_unique(const Model& m, size_t limit) {
  std::string o;
  const auto& tab = m.study.fine;
  for (size_t r = 0; r < tab.rows.size(); ++r) {
    for (size_t v = 0; v < tab.cells[r].size(); ++v) {
      const auto& u = tab.cells[r][v];
      if (u.unique.empty()) continue;
      // Short lists are open: a reader sees the differences without a click (no JS needed).
      o += fmt::format("<details{}><summary>{} — {}: {} unique packet{}</summary>",
                       u.unique.size() <= 12 ? " open" : "", escape(m.versions[v]),
                       escape(tab.rows[r]), u.unique.size(), u.unique.size() == 1 ? "" : "s");
      HtmlTable t;
      t.css_class = "num";
      t.header = {
          "#", "proto", "destination", "port", "flags", "length", "payload (printable preview)"};
      for (size_t i = 0; i < u.unique.size() && i < limit; ++i) {
        const auto& k = u.unique[i];
        t.rows.push_back(
            {std::to_string(i + 1), escape(k.proto_name()), escape(k.dst_addr().str()), port_str(k),
             escape(k.proto == 6 ? analysis::tcp_flags_str(k.tcp_flags) : ""),
             std::to_string(k.length), escape(m.study.payloads->preview(k.payload_hash, 96))});
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

std::string html_noise(const Model& m) {
  if (!m.noise_grouped.available())
    return "<p class=\"note\">The noise floor needs repetitions ≥ 2 (unique packets between two "
           "runs of the "
           "<em>same</em> version). With one run per version, a Table 2 figure cannot be told "
           "apart from run-to-run "
           "noise; run the experiment with <code>repetitions: 2</code> or more.</p>";
  std::string o =
      "<p class=\"note\">Per phase: the unique packets the study's method finds between two runs "
      "of the "
      "same version (max and mean over all pairs of runs), beside the between-version figure of "
      "Table 2. "
      "A difference is a version difference only where it stands clearly above its noise "
      "floor.</p>";
  for (const auto* nf : {&m.noise_grouped, &m.noise_fine}) {
    const auto& tab = nf->grouped ? m.study.three_phase : m.study.fine;
    HtmlTable t;
    t.css_class = "num";
    t.caption = nf->grouped ? "the study's three phases" : "fine phases";
    t.header = {"phase"};
    for (const auto& v : m.versions) {
      t.header.push_back(escape(v) + " between");
      t.header.push_back(escape(v) + " noise max (mean)");
    }
    for (size_t r = 0; r < tab.rows.size(); ++r) {
      std::vector<std::string> cells = {escape(tab.rows[r])};
      for (size_t v = 0; v < m.versions.size(); ++v) {
        size_t between = tab.cells[r][v].unique.size();
        const analysis::NoiseCell* c = nf->find(tab.rows[r], m.versions[v]);
        bool above = c && c->pairs && between > c->max;
        cells.push_back(above ? fmt::format("<b>{}</b>", between) : std::to_string(between));
        cells.push_back(c && c->pairs ? fmt::format("{} ({})", c->max, fmt_num(c->mean, 1))
                                      : "n/a");
      }
      t.rows.push_back(cells);
    }
    o += t.render();
  }
  return o + "<p class=\"note\">Bold: above the noise floor.</p>";
}

std::string heat(double v) {
  // White (0) to blue (1).
  double f = std::clamp(v, 0.0, 1.0);
  return fmt::format("background:rgb({},{},{});", static_cast<int>(255 - 140 * f),
                     static_cast<int>(255 - 80 * f), static_cast<int>(255 - 25 * f));
}

std::string html_classifier(const Model& m) {
  std::string o =
      "<p class=\"note\">Given a capture's packet-key sets per fine phase, which version produced "
      "it? "
      "Each run is scored against every version's other runs by the share of their sent keys "
      "that have an equal or <em>similar</em> packet in the other run (the study's similarity "
      "rule, as for Table 2: a packet differing only by a variable element such as a random "
      "token or NSE's per-run HTTP header order is no difference), phases kept apart, counting "
      "only keys that recur in other runs but not in all (a key no other run has even a "
      "variant of is run noise, a key every run has tells nothing apart), and assigned to the "
      "best-scoring version (mean over its runs; ties count as wrong).</p>";
  if (m.loo.available) {
    o += fmt::format("<p><b>Leave-one-out: {} of {} runs classified correctly ({:.0f} %).</b></p>",
                     m.loo.correct, m.loo.total, 100 * m.loo.accuracy());
    HtmlTable t;
    t.css_class = "num heat";
    t.caption = "confusion matrix: rows = actual version, columns = predicted";
    t.header = {"actual \\ predicted"};
    for (const auto& v : m.loo.versions) t.header.push_back(escape(v));
    for (size_t a = 0; a < m.loo.versions.size(); ++a) {
      std::vector<std::string> cells = {escape(m.loo.versions[a])};
      size_t row_total = 0;
      for (size_t n : m.loo.counts[a]) row_total += n;
      for (size_t p = 0; p < m.loo.versions.size(); ++p) {
        double f = row_total
                       ? static_cast<double>(m.loo.counts[a][p]) / static_cast<double>(row_total)
                       : 0;
        cells.push_back(fmt::format("<span style=\"{}\">{}</span>", heat(f), m.loo.counts[a][p]));
      }
      t.rows.push_back(cells);
    }
    o += t.render();
  } else {
    o += "<p class=\"note\">" + escape(m.loo.reason) +
         ". Shown instead: the pairwise similarity of the runs (1 = every informative key has an "
         "equal or similar packet in the other run).</p>";
  }
  HtmlTable s;
  s.css_class = "num heat";
  s.caption =
      "pairwise similarity of runs (share of recurring, not universal sent keys with an equal "
      "or similar packet in the other run)";
  s.header = {""};
  for (const auto& n : m.run_names) s.header.push_back(escape(n));
  for (size_t i = 0; i < m.run_names.size(); ++i) {
    std::vector<std::string> cells = {escape(m.run_names[i])};
    for (size_t k = 0; k < m.run_names.size(); ++k)
      cells.push_back(fmt::format("<span style=\"{}\">{}</span>", heat(m.similarity[i][k]),
                                  fmt_num(m.similarity[i][k], 3)));
    s.rows.push_back(cells);
  }
  return o + s.render();
}

std::string html_drift(const Model& m) {
  const DriftReport& d = *m.drift;
  std::string o =
      fmt::format("<p>Baseline (A): <code>{}</code><br>This experiment (B): <code>{}</code></p>",
                  escape(m.baseline_name), escape(m.data.results.dir.string()));
  bool cell_drift =
      std::any_of(d.cells.begin(), d.cells.end(), [](const DriftCell& c) { return c.drift; });
  o += cell_drift ? "<p class=\"drift\">Traffic changed beyond the noise floor.</p>"
                  : "<p><b>No change beyond the noise floor.</b></p>";
  if (d.missing_drift)
    o += "<p class=\"drift\">A scanner version has complete runs on one side only.</p>";
  HtmlTable t;
  t.css_class = "num";
  t.header = {"version", "phase",       "A only",    "B only",
              "between", "noise floor", "threshold", "drift"};
  for (const auto& c : d.cells)
    t.rows.push_back({escape(c.version), escape(c.phase), std::to_string(c.a_only),
                      std::to_string(c.b_only), std::to_string(c.between),
                      c.noise ? std::to_string(*c.noise) : "unknown", std::to_string(c.threshold),
                      c.drift ? "<span class=\"drift\">DRIFT</span>" : "no"});
  o += t.render();
  o += provenance_html(d);
  auto missing = [&](const std::vector<std::string>& vs, const char* where) {
    if (vs.empty()) return;
    o += fmt::format("<p class=\"{}\">With a complete run {} only ({}):</p><ul>",
                     d.allow_missing ? "note" : "drift", where,
                     d.allow_missing ? "allowed by --allow-missing, not compared"
                                     : "drift; --allow-missing accepts this");
    for (const auto& v : vs) {
      auto w = d.missing_why.find(v);
      o +=
          "<li>" + escape(v) + (w == d.missing_why.end() ? "" : ": " + escape(w->second)) + "</li>";
    }
    o += "</ul>";
  };
  missing(d.only_in_a, "in the baseline");
  missing(d.only_in_b, "here");
  if (!d.noise_known)
    o += "<p class=\"note\">Noise floor unknown (one run per version on both sides): any "
         "difference beyond the "
         "tolerance counts as drift.</p>";
  return o;
}

std::string html_capture(const Model& m) {
  HtmlTable t;
  t.css_class = "num";
  t.header = {"run",
              "link type",
              "scanner",
              "frames",
              "decoded",
              "not IP",
              "truncated",
              "malformed",
              "cut by snaplen",
              "phases from",
              "timeline/classifier agreement"};
  for (const AnalysedRun& a : m.data.runs) {
    const auto& c = a.capture;
    std::string agree =
        c.agreement.available && c.agreement.compared
            ? fmt::format("{:.1f} %", 100.0 * static_cast<double>(c.agreement.agreed) /
                                          static_cast<double>(c.agreement.compared))
            : "–";
    t.rows.push_back({escape(m.data.results.runs[a.record].name()), escape(c.link_type_name),
                      escape(c.scanner.str()) + (c.scanner_auto ? " (auto)" : ""),
                      fmt_int(c.decode.frames), fmt_int(c.decode.ok), fmt_int(c.decode.not_ip),
                      fmt_int(c.decode.truncated), fmt_int(c.decode.malformed),
                      fmt_int(c.decode.snaplen_cut), escape(c.phase_source), agree});
  }
  return t.render();
}

std::string html_provenance(const Model& m) {
  std::set<std::string> revisions, kernels, shas;
  HtmlTable t;
  t.header = {"run", "nmap --version", "scanner build", "image keys", "command"};
  for (const RunRecord& r : m.data.results.runs) {
    if (!r.complete()) continue;
    if (const auto& s = r.manifest.testbed.git_revision; !s.empty()) revisions.insert(s);
    if (const auto& s = r.manifest.host_kernel; !s.empty()) kernels.insert(s);
    if (const auto& s = r.manifest.experiment.sha256; !s.empty()) shas.insert(s);
    std::string images;
    if (r.manifest.images.is_object())
      for (const auto& [node, im] : r.manifest.images.items())
        images += escape(node) + ": <span class=\"mono\">" +
                  escape(im.is_object() ? im.value("name", std::string()) + "@" +
                                              im.value("key", std::string())
                                        : im.dump()) +
                  "</span><br>";
    std::string cmd;
    for (const auto& a : r.manifest.scanner_command) cmd += (cmd.empty() ? "" : " ") + a;
    t.rows.push_back({escape(r.name()),
                      "<span class=\"mono\">" +
                          escape(first_line(r.manifest.scanner_version)) + "<br>" +
                          escape(compiled_with(r.manifest.scanner_version)) + "</span>",
                      "<span style=\"white-space:normal\">" +
                          escape(scanner_build_summary(scanner_build(r.manifest))) + "</span>",
                      images, "<span class=\"mono\">" + escape(cmd) + "</span>"});
  }
  auto joined = [](const std::set<std::string>& s) {
    return s.empty() ? std::string("unknown") : escape(fmt::format("{}", fmt::join(s, ", ")));
  };
  const auto& o = m.study.options;
  auto rule = [](const analysis::SimilarityRule& r) {
    return r.enabled ? fmt::format("≤{} B length diff, ≥{} B common block", r.max_length_diff,
                                   r.min_common_block)
                     : std::string("off");
  };
  std::string s = "<table><tbody>";
  s += "<tr><th>testbed git revision</th><td class=\"mono\">" + joined(revisions) + "</td></tr>";
  s += "<tr><th>host kernel</th><td class=\"mono\">" + joined(kernels) + "</td></tr>";
  s += "<tr><th>experiment file sha256</th><td class=\"mono\">" + joined(shas) + "</td></tr>";
  s += "<tr><th>analysis settings</th><td>" + escape(m.data.results.options_source) +
       "; packet key: the study's" +
       (o.key_fields ? " + " + escape(analysis::key_fields_str(o.key_fields)) : std::string()) +
       "; scanner: " + (o.scanner ? escape(o.scanner->str()) : std::string("auto-detected")) +
       "</td></tr>";
  s += "<tr><th>similarity exclusion</th><td>TCP " + escape(rule(o.similarity.tcp)) + "; UDP " +
       escape(rule(o.similarity.udp)) + "; ICMP " + escape(rule(o.similarity.icmp)) + "; other " +
       escape(rule(o.similarity.other)) + "</td></tr>";
  s += "</tbody></table>";
  return s + t.render();
}

std::string report_html(const Model& m, size_t limit) {
  const auto& res = m.data.results;
  size_t complete = m.data.runs.size(), not_ok = res.runs.size() - complete;
  uint64_t drops = 0;
  for (const RunRecord& r : res.runs) drops += r.manifest.dropped();
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      // No script, no remote resource: the page is inert whatever a payload contains.
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'; img-src data:\">";
  h += "<title>testbed report: " + escape(res.experiment) + "</title><style>" + kCss +
       "</style></head><body>";
  h += "<header><h1>Nmap traffic by version — " + escape(res.experiment) +
       "</h1><div class=\"sub\">" + escape(res.dir.string()) + " · generated " +
       escape(m.generated) + "</div></header><main>";
  h += "<div class=\"cards\">";
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
  h += "<nav><a href=\"#runs\">Runs</a><a href=\"#t1\">Table 1</a><a href=\"#t2\">Table 2</a><a "
       "href=\"#unique\">Unique "
       "packets</a><a href=\"#ports\">Port usage</a><a href=\"#timeline\">Timeline</a><a "
       "href=\"#noise\">Noise floor</a>"
       "<a href=\"#classifier\">Classifier</a>" +
       std::string(m.drift ? "<a href=\"#baseline\">Baseline</a>" : "") +
       "<a href=\"#capture\">Capture</a><a href=\"#provenance\">Provenance</a></nav>";
  for (const auto& w : res.warnings) h += "<p class=\"note\">⚠ " + escape(w) + "</p>";

  h += "<h2 id=\"runs\">Runs</h2>" + html_runs(m);
  if (not_ok)
    h += fmt::format(
        "<p class=\"note\">{} run(s) not complete or unreadable: listed above, not analysed.</p>",
        not_ok);
  h += "<h2 id=\"t1\">Table 1 — network usage per version</h2>" + html_table1(m);
  h += "<h2 id=\"t2\">Table 2 — unique packets per phase</h2>"
       "<p class=\"note\">U<sub>n</sub> = P<sub>n</sub> \\ (P<sub>1</sub> ∩ … ∩ P<sub>k</sub>) "
       "over the scanner's sent "
       "packet keys, after the similarity exclusion (docs/method.md). Small print: the noise floor "
       "where measured, and "
       "|P<sub>n</sub>| with the packets removed as mere variants.</p>";
  h += html_table2(m, m.study.three_phase, m.noise_grouped, true);
  h += "<h3>By fine phase</h3>" + html_table2(m, m.study.fine, m.noise_fine, false);
  h += "<h2 id=\"unique\">Unique packets per phase and version</h2>" + html_unique(m, limit);
  h += "<h2 id=\"ports\">Destination-port usage in the port-scan phase (the study's Fig. 2)</h2>" +
       html_port_usage(m);
  h += "<h2 id=\"timeline\">Phase timeline per version</h2>" + html_timeline(m);
  h += "<h2 id=\"noise\">Noise floor</h2>" + html_noise(m);
  h += "<h2 id=\"classifier\">Which version produced a capture?</h2>" + html_classifier(m);
  for (const auto& x : m.extra)
    h += "<h2 id=\"" + escape(x.id) + "\">" + escape(x.title) + "</h2>" + x.html;
  if (m.drift) h += "<h2 id=\"baseline\">Compared with the baseline</h2>" + html_drift(m);
  h += "<h2 id=\"capture\">Capture and decoding</h2>" + html_capture(m);
  h += "<h2 id=\"provenance\">Provenance</h2>" + html_provenance(m);
  h += lab_graph_html(res.dir);  // "The lab": the topology drawn by Graphviz
  h += "<footer>Method: Malinich, Mesyura, Arseniuk, “Analysis of traffic usage by scanning "
       "computer networks with "
       "different versions of Nmap”, VNTU 2021 (docs/method.md). Study figures are for Nmap "
       "7.01/7.60/7.80 in the "
       "authors' lab and are shown for reference only. Machine-readable: report.json, "
       "csv/.</footer>";
  return h + "</main></body></html>\n";
}

util::Status write_extra_csv(const Model& m, const fs::path& dir) {
  std::string runs = "run,version,rep,status,packets,kernel_dropped,interface_dropped,error\n";
  for (const RunRecord& r : m.data.results.runs) {
    std::string err = r.error;
    std::replace(err.begin(), err.end(), '"', '\'');
    std::replace(err.begin(), err.end(), '\n', ' ');
    runs += fmt::format("{},{},{},{},{},{},{},\"{}\"\n", r.name(), r.version, r.rep, r.status,
                        r.manifest.packets(), r.manifest.kernel_dropped(),
                        r.manifest.interface_dropped(), err);
  }
  std::string noise = "grouping,phase,version,pairs,max,mean\n";
  for (const auto* nf : {&m.noise_grouped, &m.noise_fine})
    for (size_t r = 0; r < nf->rows.size(); ++r)
      for (size_t v = 0; v < nf->versions.size(); ++v)
        noise += fmt::format("{},{},{},{},{},{:.3f}\n", nf->grouped ? "three-phase" : "fine",
                             nf->rows[r], nf->versions[v], nf->cells[r][v].pairs,
                             nf->cells[r][v].max, nf->cells[r][v].mean);
  std::string cls = "run,actual,predicted,tie\n";
  for (const auto& p : m.loo.predictions)
    cls += fmt::format("{},{},{},{}\n", p.run, p.actual, p.predicted, p.tie);
  std::string sim = "run";
  for (const auto& n : m.run_names) sim += "," + n;
  sim += "\n";
  for (size_t i = 0; i < m.run_names.size(); ++i) {
    sim += m.run_names[i];
    for (double v : m.similarity[i]) sim += fmt::format(",{:.4f}", v);
    sim += "\n";
  }
  for (auto [name, text] : {std::pair{"runs.csv", &runs}, std::pair{"noise_floor.csv", &noise},
                            std::pair{"classifier.csv", &cls}, std::pair{"similarity.csv", &sim}})
    if (auto st = util::write_file_atomic(dir / name, *text); !st) return st;
  if (m.drift) {
    std::string d = "version,phase,a_only,b_only,between,noise_floor,threshold,drift\n";
    for (const auto& c : m.drift->cells)
      d += fmt::format("{},{},{},{},{},{},{},{}\n", c.version, c.phase, c.a_only, c.b_only,
                       c.between, c.noise ? std::to_string(*c.noise) : "", c.threshold, c.drift);
    if (auto st = util::write_file_atomic(dir / "drift.csv", d); !st) return st;
  }
  return {};
}

}  // namespace

util::Result<ReportOutcome> write_report(const fs::path& results_dir, const ReportOptions& opts) {
  auto m = build_model(results_dir, opts);
  if (!m) return m.error();
  // The last point of no return: from here the files are written (each atomically).
  if (auto st = check_cancel(opts); !st) return st.error();
  ReportOutcome out;
  const results::ResultsPaths paths{results_dir};
  out.html = paths.report_html();
  out.markdown = paths.report_markdown();
  out.json = paths.report_json();
  out.drift = m->drift && m->drift->drift;
  if (out.drift) out.drift_reason = drift_summary(*m->drift);
  if (auto st = analysis::write_csv(m->study, paths.csv()); !st) return st.error();
  if (auto st = write_extra_csv(*m, paths.csv()); !st) return st.error();
  if (auto st = util::write_file_atomic(out.json, report_json(*m).dump(2) + "\n"); !st)
    return st.error();
  if (auto st = util::write_file_atomic(out.markdown, report_markdown(*m, opts.unique_limit)); !st)
    return st.error();
  if (auto st = util::write_file_atomic(out.html, report_html(*m, opts.unique_limit)); !st)
    return st.error();
  util::log_info("report written: {}", out.html.string());
  return out;
}

}  // namespace testbed::report
