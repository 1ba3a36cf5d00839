// Training (train) and the model's JSON form.
#include "orchestrator/identify/model.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <numeric>
#include <set>

#include "orchestrator/util/files.h"

namespace testbed::identify {

extern const unsigned char kDefaultModelJson[];
extern const std::size_t kDefaultModelJsonSize;

namespace {

std::vector<long> numeric_parts(const std::string& s) {
  std::vector<long> out;
  long cur = -1;
  for (char c : s) {
    if (c >= '0' && c <= '9') cur = (cur < 0 ? 0 : cur * 10) + (c - '0');
    else if (cur >= 0) { out.push_back(cur); cur = -1; }
  }
  if (cur >= 0) out.push_back(cur);
  return out;
}

// Labels a and b are told apart when a trait is in every run of one and in no run of the other.
bool separable(const Classifier& c, size_t a, size_t b) {
  for (size_t t = 0; t < c.keys.size(); ++t) {
    const auto& r = c.runs_with[t];
    if (c.noisy(t)) continue;
    if ((c.stable(t, a) && r[b] == 0) || (c.stable(t, b) && r[a] == 0)) return true;
  }
  return false;
}

void find_groups(Classifier& c) {
  std::vector<size_t> parent(c.labels.size());
  std::iota(parent.begin(), parent.end(), 0);
  std::function<size_t(size_t)> root = [&](size_t i) { return parent[i] == i ? i : parent[i] = root(parent[i]); };
  for (size_t a = 0; a < c.labels.size(); ++a)
    for (size_t b = a + 1; b < c.labels.size(); ++b)
      if (!separable(c, a, b)) parent[root(b)] = root(a);
  std::map<size_t, Group> groups;
  for (size_t i = 0; i < c.labels.size(); ++i) groups[root(i)].labels.push_back(c.labels[i]);
  for (auto& [r, g] : groups) {
    if (g.labels.size() < 2) continue;
    g.why = "no trait is in every training run of one of them and in no run of another "
            "(their probes, ports, TTL/IP ID behaviour and payload structure agree here)";
    c.groups.push_back(std::move(g));
  }
}

Classifier train_one(const std::vector<std::pair<std::string, const CaptureTraits*>>& runs,
                     const FamilyFilter& keep) {
  Classifier c;
  std::set<std::string> label_set;
  for (auto& [label, t] : runs) label_set.insert(label);
  c.labels.assign(label_set.begin(), label_set.end());
  std::sort(c.labels.begin(), c.labels.end(), release_less);
  c.runs.assign(c.labels.size(), 0);
  std::unordered_map<std::string, std::vector<int>> counts;
  std::unordered_map<std::string, std::set<uint16_t>> ports_of;
  for (auto& [label, t] : runs) {
    const size_t l = size_t(c.label_index(label));
    ++c.runs[l];
    std::set<std::pair<std::string, uint16_t>> drawn;  // (payload family, port) of this run
    for (auto& [key, occ] : t->keys) {
      auto fam = split_key(key).first;
      if (keep && !keep(fam)) continue;
      auto& v = counts[key];
      if (v.empty()) v.assign(c.labels.size(), 0);
      ++v[l];
      for (uint16_t port : occ.ports) drawn.emplace(std::string(fam), port);
      if (!occ.ports.empty()) ports_of[key].insert(occ.ports.begin(), occ.ports.end());
    }
    for (auto& [fam, port] : drawn) {
      auto& v = c.contexts[fam][port];
      if (v.empty()) v.assign(c.labels.size(), 0);
      ++v[l];
    }
  }
  // A family is deterministic for a label when none of its traits shows in only some runs.
  std::map<std::string, std::vector<bool>> unstable;
  std::map<std::string, std::vector<bool>> seen;
  for (auto& [key, v] : counts) {
    std::string fam(split_key(key).first);
    auto& u = unstable[fam];
    auto& s = seen[fam];
    if (u.empty()) { u.assign(c.labels.size(), false); s.assign(c.labels.size(), false); }
    for (size_t l = 0; l < v.size(); ++l) {
      if (v[l] > 0) s[l] = true;
      if (v[l] > 0 && v[l] < c.runs[l]) u[l] = true;
    }
  }
  for (auto& [fam, u] : unstable)
    for (size_t l = 0; l < u.size(); ++l) {
      if (seen[fam][l]) c.families_seen[fam].push_back(c.labels[l]);
      if (seen[fam][l] && !u[l] && c.runs[l] >= 2) c.deterministic[fam].push_back(c.labels[l]);
    }
  std::vector<std::string> keys;
  for (auto& [key, v] : counts)
    for (size_t l = 0; l < v.size(); ++l)
      if (v[l] == c.runs[l]) { keys.push_back(key); break; }
  std::sort(keys.begin(), keys.end());
  for (auto& k : keys) {
    c.runs_with.push_back(counts[k]);
    auto p = ports_of.find(k);
    c.trait_ports.emplace_back();
    if (p != ports_of.end()) c.trait_ports.back().assign(p->second.begin(), p->second.end());
    c.keys.push_back(k);
  }
  find_groups(c);
  return c;
}

nlohmann::json classifier_json(const Classifier& c) {
  nlohmann::json labels = nlohmann::json::array(), traits = nlohmann::json::array(), groups = nlohmann::json::array();
  for (size_t l = 0; l < c.labels.size(); ++l) labels.push_back({{"label", c.labels[l]}, {"runs", c.runs[l]}});
  for (size_t t = 0; t < c.keys.size(); ++t) {
    nlohmann::json row = {c.keys[t], c.runs_with[t]};
    if (!c.trait_ports[t].empty()) row.push_back(c.trait_ports[t]);  // payload: its service ports
    traits.push_back(std::move(row));
  }
  for (auto& g : c.groups) groups.push_back({{"labels", g.labels}, {"why", g.why}});
  nlohmann::json contexts = nlohmann::json::object();
  for (auto& [fam, ports] : c.contexts)
    for (auto& [port, v] : ports) contexts[fam][std::to_string(port)] = v;
  return {{"labels", labels}, {"groups", groups}, {"deterministic_families", c.deterministic},
          {"families_seen", c.families_seen}, {"service_contexts", contexts}, {"traits", traits}};
}

util::Result<Classifier> classifier_from_json(const nlohmann::json& j, const std::string& where) {
  Classifier c;
  try {
    for (auto& l : j.at("labels")) {
      c.labels.push_back(l.at("label").get<std::string>());
      c.runs.push_back(l.at("runs").get<int>());
    }
    for (auto& g : j.at("groups")) c.groups.push_back({g.at("labels").get<std::vector<std::string>>(), g.at("why").get<std::string>()});
    c.deterministic = j.at("deterministic_families").get<std::map<std::string, std::vector<std::string>>>();
    c.families_seen = j.at("families_seen").get<std::map<std::string, std::vector<std::string>>>();
    // Optional: a model made before contexts were kept has none (payload traits then
    // speak about no label).
    if (j.contains("service_contexts"))
      for (auto& [fam, ports] : j.at("service_contexts").items())
        for (auto& [port, v] : ports.items()) {
          uint16_t number = 0;
          auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
          if (ec != std::errc() || end != port.data() + port.size() || port.empty())
            return util::fail("{}: service context {} has a port that is not a number: '{}'", where, fam, port);
          auto& counts = c.contexts[fam][number];
          counts = v.get<std::vector<int>>();
          if (counts.size() != c.labels.size())
            return util::fail("{}: service context {} port {} has {} counts for {} labels", where, fam, port,
                              counts.size(), c.labels.size());
        }
    for (auto& t : j.at("traits")) {
      c.keys.push_back(t.at(0).get<std::string>());
      c.runs_with.push_back(t.at(1).get<std::vector<int>>());
      c.trait_ports.push_back(t.size() > 2 ? t.at(2).get<std::vector<uint16_t>>() : std::vector<uint16_t>{});
      if (c.runs_with.back().size() != c.labels.size())
        return util::fail("{}: trait '{}' has {} counts for {} labels", where, c.keys.back(),
                          c.runs_with.back().size(), c.labels.size());
    }
  } catch (const nlohmann::json::exception& e) {
    return util::fail("{}: not a model classifier: {}", where, e.what());
  }
  return c;
}

}  // namespace

int Classifier::label_index(std::string_view label) const {
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == label) return int(i);
  return -1;
}

bool Classifier::noisy(size_t trait) const {
  for (size_t l = 0; l < labels.size(); ++l)
    if (runs_with[trait][l] > 0 && runs_with[trait][l] < runs[l]) return true;
  return false;
}

bool Classifier::served(const std::vector<uint16_t>& ports, size_t label) const {
  if (runs[label] == 0) return false;
  for (auto& [family, by_port] : contexts)
    for (uint16_t port : ports) {
      auto p = by_port.find(port);
      if (p != by_port.end() && p->second[label] == runs[label]) return true;
    }
  return false;
}

std::vector<std::string> Classifier::group_of(const std::string& label) const {
  for (auto& g : groups)
    if (std::find(g.labels.begin(), g.labels.end(), label) != g.labels.end()) return g.labels;
  return {label};
}

bool release_less(const std::string& a, const std::string& b) {
  auto na = numeric_parts(a), nb = numeric_parts(b);
  if (na.empty() != nb.empty()) return !na.empty();  // versions before names
  if (na != nb) return na < nb;
  return a < b;
}

Model train(const std::vector<const LabelledRun*>& runs, const FamilyFilter& keep) {
  Model m;
  std::vector<std::pair<std::string, const CaptureTraits*>> by_kind;
  std::map<std::string, std::vector<std::pair<std::string, const CaptureTraits*>>> by_version;
  for (const LabelledRun* r : runs) {
    by_kind.emplace_back(r->kind, &r->traits);
    by_version[r->kind].emplace_back(r->version, &r->traits);
  }
  m.kinds = train_one(by_kind, keep);
  for (auto& [kind, v] : by_version) m.versions[kind] = train_one(v, keep);
  return m;
}

nlohmann::json model_json(const Model& m) {
  nlohmann::json versions = nlohmann::json::object();
  for (auto& [k, c] : m.versions) versions[k] = classifier_json(c);
  const auto& p = m.provenance;
  return {{"format", kModelFormat},
          {"schema_version", kModelSchema},
          {"provenance",
           {{"results_dirs", p.results_dirs},
            {"created", p.created},
            {"testbed_version", p.testbed_version},
            {"runs_testbed_revisions", p.runs_revisions},
            {"runs", p.runs}}},
          {"kinds", classifier_json(m.kinds)},
          {"versions", versions}};
}

util::Result<Model> model_from_json(const nlohmann::json& j, const std::string& source) {
  Model m;
  if (!j.is_object() || j.value("format", "") != kModelFormat)
    return util::fail("{}: not a testbed identify model (no \"format\": \"{}\"); make one with "
                      "`testbed fingerprint RESULTS_DIR… -o MODEL`", source, kModelFormat);
  if (!j.contains("schema_version") || !j["schema_version"].is_number_integer())
    return util::fail("{}: model without an integer schema_version", source);
  m.schema_version = j["schema_version"].get<int>();
  if (m.schema_version > kModelSchema)
    return util::fail("{}: model schema_version {} is newer than this testbed reads ({}): use a newer "
                      "testbed, or make the model again with this one (`testbed fingerprint`)",
                      source, m.schema_version, kModelSchema);
  try {
    const auto& p = j.at("provenance");
    m.provenance.results_dirs = p.at("results_dirs").get<std::vector<std::string>>();
    m.provenance.created = p.at("created").get<std::string>();
    m.provenance.testbed_version = p.at("testbed_version").get<std::string>();
    m.provenance.runs_revisions = p.at("runs_testbed_revisions").get<std::vector<std::string>>();
    m.provenance.runs = p.at("runs").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    return util::fail("{}: bad provenance: {}", source, e.what());
  }
  auto kinds = classifier_from_json(j.value("kinds", nlohmann::json()), source + ": kinds");
  if (!kinds) return kinds.error();
  m.kinds = std::move(*kinds);
  if (j.contains("versions") && j["versions"].is_object())
    for (auto& [k, v] : j["versions"].items()) {
      auto c = classifier_from_json(v, source + ": versions of " + k);
      if (!c) return c.error();
      m.versions[k] = std::move(*c);
    }
  return m;
}

util::Result<Model> load_model(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return util::fail("{}: cannot read the model", file.string());
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return util::fail("{}: not JSON, so not a model", file.string());
  return model_from_json(j, file.string());
}

util::Status save_model(const Model& m, const std::filesystem::path& file) {
  return util::write_file_atomic(file, model_json(m).dump(1) + "\n");
}

util::Result<Model> default_model() {
  std::string_view text(reinterpret_cast<const char*>(kDefaultModelJson), kDefaultModelJsonSize);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return util::fail("the shipped model (default-model.json) is not JSON");
  return model_from_json(j, "the shipped model (orchestrator/identify/default-model.json)");
}

}  // namespace testbed::identify
