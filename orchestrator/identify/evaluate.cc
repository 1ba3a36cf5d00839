#include "orchestrator/identify/evaluate.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "orchestrator/identify/identify.h"

namespace testbed::identify {
namespace {

struct Outcome {
  const LabelledRun* run;
  Identification id;
  std::vector<std::string> labels;  ///< version labels answered (kind label for single-version kinds)
  bool kind_right = false;
};

std::vector<std::string> answered(const Identification& id) {
  if (id.kind.unknown) return {};
  if (id.version) return id.version->unknown ? std::vector<std::string>{} : id.version->labels;
  return id.kind.labels.size() == 1 ? id.kind.labels : std::vector<std::string>{};
}

// The label a run is scored against: its version, or its kind when the kind has one version.
std::string truth(const Model& full, const LabelledRun& r) {
  auto it = full.versions.find(r.kind);
  return it != full.versions.end() && it->second.labels.size() > 1 ? r.version : r.kind;
}

Outcome run_one(const Model& m, const Model& full, const LabelledRun& r) {
  Outcome o{&r, identify(m, r.traits, r.name), {}, false};
  o.labels = answered(o.id);
  o.kind_right = !o.id.kind.unknown && o.id.kind.labels == std::vector<std::string>{r.kind};
  (void)full;
  return o;
}

std::vector<std::string> group_of(const Model& full, const LabelledRun& r) {
  auto it = full.versions.find(r.kind);
  if (it == full.versions.end() || it->second.labels.size() <= 1) return {r.kind};
  return it->second.group_of(r.version);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// One run's outcome; when the answer misses the truth, why: the reason and the evidence
// against the true label.
nlohmann::json run_json(const Outcome& o, const std::string& t) {
  nlohmann::json j = {{"run", o.run->dir + "/" + o.run->name}, {"truth", t}, {"answer", o.id.summary()}};
  if (!contains(o.labels, t) && o.id.version) {
    const Answer& a = *o.id.version;
    j["reason"] = a.reason;
    nlohmann::json against = nlohmann::json::array();
    for (auto* v : {&a.ruled_out, &a.novel})
      for (auto& e : *v)
        if (v == &a.novel || contains(e.labels, t)) against.push_back(e.trait);
    j["against_truth"] = against;
  }
  return j;
}

std::string answer_name(const Outcome& o) {
  if (o.labels.empty()) return "unknown";
  return o.labels.size() == 1 ? o.labels[0] : "{" + fmt::format("{}", fmt::join(o.labels, ",")) + "}";
}

nlohmann::json loro(const std::vector<LabelledRun>& runs, const Model& full, const FamilyFilter& keep) {
  std::map<std::string, std::pair<int, int>> exact, grouped;  // truth / group -> (right, total)
  std::map<std::string, std::map<std::string, int>> confusion;
  int kinds_right = 0, contains_truth = 0, wrong_single = 0;
  nlohmann::json per_run = nlohmann::json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    std::vector<const LabelledRun*> train_set;
    for (size_t j = 0; j < runs.size(); ++j)
      if (j != i) train_set.push_back(&runs[j]);
    Model m = train(train_set, keep);
    Outcome o = run_one(m, full, runs[i]);
    const std::string t = truth(full, runs[i]);
    const auto g = group_of(full, runs[i]);
    const std::string gname = fmt::format("{}", fmt::join(g, "/"));
    const bool ex = o.labels == std::vector<std::string>{t};
    const bool in_group = !o.labels.empty() && contains(o.labels, t) &&
                          std::all_of(o.labels.begin(), o.labels.end(), [&](auto& l) { return contains(g, l); });
    exact[t].second++, exact[t].first += ex;
    grouped[gname].second++, grouped[gname].first += in_group;
    kinds_right += o.kind_right;
    contains_truth += contains(o.labels, t);
    wrong_single += o.labels.size() == 1 && !ex;
    confusion[t][answer_name(o)]++;
    per_run.push_back(run_json(o, t));
  }
  auto bacc = [](const std::map<std::string, std::pair<int, int>>& m) {
    double s = 0;
    for (auto& [k, v] : m) s += double(v.first) / v.second;
    return m.empty() ? 0.0 : s / double(m.size());
  };
  return {{"runs", runs.size()}, {"balanced_accuracy_versions", bacc(exact)},
          {"balanced_accuracy_groups", bacc(grouped)}, {"classes_versions", exact.size()},
          {"classes_groups", grouped.size()}, {"kinds_right", kinds_right},
          {"contains_truth", contains_truth}, {"wrong_single", wrong_single},
          {"confusion", confusion}, {"per_run", per_run}};
}

nlohmann::json lovo(const std::vector<LabelledRun>& runs, const Model& full) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& [kind, c] : full.versions) {
    if (c.labels.size() < 3) continue;
    for (size_t v = 0; v < c.labels.size(); ++v) {
      std::vector<const LabelledRun*> train_set;
      for (auto& r : runs)
        if (!(r.kind == kind && r.version == c.labels[v])) train_set.push_back(&r);
      Model m = train(train_set);
      std::set<std::string> neighbours;
      if (v > 0) neighbours.insert(c.labels[v - 1]);
      if (v + 1 < c.labels.size()) neighbours.insert(c.labels[v + 1]);
      // Versions whose traffic the full atlas cannot tell from the held-out one (its group):
      // naming one of them is told apart from a wrong version no trait excuses.
      const auto group = c.group_of(c.labels[v]);
      std::set<std::string> twins(group.begin(), group.end());
      twins.erase(c.labels[v]);
      std::map<std::string, int> outcome;
      std::vector<std::string> answers;
      for (auto& r : runs) {
        if (!(r.kind == kind && r.version == c.labels[v])) continue;
        Outcome o = run_one(m, full, r);
        const bool near = o.labels.size() >= 2 &&
                          std::all_of(o.labels.begin(), o.labels.end(), [&](auto& l) { return neighbours.count(l); });
        const bool twin = !o.labels.empty() &&
                          std::all_of(o.labels.begin(), o.labels.end(), [&](auto& l) { return twins.count(l); });
        outcome[o.labels.empty() ? "unknown"
                : twin           ? "same_traffic_twin"
                : near           ? "neighbour_range"
                : o.labels.size() == 1 ? "wrong_single"
                                       : "other_set"]++;
        answers.push_back(o.id.summary());
      }
      out.push_back({{"held_out", c.labels[v]}, {"outcomes", outcome}, {"answers", answers}});
    }
  }
  return out;
}

nlohmann::json other_lab(const std::vector<LabelledRun>& atlas, const std::vector<LabelledRun>& other, const Model& full) {
  std::vector<const LabelledRun*> all;
  for (auto& r : atlas) all.push_back(&r);
  int contains_truth = 0, wrong_single = 0, exact = 0, kinds_right = 0;
  size_t size_sum = 0;
  nlohmann::json per_run = nlohmann::json::array();
  for (auto& r : other) {
    Outcome o = run_one(full, full, r);
    const std::string t = truth(full, r);
    contains_truth += contains(o.labels, t);
    exact += o.labels == std::vector<std::string>{t};
    wrong_single += o.labels.size() == 1 && o.labels[0] != t;
    kinds_right += o.kind_right;
    size_sum += o.labels.size();
    per_run.push_back(run_json(o, t));
  }
  return {{"runs", other.size()}, {"contains_truth", contains_truth}, {"exact", exact},
          {"wrong_single", wrong_single}, {"kinds_right", kinds_right},
          {"mean_answer_size", other.empty() ? 0.0 : double(size_sum) / double(other.size())},
          {"per_run", per_run}};
}

}  // namespace

nlohmann::json evaluate(const std::vector<LabelledRun>& atlas, const std::vector<LabelledRun>& other) {
  std::vector<const LabelledRun*> all;
  for (auto& r : atlas) all.push_back(&r);
  const Model full = train(all);
  nlohmann::json groups = nlohmann::json::object();
  for (auto& [k, c] : full.versions) {
    groups[k] = nlohmann::json::array();
    for (auto& g : c.groups) groups[k].push_back(g.labels);
  }
  nlohmann::json e = {{"groups", groups},
                      {"leave_one_run_out", loro(atlas, full, {})},
                      {"baseline_syn_only", loro(atlas, full, [](std::string_view f) { return f == "syn"; })},
                      {"leave_one_version_out", lovo(atlas, full)}};
  if (!other.empty()) e["other_lab"] = other_lab(atlas, other, full);
  return e;
}

std::string evaluation_markdown(const nlohmann::json& e) {
  std::string out;
  auto pct = [](double x) { return fmt::format("{:.1f} %", 100 * x); };
  auto row = [&](const char* name, const nlohmann::json& l) {
    out += fmt::format("| {} | {} | {} ({} classes) | {} ({} classes) | {}/{} | {}/{} | {} |\n", name,
                       l["runs"].get<size_t>(), pct(l["balanced_accuracy_versions"].get<double>()),
                       l["classes_versions"].get<size_t>(), pct(l["balanced_accuracy_groups"].get<double>()),
                       l["classes_groups"].get<size_t>(), l["kinds_right"].get<int>(), l["runs"].get<size_t>(),
                       l["contains_truth"].get<int>(), l["runs"].get<size_t>(), l["wrong_single"].get<int>());
  };
  out += "| leave-one-run-out | runs | balanced accuracy, versions | balanced accuracy, groups | kind right | answer holds the truth | wrong single version |\n";
  out += "|---|---:|---:|---:|---:|---:|---:|\n";
  row("traits (identify)", e["leave_one_run_out"]);
  row("SYN fingerprint only (baseline)", e["baseline_syn_only"]);
  out += "\nGroups (versions no trait separates):";
  bool any = false;
  for (auto& [k, gs] : e["groups"].items())
    for (auto& g : gs) { out += fmt::format(" {} {{{}}}", k, fmt::join(g.get<std::vector<std::string>>(), ", ")); any = true; }
  out += any ? "\n" : " none\n";
  for (auto [title, key] : {std::pair{"traits", "leave_one_run_out"}, std::pair{"SYN baseline", "baseline_syn_only"}}) {
    out += fmt::format("\nConfusion, leave-one-run-out ({}): true → answers\n\n| true | answers |\n|---|---|\n", title);
    for (auto& [t, answers] : e[key]["confusion"].items()) {
      std::vector<std::string> cells;
      for (auto& [a, n] : answers.items()) cells.push_back(fmt::format("{} ×{}", a, n.get<int>()));
      out += fmt::format("| {} | {} |\n", t, fmt::join(cells, ", "));
    }
  }
  out += "\n| leave-one-version-out: held out | unknown | neighbouring range | a version of the same traffic (its group) | wrong single version | other set | answers |\n|---|---:|---:|---:|---:|---:|---|\n";
  for (auto& v : e["leave_one_version_out"]) {
    auto n = [&](const char* k) { return v["outcomes"].value(k, 0); };
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", v["held_out"].get<std::string>(), n("unknown"),
                       n("neighbour_range"), n("same_traffic_twin"), n("wrong_single"), n("other_set"),
                       fmt::join(v["answers"].get<std::vector<std::string>>(), "; "));
  }
  if (e.contains("other_lab")) {
    auto& o = e["other_lab"];
    out += fmt::format(
        "\n| another lab | runs | answer holds the truth | exactly the truth | wrong single version | mean answer size | kind right |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n| model of every atlas run | {} | {} | {} | {} | {:.2f} | {} |\n\n",
        o["runs"].get<size_t>(), o["contains_truth"].get<int>(), o["exact"].get<int>(), o["wrong_single"].get<int>(),
        o["mean_answer_size"].get<double>(), o["kinds_right"].get<int>());
    for (auto& r : o["per_run"])
      out += fmt::format("- {}: truth {}, answer {}\n", r["run"].get<std::string>(), r["truth"].get<std::string>(),
                         r["answer"].get<std::string>());
  }
  return out;
}

}  // namespace testbed::identify
