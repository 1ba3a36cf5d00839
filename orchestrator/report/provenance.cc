#include "orchestrator/report/provenance.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "orchestrator/report/html.h"

namespace testbed::report {
namespace {

using nlohmann::json;
using Facts = std::map<std::string, std::string>;  // what -> value, sorted

std::string text(const json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

const json& at(const json& j, std::initializer_list<const char*> path) {
  static const json kNull;
  const json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return kNull;
    p = &(*p)[k];
  }
  return *p;
}

/// The facts of one run's manifest. Image facts are named by node role and name
/// ("scanner image", "target1 image"); packages one fact each.
Facts facts_of(const results::Manifest& m) {
  Facts f;
  auto put = [&](const std::string& what, const json& v) {
    if (!v.is_null()) f[what] = text(v);
  };
  auto put_str = [&](const std::string& what, const std::string& v) {
    if (!v.empty()) f[what] = v;
  };
  put_str("testbed version", m.testbed.version);
  put_str("testbed revision", m.testbed.git_revision);
  put_str("kernel", m.host_kernel);
  put("libvirt", at(m.lab.details, {"libvirt_version"}));
  put_str("backend", m.lab.backend);
  put_str("acceleration", m.lab.accel);
  put("topology sha256", at(m.lab.details, {"topology_sha256"}));
  put_str("experiment sha256", m.experiment.sha256);
  if (!m.scanner_version.empty()) {
    std::string s = m.scanner_version;
    s.erase(0, s.find_first_not_of(" \n"));
    s.erase(s.find_last_not_of(" \n") + 1);
    put_str("nmap --version", s);
  }
  if (m.images.is_object()) {
    for (const auto& [node, im] : m.images.items()) {
      // "<node> image\t<item>": rendered "<node> image: <item> before → after".
      const std::string who = node + " image\t";
      put(who + "recipe sha256", at(im, {"recipe", "sha256"}));
      put(who + "image", at(im, {"name"}));
      const json& pk = at(im, {"packages"});
      if (pk.is_object())
        for (const auto& [name, ver] : pk.items()) put(who + name, ver);
    }
  }
  return f;
}

const RunRecord* first_complete(const ResultsDir& r, const std::string& version) {
  for (const auto& run : r.runs)
    if (run.version == version && run.complete()) return &run;
  return nullptr;
}

/// Newlines shown as " / " so each change stays one line.
std::string one_line(std::string s) {
  for (size_t p; (p = s.find('\n')) != std::string::npos;) s.replace(p, 1, " / ");
  return s;
}

}  // namespace

std::vector<std::string> provenance_changes(const ResultsDir& a, const ResultsDir& b) {
  std::vector<std::string> out;
  for (const auto& version : a.versions) {
    const RunRecord* ra = first_complete(a, version);
    const RunRecord* rb = first_complete(b, version);
    if (!ra || !rb) continue;
    Facts fa = facts_of(ra->manifest), fb = facts_of(rb->manifest);
    Facts all = fa;
    all.insert(fb.begin(), fb.end());
    for (const auto& [what, _] : all) {
      auto x = fa.find(what), y = fb.find(what);
      std::string before = x == fa.end() ? "(none)" : x->second;
      std::string after = y == fb.end() ? "(none)" : y->second;
      if (before == after) continue;
      // The scanner image differs per version; the other facts are the lab's.
      const size_t tab = what.find('\t');
      std::string who = what.substr(0, tab);
      if (who == "scanner image" || who == "nmap --version") who += " (" + version + ")";
      std::string line =
          one_line(tab == std::string::npos
                       ? fmt::format("{}: {} → {}", who, before, after)
                       : fmt::format("{}: {} {} → {}", who, what.substr(tab + 1), before, after));
      if (std::find(out.begin(), out.end(), line) == out.end()) out.push_back(line);
    }
  }
  return out;
}

std::string provenance_html(const DriftReport& d) {
  if (!d.provenance_compared) return "";
  if (d.provenance.empty())
    return "<p><b>Provenance identical</b> (image recipes and packages, nmap --version, kernel, "
           "libvirt, testbed)" +
           std::string(d.drift ? ": the drift is not explained by a change of software.</p>"
                               : ".</p>");
  std::string o = "<p>Provenance changed (baseline → this experiment):</p><ul>";
  for (const auto& p : d.provenance) o += "<li>" + escape(p) + "</li>";
  return o + "</ul>";
}

void explain_provenance(DriftReport& d, const ResultsDir& a, const ResultsDir& b) {
  d.provenance = provenance_changes(a, b);
  d.provenance_compared = true;
}

}  // namespace testbed::report
