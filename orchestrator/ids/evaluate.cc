#include "orchestrator/ids/evaluate.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>

#include "orchestrator/ids/live.h"
#include "orchestrator/ids/signatures.h"
#include "orchestrator/util/files.h"

namespace testbed::ids {
namespace fs = std::filesystem;

uint64_t RuleOutcome::total() const {
  uint64_t t = 0;
  for (const auto& [v, n] : alerts_by_version) t += n;
  return t;
}

double RuleOutcome::precision() const {
  const uint64_t t = total();
  auto it = alerts_by_version.find(rule.version);
  return t && it != alerts_by_version.end() ? static_cast<double>(it->second) / t : 0;
}

std::vector<const RuleOutcome*> IdsEvaluation::everywhere() const {
  std::vector<const RuleOutcome*> out;
  for (const auto& r : rules) {
    bool all = true;
    for (const auto& v : versions) all = all && r.runs_by_version.count(v);
    if (all) out.push_back(&r);
  }
  return out;
}

size_t IdsEvaluation::classed_right() const {
  size_t right = 0;
  for (size_t j = 0; j < runs.size(); ++j) {
    size_t best = 0, own = 0;
    bool tie = false;
    for (size_t x = 0; x < versions.size(); ++x) {
      if (versions[x] == run_versions[j]) own = x;
      if (alerts[x][j] > alerts[best][j]) {
        best = x;
        tie = false;
      } else if (x != best && alerts[x][j] == alerts[best][j]) {
        tie = true;
      }
    }
    right += best == own && !tie && alerts[own][j] > 0;
  }
  return right;
}

namespace {

/// One generated and checked set, written as a rules file in `dir`.
struct RuleSet {
  std::vector<RuleSpec> rules;
  fs::path file;
};

util::Result<RuleSet> make_set(const Suricata& s, const report::AnalysedResults& data,
                               const std::vector<size_t>& training, const fs::path& dir,
                               std::vector<RuleError>* rejected) {
  auto rules = generate_rules(data, training);
  if (!rules) return rules.error();
  auto checked = check_generated(s, std::move(*rules), dir);
  if (!checked) return checked.error();
  rejected->insert(rejected->end(), checked->rejected.begin(), checked->rejected.end());
  RuleSet out;
  out.file = dir / "testbed.rules";
  if (auto st = util::write_file_atomic(out.file, rules_file(*checked, data.results.dir.string()));
      !st)
    return st.error();
  out.rules = std::move(checked->accepted);
  return out;
}

/// sid -> version of the set's rules.
std::map<uint32_t, const RuleSpec*> by_sid(const RuleSet& set) {
  std::map<uint32_t, const RuleSpec*> m;
  for (const auto& r : set.rules) m[r.sid] = &r;
  return m;
}

/// sids of a rules file.
std::set<uint32_t> sids_in(const fs::path& rules) {
  std::set<uint32_t> out;
  std::ifstream in(rules);
  static const std::regex kSid(R"(sid:\s*([0-9]+))");
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#' && std::regex_search(line, m, kSid))
      out.insert(static_cast<uint32_t>(std::stoul(m[1])));
  return out;
}

/// The live sensor of run `a` (ids/eve.json) beside the replay of the same testbed rules.
util::Result<std::optional<LiveRun>> live_run(const Suricata& s, const report::AnalysedResults& data,
                                              const report::AnalysedRun& a, const fs::path& work) {
  const report::RunRecord& rec = data.results.runs[a.record];
  const fs::path dir = rec.dir / "ids";
  if (!fs::exists(dir / "eve.json")) return std::optional<LiveRun>();
  LiveRun l;
  l.run = rec.name();
  l.drops = manifest_sensor_drops(rec.manifest.ids);
  auto live = count_alerts(dir / "eve.json");
  if (!live) return live.error();
  std::set<uint32_t> ours;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.path().extension() != ".rules" || name == "decoder-events.rules" ||
        name == "stream-events.rules")
      continue;
    auto sids = sids_in(e.path());
    ours.insert(sids.begin(), sids.end());
    auto rep = replay(s, e.path(), a.capture.input.pcap, work / name);
    if (!rep) return rep.error();
    for (const auto& [sid, n] : rep->alerts) l.replay_alerts += sids.count(sid) ? n : 0;
  }
  for (const auto& [sid, n] : *live) (ours.count(sid) ? l.live_alerts : l.other_alerts) += n;
  return std::optional<LiveRun>(l);
}

}  // namespace

util::Result<IdsEvaluation> evaluate(const Suricata& s, const report::AnalysedResults& data,
                                     const fs::path& workdir) {
  IdsEvaluation ev;
  ev.suricata_version = s.version;
  for (const auto& v : data.results.versions) {
    size_t n = 0;
    for (const auto& a : data.runs) n += data.results.runs[a.record].version == v;
    if (n == 0) continue;
    ev.versions.push_back(v);
    ev.runs_per_version.push_back(n);
  }
  for (const auto& a : data.runs) {
    ev.runs.push_back(data.results.runs[a.record].name());
    ev.run_versions.push_back(data.results.runs[a.record].version);
  }
  ev.leave_one_out = !ev.runs_per_version.empty() &&
                     *std::min_element(ev.runs_per_version.begin(), ev.runs_per_version.end()) >= 2;
  const size_t nv = ev.versions.size(), nr = ev.runs.size();
  auto vindex = [&](const std::string& v) {
    return static_cast<size_t>(std::find(ev.versions.begin(), ev.versions.end(), v) -
                               ev.versions.begin());
  };

  auto full = make_set(s, data, {}, workdir / "all", &ev.rejected);
  if (!full) return full.error();
  const auto full_sids = by_sid(*full);
  for (const auto& r : full->rules) ev.rules.push_back(RuleOutcome{r, {}, {}});
  std::map<uint32_t, size_t> outcome_of;
  for (size_t i = 0; i < ev.rules.size(); ++i) outcome_of[ev.rules[i].rule.sid] = i;

  ev.alerts.assign(nv, std::vector<uint64_t>(nr, 0));
  ev.fired_runs.assign(nv, std::vector<size_t>(nv, 0));
  for (size_t j = 0; j < nr; ++j) {
    const fs::path pcap = data.runs[j].capture.input.pcap;
    const std::string& rv = ev.run_versions[j];
    auto rep = replay(s, full->file, pcap, workdir / "all" / fmt::format("run{}", j));
    if (!rep) return rep.error();
    for (const auto& [sid, n] : rep->alerts) {
      auto it = outcome_of.find(sid);
      if (it == outcome_of.end()) continue;
      RuleOutcome& o = ev.rules[it->second];
      o.alerts_by_version[rv] += n;
      ++o.runs_by_version[rv];
    }
    // The matrix: the run's own leave-one-out set, or the full set (in-sample).
    std::map<uint32_t, uint64_t> alerts = rep->alerts;
    std::optional<RuleSet> held_out;
    if (ev.leave_one_out) {
      std::vector<size_t> training;
      for (size_t i = 0; i < nr; ++i)
        if (i != j) training.push_back(i);
      const fs::path dir = workdir / fmt::format("without-run{}", j);
      auto set = make_set(s, data, training, dir, &ev.rejected);
      if (!set) return set.error();
      auto r2 = replay(s, set->file, pcap, dir);
      if (!r2) return r2.error();
      alerts = r2->alerts;
      held_out = std::move(*set);
    }
    const auto sids = held_out ? by_sid(*held_out) : full_sids;
    std::vector<bool> fired(nv, false);
    for (const auto& [sid, n] : alerts) {
      auto it = sids.find(sid);
      if (it == sids.end()) continue;  // Suricata's own rules
      const size_t x = vindex(it->second->version);
      ev.alerts[x][j] += n;
      fired[x] = true;
    }
    for (size_t x = 0; x < nv; ++x) ev.fired_runs[x][vindex(rv)] += fired[x];
    auto l = live_run(s, data, data.runs[j], workdir / fmt::format("live-run{}", j));
    if (!l) return l.error();
    if (*l) ev.live.push_back(**l);
  }
  return ev;
}

}  // namespace testbed::ids
