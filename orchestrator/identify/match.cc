#include "orchestrator/identify/match.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace testbed::identify {
namespace {

constexpr size_t kEvidenceMax = 12;

struct TokenSeen {
  std::vector<bool> seen;  ///< per label: shown in some training run (any family)
  bool stable_somewhere = false;
  bool noisy = false;      ///< came and went between the runs of some label
};

std::unordered_map<std::string_view, TokenSeen> token_index(const Classifier& c) {
  std::unordered_map<std::string_view, TokenSeen> idx;
  for (size_t t = 0; t < c.keys.size(); ++t) {
    auto& e = idx[split_key(c.keys[t]).second];
    if (e.seen.empty()) e.seen.assign(c.labels.size(), false);
    for (size_t l = 0; l < c.labels.size(); ++l) {
      if (c.runs_with[t][l] > 0) e.seen[l] = true;
      if (c.stable(t, l)) e.stable_somewhere = true;
    }
    if (c.noisy(t)) e.noisy = true;
  }
  return idx;
}

void add_evidence(std::vector<Evidence>& v, Evidence e) {
  if (v.size() < 4 * kEvidenceMax) v.push_back(std::move(e));
}

// Per label: traits speaking for it, against it, and of those how many are present
// traits it never sent (present_against) or missing traits other than SYN-probe ports
// (absent_other): neither is ever put down to capture loss.
struct Tally {
  std::vector<size_t> support, contra, present_against, absent_other;
  explicit Tally(size_t n) : support(n, 0), contra(n, 0), present_against(n, 0), absent_other(n, 0) {}
};

bool holds(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Presence: a trait of the capture that some label never showed rules that label out. A
// payload trait only at a service (port) the label exchanged payload with in every one of
// at least kMinRunsForPayloadEvidence runs: elsewhere nobody knows what it would send, and
// from one run nobody knows which of its service exchanges vary run to run.
void weigh_present(const Classifier& c, const CaptureTraits& cap, Tally& t, Answer& a) {
  auto tidx = token_index(c);
  std::set<std::string_view> counted_tokens;
  for (auto& [k, o] : cap.keys) {
    auto [fam, tok] = split_key(k);
    auto it = tidx.find(tok);
    if (it == tidx.end() || !it->second.stable_somewhere || it->second.noisy || !counted_tokens.insert(tok).second)
      continue;
    const bool payload = !family_is_probe(fam);
    Evidence against{k, o.first_frame, o.count, {}}, in_favour{k, o.first_frame, o.count, {}};
    for (size_t l = 0; l < c.labels.size(); ++l) {
      if (it->second.seen[l]) {
        ++t.support[l];
        in_favour.labels.push_back(c.labels[l]);
      } else if (!payload || (c.runs[l] >= kMinRunsForPayloadEvidence && c.served(o.ports, l))) {
        ++t.contra[l];
        ++t.present_against[l];
        against.labels.push_back(c.labels[l]);
      }
    }
    if (!against.labels.empty()) {
      add_evidence(a.matched, in_favour);
      add_evidence(a.ruled_out, against);
    }
  }
}

// Absence: a probe trait every run of a label showed, missing although its family shows;
// a payload trait every run (at least kMinRunsForPayloadEvidence) of a label sent to a
// service port, missing although the capture shows its family at that port.
void weigh_missing(const Classifier& c, const CaptureTraits& cap, const std::unordered_set<std::string_view>& families,
                   Tally& t, Answer& a) {
  std::unordered_map<std::string_view, std::unordered_set<uint16_t>> family_ports;
  for (auto& [k, o] : cap.keys)
    if (!o.ports.empty()) family_ports[split_key(k).first].insert(o.ports.begin(), o.ports.end());
  auto drawn_here = [&](std::string_view fam, const std::vector<uint16_t>& ports) {
    auto f = family_ports.find(fam);
    return f != family_ports.end() &&
           std::any_of(ports.begin(), ports.end(), [&](uint16_t p) { return f->second.count(p) > 0; });
  };
  for (size_t k = 0; k < c.keys.size(); ++k) {
    auto fam = split_key(c.keys[k]).first;
    const bool payload = !family_is_probe(fam);
    if (!families.count(fam) || cap.keys.count(c.keys[k]) || c.noisy(k)) continue;
    if (payload && !drawn_here(fam, c.trait_ports[k])) continue;
    Evidence missing{c.keys[k], 0, 0, {}};
    for (size_t l = 0; l < c.labels.size(); ++l)
      if (c.stable(k, l) && (!payload || c.runs[l] >= kMinRunsForPayloadEvidence)) {
        ++t.contra[l];
        if (fam != "ports") ++t.absent_other[l];  // only a lost SYN probe is tolerated
        missing.labels.push_back(c.labels[l]);
      }
    if (!missing.labels.empty()) add_evidence(a.ruled_out, missing);
  }
}

// Novel traits: unknown to the model, in a family every label that shows it sends
// identically in each run, and chosen by the client (probes, TLS hello, User-Agent). A
// novel payload trait counts only against the labels that exchanged payload with its
// service port in every run (its labels; a probe's: none, it counts against all).
void find_novel(const Classifier& c, const CaptureTraits& cap, Answer& a) {
  std::unordered_set<std::string_view> model_keys(c.keys.begin(), c.keys.end());
  for (auto& [k, o] : cap.keys) {
    auto [fam, tok] = split_key(k);
    const bool payload = !family_is_probe(fam);
    const bool client_chosen = !payload || fam == "tls" || tok.starts_with("http-ua ");
    if (!client_chosen || model_keys.count(k)) continue;
    auto d = c.deterministic.find(std::string(fam));
    auto seen = c.families_seen.find(std::string(fam));
    if (d == c.deterministic.end() || seen == c.families_seen.end() || d->second.size() != seen->second.size())
      continue;
    Evidence e{k, o.first_frame, o.count, {}};
    for (size_t l = 0; payload && l < c.labels.size(); ++l)
      if (c.served(o.ports, l)) e.labels.push_back(c.labels[l]);
    if (payload && e.labels.empty()) continue;
    add_evidence(a.novel, std::move(e));
  }
}

// Families of traits that would separate the candidates but are absent from the capture.
std::vector<std::string> absent_families(const Classifier& c, const std::vector<std::string>& cand,
                                         const std::unordered_set<std::string_view>& families) {
  std::set<std::string> absent;
  for (size_t t = 0; t < c.keys.size(); ++t) {
    bool stable_in_one = false, missing_in_one = false;
    for (auto& l : cand) {
      size_t li = size_t(c.label_index(l));
      stable_in_one = stable_in_one || c.stable(t, li);
      missing_in_one = missing_in_one || c.runs_with[t][li] == 0;
    }
    auto fam = split_key(c.keys[t]).first;
    if (!c.noisy(t) && stable_in_one && missing_in_one && !families.count(fam)) absent.insert(std::string(fam));
  }
  return {absent.begin(), absent.end()};
}

}  // namespace

std::string describe(const Classifier& c, const std::vector<std::string>& labels) {
  if (labels.empty()) return "unknown";
  if (labels.size() == 1) return labels[0];
  for (auto& g : c.groups)
    if (g.labels == labels) return "group " + fmt::format("{}", fmt::join(labels, "/"));
  std::vector<int> idx;
  for (auto& l : labels) idx.push_back(c.label_index(l));
  std::sort(idx.begin(), idx.end());
  const bool range = idx.back() - idx.front() + 1 == int(idx.size());
  return fmt::format("{}{}–{} ({})", range ? "" : "one of ", c.labels[size_t(idx.front())],
                     c.labels[size_t(idx.back())], fmt::join(labels, ", "));
}

Answer match(const Classifier& c, const CaptureTraits& cap, bool novelty) {
  Answer a;
  const size_t n = c.labels.size();
  std::unordered_set<std::string_view> families;
  for (auto& [k, o] : cap.keys) families.insert(split_key(k).first);
  Tally t(n);
  weigh_present(c, cap, t, a);
  weigh_missing(c, cap, families, t, a);
  if (novelty) find_novel(c, cap, a);
  size_t best = SIZE_MAX, checks = 0;
  for (size_t l = 0; l < n; ++l) {
    const size_t ch = t.support[l] + t.contra[l];
    a.scores.push_back({c.labels[l], t.support[l], t.contra[l], t.present_against[l],
                        ch ? 1.0 - double(t.contra[l]) / double(ch) : 0.0});
    if (ch == 0) continue;
    if (t.contra[l] < best) { best = t.contra[l]; checks = ch; }
    else if (t.contra[l] == best) checks = std::max(checks, ch);
  }
  std::vector<std::string> cand;
  for (size_t l = 0; l < n; ++l)
    if (t.support[l] + t.contra[l] > 0 && t.contra[l] == best) cand.push_back(c.labels[l]);
  if (cand.empty()) {
    a.reason = "the capture shows no trait this model knows";
    a.display = "unknown";
    return a;
  }
  a.score = 1.0 - double(best) / double(checks);
  // Keep only evidence about the decision: matched traits that speak for every candidate,
  // novel payload traits that speak about a candidate.
  std::erase_if(a.matched, [&](const Evidence& e) {
    return !std::all_of(cand.begin(), cand.end(), [&](const std::string& l) { return holds(e.labels, l); });
  });
  std::erase_if(a.novel, [&](const Evidence& e) {
    return !e.labels.empty() &&
           std::none_of(cand.begin(), cand.end(), [&](const std::string& l) { return holds(e.labels, l); });
  });
  size_t worst_present = 0;
  for (auto& l : cand) {
    const size_t li = size_t(c.label_index(l));
    worst_present = std::max(worst_present, t.present_against[li] + t.absent_other[li]);
  }
  if (a.score < kMinScore) {
    a.reason = fmt::format("nothing fits well enough: the best ({}) contradicts {} of {} traits",
                           fmt::join(cand, ", "), best, checks);
    a.nearest = cand;
  } else if (novelty && (worst_present > 0 || double(best) > std::max(1.0, kAbsentTolerance * double(checks)))) {
    a.reason = fmt::format("no known version fits: the best ({}) contradicts {} of {} traits, {} of them present "
                           "but never sent by it or always sent by it but missing",
                           fmt::join(cand, ", "), best, checks, worst_present);
    a.nearest = cand;
  } else if (a.novel.size() >= kMinNovel) {
    a.reason = fmt::format("{} trait(s) no known version sends (a release the model has not seen?)",
                           a.novel.size());
    a.nearest = cand;
  } else {
    a.unknown = false;
    a.labels = cand;
    a.reason = best == 0 ? "consistent with every trait present"
                         : fmt::format("{} of {} traits contradict (capture loss or noise)", best, checks);
  }
  a.display = a.unknown ? "unknown" : describe(c, a.labels);
  if (cand.size() > 1) a.absent_families = absent_families(c, cand, families);
  for (auto* v : {&a.matched, &a.ruled_out, &a.novel})
    if (v->size() > kEvidenceMax) v->resize(kEvidenceMax);
  return a;
}

nlohmann::json answer_json(const Answer& a) {
  auto ev = [](const std::vector<Evidence>& v) {
    nlohmann::json out = nlohmann::json::array();
    for (auto& e : v) {
      nlohmann::json j = {{"trait", e.trait}, {"labels", e.labels}};
      if (e.frame) { j["frame"] = e.frame; j["count"] = e.count; }
      out.push_back(j);
    }
    return out;
  };
  nlohmann::json scores = nlohmann::json::array();
  for (auto& s : a.scores)
    scores.push_back({{"label", s.label}, {"support", s.support}, {"contradictions", s.contradictions}, {"score", s.score}});
  return {{"unknown", a.unknown}, {"answer", a.display}, {"labels", a.labels}, {"nearest", a.nearest},
          {"score", a.score}, {"reason", a.reason}, {"matched", ev(a.matched)},
          {"ruled_out", ev(a.ruled_out)}, {"novel", ev(a.novel)},
          {"absent_families", a.absent_families}, {"scores", scores}};
}

}  // namespace testbed::identify
