// report.html: the runs and what is measured between them — the run list, noise floor,
// version classifier, drift against a baseline, capture and decoding, provenance.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

#include "orchestrator/report/html.h"
#include "orchestrator/report/provenance.h"
#include "orchestrator/report/render_common.h"
#include "orchestrator/report/render_html_parts.h"
#include "orchestrator/report/scanner_build.h"

namespace testbed::report {

namespace {

std::string status_span(const std::string& s) {
  return fmt::format("<span class=\"st-{}\">{}</span>", escape(s), escape(s));
}

std::string heat(double v) {
  // White (0) to blue (1).
  double f = std::clamp(v, 0.0, 1.0);
  return fmt::format("background:rgb({},{},{});", static_cast<int>(255 - 140 * f),
                     static_cast<int>(255 - 80 * f), static_cast<int>(255 - 25 * f));
}

}  // namespace

std::string html_runs(const Model& m) {
  HtmlTable t;
  t.css_class = "num runs";  // scanner and note: text, left-aligned and wrapped
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
    std::string note = run_note(r);
    t.rows.push_back(
        {escape(r.name()), status_span(r.status), packets, drops, secs,
         "<span class=\"mono\">" + escape(first_line(r.manifest.scanner_version)) + "</span>",
         "<span style=\"white-space:normal\">" + escape(note) + "</span>"});
  }
  return t.render();
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
                      "<span class=\"mono\">" + escape(first_line(r.manifest.scanner_version)) +
                          "<br>" + escape(compiled_with(r.manifest.scanner_version)) + "</span>",
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

}  // namespace testbed::report
