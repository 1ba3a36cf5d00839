#include "orchestrator/ids/section.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "orchestrator/report/html.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"

namespace testbed::ids {
namespace {

using report::escape;
using report::fmt_int;

constexpr size_t kRulesListed = 100;  ///< per-rule rows in HTML/Markdown (JSON has all)

size_t rules_of(const IdsEvaluation& ev, const std::string& v) {
  return static_cast<size_t>(std::count_if(ev.rules.begin(), ev.rules.end(),
                                           [&](const RuleOutcome& r) { return r.rule.version == v; }));
}

/// Alerts of version x's rules on runs of version y.
uint64_t cell_alerts(const IdsEvaluation& ev, size_t x, const std::string& y) {
  uint64_t n = 0;
  for (size_t j = 0; j < ev.runs.size(); ++j)
    if (ev.run_versions[j] == y) n += ev.alerts[x][j];
  return n;
}

/// Rejected rules, once per rule text.
std::vector<const RuleError*> distinct_rejected(const IdsEvaluation& ev) {
  std::set<std::string> seen;
  std::vector<const RuleError*> out;
  for (const auto& e : ev.rejected)
    if (seen.insert(e.rule).second) out.push_back(&e);
  return out;
}

std::string sample_note(const IdsEvaluation& ev) {
  return ev.leave_one_out
             ? "Leave-one-out: every run is judged by rules generated without it (from the other "
               "runs), so the matrix is not in-sample."
             : "In-sample: with one run of some version, the rules were generated from the very "
               "runs they are judged on (run with repetitions ≥ 2 for a leave-one-out matrix).";
}

/// The study's question answered on this evidence.
std::string conclusion(const IdsEvaluation& ev) {
  const size_t right = ev.classed_right(), n = ev.runs.size();
  size_t cross = 0, diag = 0, diag_total = 0;
  for (size_t x = 0; x < ev.versions.size(); ++x)
    for (size_t y = 0; y < ev.versions.size(); ++y) {
      if (x == y) {
        diag += ev.fired_runs[x][y];
        diag_total += ev.runs_per_version[y];
      } else {
        cross += ev.fired_runs[x][y];
      }
    }
  std::string s = fmt::format(
      "{} of {} runs were alerted on most by the rules of their own version; the rules of a "
      "version fired on {} of {} of its own runs and on {} runs of other versions",
      right, n, diag, diag_total, cross);
  if (!ev.leave_one_out)
    s += " (in-sample: the rules were made from these runs, so this says what the rules "
         "match, not how they predict a new run)";
  size_t own_only = 0, fired = 0;
  for (const auto& r : ev.rules) {
    fired += r.total() > 0;
    own_only += r.total() > 0 && r.precision() == 1.0;
  }
  s += fmt::format(". Rules made from every run: {} of {} fired, {} of them only on their own "
                   "version",
                   fired, ev.rules.size(), own_only);
  if (ev.leave_one_out &&
      *std::min_element(ev.runs_per_version.begin(), ev.runs_per_version.end()) == 2)
    s += ". With two runs per version, leaving one out trains that version on a single run, "
         "whose per-run random elements (TLS randoms, NSE tokens, random ports) cannot be told "
         "from version traits; repetitions >= 3 give every rule two runs to agree on";
  // Per version: told apart when its rules fired on every run of it and on no other run.
  std::vector<std::string> apart, not_apart;
  for (size_t x = 0; x < ev.versions.size(); ++x) {
    size_t other = 0;
    for (size_t y = 0; y < ev.versions.size(); ++y) other += y == x ? 0 : ev.fired_runs[x][y];
    (ev.fired_runs[x][x] == ev.runs_per_version[x] && other == 0 ? apart : not_apart)
        .push_back(ev.versions[x]);
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string o;
    for (const auto& x : v) o += (o.empty() ? "" : ", ") + x;
    return o;
  };
  if (not_apart.empty())
    s += ". On this evidence an IDS can tell every one of these versions apart with "
         "signatures, unlike the study's conclusion that the minor versions of Nmap 7 need no "
         "separate classes.";
  else if (apart.empty())
    s += ". On this evidence signatures do not tell these versions apart, in line with the "
         "study's conclusion that the minor versions of Nmap 7 need no separate classes.";
  else
    s += ". On this evidence signatures tell " + list(apart) +
         " apart (their rules fired on every run of them and on no other run), but not " +
         list(not_apart) +
         ": the study's conclusion that the minor versions need no separate classes holds for "
         "those only.";
  return s;
}

std::string html(const IdsEvaluation& ev) {
  std::string o = "<p class=\"note\">Suricata " + escape(ev.suricata_version) +
                  " (the sensor image's, offline: <code>suricata -r</code>) replayed the rules "
                  "<code>testbed signatures</code> generates over every run's capture. " +
                  escape(sample_note(ev)) + "</p>";
  report::HtmlTable t;
  t.css_class = "num";
  t.caption = "Rules of version X (rows) × runs of version Y (columns): runs the rules fired on "
              "/ runs, and alerts";
  t.header = {"rules of"};
  for (size_t y = 0; y < ev.versions.size(); ++y)
    t.header.push_back(fmt::format("runs of {} ({})", escape(ev.versions[y]), ev.runs_per_version[y]));
  for (size_t x = 0; x < ev.versions.size(); ++x) {
    std::vector<std::string> row = {
        fmt::format("{} ({} rules)", escape(ev.versions[x]), rules_of(ev, ev.versions[x]))};
    for (size_t y = 0; y < ev.versions.size(); ++y) {
      std::string c = fmt::format("{} / {} · {} alerts", ev.fired_runs[x][y], ev.runs_per_version[y],
                                  fmt_int(cell_alerts(ev, x, ev.versions[y])));
      row.push_back(x == y ? "<b>" + c + "</b>" : c);
    }
    t.rows.push_back(std::move(row));
  }
  o += t.render();
  o += "<p><b>" + escape(conclusion(ev)) + "</b></p>";

  auto every = ev.everywhere();
  o += fmt::format("<h3>Rules that fire on every version ({})</h3>", every.size());
  if (every.empty()) {
    o += "<p class=\"note\">None: every rule that fired stayed within some versions.</p>";
  } else {
    o += "<p class=\"note\">Useless for telling versions apart:</p><ul>";
    for (size_t i = 0; i < every.size() && i < 20; ++i)
      o += fmt::format("<li>sid {}: {}</li>", every[i]->rule.sid, escape(rule_msg(every[i]->rule)));
    o += "</ul>";
  }

  report::HtmlTable p;
  p.css_class = "num";
  p.caption = fmt::format("Per-rule precision on the runs at hand (rules generated from every "
                          "run; alerts on runs of the rule's version / all its alerts){}",
                          ev.rules.size() > kRulesListed
                              ? fmt::format("; first {} of {} rules (report.json has all)",
                                            kRulesListed, ev.rules.size())
                              : "");
  p.header = {"sid", "version", "phase", "rule"};
  for (const auto& v : ev.versions) p.header.push_back("alerts on " + escape(v));
  p.header.push_back("precision");
  for (size_t i = 0; i < ev.rules.size() && i < kRulesListed; ++i) {
    const RuleOutcome& r = ev.rules[i];
    std::vector<std::string> row = {std::to_string(r.rule.sid), escape(r.rule.version),
                                    escape(r.rule.phase), escape(rule_msg(r.rule))};
    for (const auto& v : ev.versions) {
      auto it = r.alerts_by_version.find(v);
      row.push_back(fmt_int(it == r.alerts_by_version.end() ? 0 : it->second));
    }
    row.push_back(r.total() ? report::fmt_num(r.precision(), 2) : "never fired");
    p.rows.push_back(std::move(row));
  }
  o += "<h3>Rules</h3>" + p.render();

  auto rejected = distinct_rejected(ev);
  if (!rejected.empty()) {
    o += fmt::format("<h3>Rules Suricata rejected ({}, not used)</h3><ul>", rejected.size());
    for (const RuleError* e : rejected)
      o += "<li><code>" + escape(e->rule) + "</code>: " + escape(e->message) + "</li>";
    o += "</ul>";
  }
  if (!ev.live.empty()) {
    report::HtmlTable l;
    l.css_class = "num";
    l.caption = "The lab's sensor (live, ids/eve.json) beside the offline replay of the same "
                "rules (generated from every run)";
    l.header = {"run", "live alerts", "replay alerts", "Suricata's own rules", "sensor drops"};
    for (const auto& r : ev.live)
      l.rows.push_back({escape(r.run), fmt_int(r.live_alerts), fmt_int(r.replay_alerts),
                        fmt_int(r.other_alerts), r.drops ? fmt_int(*r.drops) : "not recorded"});
    o += "<h3>Live sensor</h3>" + l.render();
  }
  return o;
}

std::string markdown(const IdsEvaluation& ev) {
  std::string o = fmt::format("Suricata {} replayed the generated rules over every run's "
                              "capture (offline). {}\n\n| rules of |",
                              ev.suricata_version, sample_note(ev));
  for (size_t y = 0; y < ev.versions.size(); ++y)
    o += fmt::format(" runs of {} ({}) |", ev.versions[y], ev.runs_per_version[y]);
  o += "\n|---|";
  for (size_t y = 0; y < ev.versions.size(); ++y) o += "---:|";
  o += "\n";
  for (size_t x = 0; x < ev.versions.size(); ++x) {
    o += fmt::format("| {} ({} rules) |", ev.versions[x], rules_of(ev, ev.versions[x]));
    for (size_t y = 0; y < ev.versions.size(); ++y)
      o += fmt::format(" {} / {} · {} alerts |", ev.fired_runs[x][y], ev.runs_per_version[y],
                       cell_alerts(ev, x, ev.versions[y]));
    o += "\n";
  }
  o += "\n" + conclusion(ev) + "\n\n";
  o += fmt::format("Rules that fire on every version (useless for classing): {}.\n",
                   ev.everywhere().size());
  o += fmt::format("Rules Suricata rejected: {}.\n", distinct_rejected(ev).size());
  for (const auto& r : ev.live)
    o += fmt::format("- sensor, run {}: {} live alerts, {} in the replay, {} of Suricata's own "
                     "rules, drops {}\n",
                     r.run, r.live_alerts, r.replay_alerts, r.other_alerts,
                     r.drops ? std::to_string(*r.drops) : "not recorded");
  return o;
}

nlohmann::json to_json(const IdsEvaluation& ev) {
  nlohmann::json j = {{"suricata_version", ev.suricata_version},
                      {"leave_one_out", ev.leave_one_out},
                      {"versions", ev.versions},
                      {"runs", ev.runs},
                      {"run_versions", ev.run_versions},
                      {"alerts", ev.alerts},
                      {"fired_runs", ev.fired_runs},
                      {"runs_per_version", ev.runs_per_version},
                      {"classed_right", ev.classed_right()},
                      {"conclusion", conclusion(ev)}};
  j["rules"] = nlohmann::json::array();
  for (const auto& r : ev.rules)
    j["rules"].push_back({{"sid", r.rule.sid},
                          {"version", r.rule.version},
                          {"phase", r.rule.phase},
                          {"rule", rule_text(r.rule)},
                          {"alerts_by_version", r.alerts_by_version},
                          {"runs_by_version", r.runs_by_version},
                          {"precision", r.precision()}});
  j["fire_on_every_version"] = nlohmann::json::array();
  for (const auto* r : ev.everywhere()) j["fire_on_every_version"].push_back(r->rule.sid);
  j["rejected"] = nlohmann::json::array();
  for (const auto* e : distinct_rejected(ev))
    j["rejected"].push_back({{"rule", e->rule}, {"message", e->message}});
  j["live"] = nlohmann::json::array();
  for (const auto& r : ev.live)
    j["live"].push_back({{"run", r.run},
                         {"live_alerts", r.live_alerts},
                         {"replay_alerts", r.replay_alerts},
                         {"other_alerts", r.other_alerts},
                         {"drops", r.drops ? nlohmann::json(*r.drops) : nlohmann::json()}});
  return j;
}

}  // namespace

bool enabled_in(const std::filesystem::path& results_dir) {
  try {
    YAML::Node n = YAML::LoadFile((results_dir / "experiment.yaml").string());
    return n["ids"] && n["ids"]["enabled"] && n["ids"]["enabled"].as<bool>();
  } catch (const YAML::Exception&) {
    return false;  // no or bad copy: the report's own reading says so
  }
}

report::ExtraSection render_section(const IdsEvaluation& ev) {
  return {kSectionId, kSectionTitle, html(ev), markdown(ev), to_json(ev)};
}

report::SectionProvider section_provider(const std::filesystem::path& cache_root) {
  return [cache_root](const report::AnalysedResults& data) {
    auto unavailable = [](const std::string& why) {
      util::log_warn("IDS section: {}", why);
      return report::ExtraSection{kSectionId, kSectionTitle,
                                  "<p class=\"note\">Not evaluated: " + escape(why) + "</p>",
                                  "Not evaluated: " + why + "\n",
                                  {{"error", why}}};
    };
    auto s = find_suricata(cache_root);
    if (!s) return unavailable(s.error().message);
    auto work = util::TempDir::create("testbed-ids");
    if (!work) return unavailable(work.error().message);
    auto ev = evaluate(*s, data, work->path());
    if (!ev) return unavailable(ev.error().message);
    return render_section(*ev);
  };
}

}  // namespace testbed::ids
