#include "orchestrator/identify/changelog.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace testbed::identify {
namespace {

constexpr size_t kPerFamily = 15;

// Traits of every run of a label, and the first run's frame for each.
struct LabelTraits {
  std::set<std::string> always, ever;
  std::map<std::string, std::string> evidence;  ///< key -> "run frame N"
};

LabelTraits traits_of(const std::vector<const LabelledRun*>& runs) {
  LabelTraits t;
  std::map<std::string, size_t> count;
  for (auto* r : runs)
    for (auto& [k, o] : r->traits.keys) {
      ++count[k];
      t.ever.insert(k);
      t.evidence.emplace(k, fmt::format("{} frame {}", r->name, o.first_frame));
    }
  for (auto& [k, n] : count)
    if (n == runs.size()) t.always.insert(k);
  return t;
}

// Traits that came and went between the runs of some release: run-to-run variation
// (as Classifier::noisy), never a change of a release.
std::set<std::string> noisy_traits(const std::map<std::string, std::vector<const LabelledRun*>>& by_label) {
  std::set<std::string> out;
  for (auto& [label, runs] : by_label) {
    LabelTraits t = traits_of(runs);
    for (auto& k : t.ever)
      if (!t.always.count(k)) out.insert(k);
  }
  return out;
}

void list(std::string& out, const char* what, const LabelTraits& from, const LabelTraits& other,
          const std::set<std::string>& noisy) {
  std::map<std::string, std::vector<std::string>> by_family;
  for (auto& k : from.always)
    if (!other.ever.count(k) && !noisy.count(k)) by_family[std::string(split_key(k).first)].push_back(k);
  if (by_family.empty()) return;
  out += fmt::format("\n{}:\n\n", what);
  for (auto& [fam, keys] : by_family) {
    out += fmt::format("- **{}** ({} trait{})\n", fam, keys.size(), keys.size() == 1 ? "" : "s");
    for (size_t i = 0; i < keys.size() && i < kPerFamily; ++i)
      out += fmt::format("  - `{}` — {}\n", split_key(keys[i]).second, from.evidence.at(keys[i]));
    if (keys.size() > kPerFamily) out += fmt::format("  - … and {} more\n", keys.size() - kPerFamily);
  }
}

}  // namespace

std::string changelog_markdown(const std::vector<LabelledRun>& runs, const std::string& kind) {
  std::map<std::string, std::vector<const LabelledRun*>> by_label;
  for (auto& r : runs)
    if (r.kind == kind) by_label[r.version].push_back(&r);
  std::vector<std::string> labels;
  for (auto& [l, v] : by_label) labels.push_back(l);
  std::sort(labels.begin(), labels.end(), release_less);
  const auto noisy = noisy_traits(by_label);
  std::string out;
  for (size_t i = 1; i < labels.size(); ++i) {
    const auto& a = by_label[labels[i - 1]];
    const auto& b = by_label[labels[i]];
    LabelTraits ta = traits_of(a), tb = traits_of(b);
    out += fmt::format("\n## {} {} against {} ({} and {} runs)\n", kind, labels[i], labels[i - 1], b.size(), a.size());
    const size_t before = out.size();
    list(out, fmt::format("New in {} (in every run of {}, in none of {})", labels[i], labels[i], labels[i - 1]).c_str(), tb, ta, noisy);
    list(out, fmt::format("Gone in {} (in every run of {}, in none of {})", labels[i], labels[i - 1], labels[i]).c_str(), ta, tb, noisy);
    if (out.size() == before) out += "\nNo trait changed beyond the noise floor.\n";
  }
  return out;
}

}  // namespace testbed::identify
