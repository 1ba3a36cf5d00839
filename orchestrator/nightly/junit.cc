#include "orchestrator/nightly/junit.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/report/html.h"
#include "orchestrator/report/results.h"
#include "orchestrator/util/files.h"

namespace testbed::nightly {
namespace fs = std::filesystem;
using nlohmann::json;

Verdict verdict_of(const results::ResultsDir& results) {
  Verdict v;
  v.suite = results.experiment;
  v.results_dir = results.dir.string();
  v.versions = results.versions;
  v.phases = analysis::phase_rows(true);
  for (const auto& r : results.runs) v.runs.push_back({r.version, r.rep, r.status, r.stage, r.error});
  return v;
}

util::Result<Verdict> verdict_from_results_dir(const fs::path& dir) {
  auto r = report::load_results(dir);
  if (!r) return r.error();
  Verdict v = verdict_of(*r);
  if (auto text = util::read_file(dir / "report.json")) {
    json j = json::parse(*text, nullptr, false);
    if (j.is_object() && j.contains("baseline") && j["baseline"].is_object()) {
      v.drift = j["baseline"];
      v.baseline_dir = j["baseline"].value("dir", "");
    }
  }
  return v;
}

namespace {

/// XML 1.0 text: escaped, with control characters (not allowed in XML) as spaces.
std::string xml(std::string_view s) {
  std::string clean(s);
  for (char& c : clean)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') c = ' ';
  return report::escape(clean);
}

struct Case {
  std::string classname, name;
  enum Kind { kPass, kFailure, kError, kSkipped } kind = kPass;
  std::string message, text;
};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key) && j[key].is_array())
    for (const auto& s : j[key])
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

/// "7.93/1 failed at scan: …; 7.93/2 missing" for the runs of `version` that are not complete.
std::string incomplete_runs(const Verdict& v, const std::string& version) {
  std::string s;
  for (const auto& r : v.runs) {
    if (r.version != version || r.status == "complete") continue;
    if (!s.empty()) s += "; ";
    s += fmt::format("{}/{} {}", r.version, r.rep, r.status);
    if (!r.stage.empty()) s += " at " + r.stage;
    if (!r.error.empty()) s += ": " + r.error;
  }
  return s;
}

bool has_complete_run(const Verdict& v, const std::string& version) {
  return std::any_of(v.runs.begin(), v.runs.end(), [&](const RunState& r) {
    return r.version == version && r.status == "complete";
  });
}

/// What the comparison says changed in the provenance, for a failure's message.
std::string provenance_note(const json& drift) {
  if (!drift.value("provenance_compared", false)) return "";
  auto changes = strings(drift, "provenance_changes");
  if (changes.empty()) return "; provenance identical (the drift is not a change of software)";
  std::string o = "; provenance changed: ";
  for (size_t i = 0; i < changes.size(); ++i) o += (i ? "; " : "") + changes[i];
  return o;
}

Case drift_case(const std::string& cls, const json& c, size_t tolerance,
                const std::string& provenance) {
  Case k{cls, c.value("phase", "")};
  const bool noise_known = c.contains("noise_floor") && c["noise_floor"].is_number();
  std::string noise = noise_known ? std::to_string(c["noise_floor"].get<size_t>()) : "unknown";
  std::string numbers = fmt::format(
      "{} unique packets between the baseline and this run (baseline only {}, this run only "
      "{}); noise floor {}, tolerance {}, threshold {}",
      c.value("between", size_t{0}), c.value("a_only", size_t{0}), c.value("b_only", size_t{0}),
      noise, tolerance, c.value("threshold", size_t{0}));
  if (c.value("drift", false)) {
    k.kind = Case::kFailure;
    k.message = "drift beyond the noise floor: " + numbers + provenance;
  }
  k.text = numbers;
  return k;
}

std::vector<Case> cases_of(const Verdict& v) {
  std::vector<Case> out;
  std::vector<std::string> versions = v.versions;
  std::vector<std::string> only_in_a, only_in_b;
  bool allow_missing = false;
  size_t tolerance = 0;
  std::map<std::string, std::string> why;
  if (v.drift) {
    only_in_a = strings(*v.drift, "only_in_a");
    only_in_b = strings(*v.drift, "only_in_b");
    allow_missing = v.drift->value("allow_missing", false);
    tolerance = v.drift->value("tolerance", size_t{0});
    if (v.drift->contains("missing_why") && (*v.drift)["missing_why"].is_object())
      for (const auto& [k, w] : (*v.drift)["missing_why"].items())
        if (w.is_string()) why[k] = w.get<std::string>();
    for (const auto& a : only_in_a)
      if (!contains(versions, a)) versions.push_back(a);  // the baseline's, gone from this run
  }
  for (const std::string& version : versions) {
    const std::string cls = v.suite + "." + version;
    // The phase cases.
    std::vector<const json*> cells;
    if (v.drift && (*v.drift).contains("cells"))
      for (const auto& c : (*v.drift)["cells"])
        if (c.value("version", "") == version) cells.push_back(&c);
    if (!cells.empty()) {
      for (const json* c : cells)
        out.push_back(drift_case(cls, *c, tolerance, provenance_note(*v.drift)));
    } else {
      std::string problem;
      if (contains(only_in_a, version))
        problem = "no complete run in this results directory to compare with the baseline";
      else if (contains(only_in_b, version))
        problem = "no complete run in the baseline to compare with";
      else if (!has_complete_run(v, version))
        problem = "no complete run";
      auto w = why.find(version);
      std::string detail = w != why.end() ? w->second : incomplete_runs(v, version);
      for (const auto& phase : v.phases) {
        Case k{cls, phase};
        if (!problem.empty()) {
          k.kind = allow_missing && v.drift ? Case::kSkipped : Case::kError;
          k.message = detail.empty() ? problem : problem + ": " + detail;
          if (k.kind == Case::kSkipped) k.message += " (--allow-missing)";
        }
        out.push_back(std::move(k));
      }
    }
    // The runs case: every run of this version complete?
    if (contains(only_in_a, version) && !has_complete_run(v, version) &&
        incomplete_runs(v, version).empty())
      continue;  // not in this run's plan at all: nothing to say about its runs
    Case runs{cls, "runs"};
    if (std::string bad = incomplete_runs(v, version); !bad.empty()) {
      runs.kind = Case::kError;
      runs.message = "not every run is complete: " + bad;
    }
    out.push_back(std::move(runs));
  }
  return out;
}

}  // namespace

std::string junit_xml(const Verdict& v) {
  std::vector<Case> cases = cases_of(v);
  size_t failures = 0, errors = 0, skipped = 0;
  for (const auto& c : cases) {
    failures += c.kind == Case::kFailure;
    errors += c.kind == Case::kError;
    skipped += c.kind == Case::kSkipped;
  }
  std::string o = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o += fmt::format(
      "<testsuites name=\"testbed\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
      cases.size(), failures, errors, skipped);
  o += fmt::format(
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n",
      xml(v.suite), cases.size(), failures, errors, skipped);
  o += "    <properties>\n";
  o += fmt::format("      <property name=\"results_dir\" value=\"{}\"/>\n", xml(v.results_dir));
  if (!v.baseline_dir.empty())
    o += fmt::format("      <property name=\"baseline\" value=\"{}\"/>\n", xml(v.baseline_dir));
  o += "    </properties>\n";
  for (const auto& c : cases) {
    o += fmt::format("    <testcase classname=\"{}\" name=\"{}\"", xml(c.classname), xml(c.name));
    const char* tag = c.kind == Case::kFailure ? "failure"
                      : c.kind == Case::kError ? "error"
                      : c.kind == Case::kSkipped ? "skipped"
                                                 : nullptr;
    if (!tag && c.text.empty()) {
      o += "/>\n";
      continue;
    }
    o += ">\n";
    if (tag && c.kind == Case::kSkipped)
      o += fmt::format("      <skipped message=\"{}\"/>\n", xml(c.message));
    else if (tag)
      o += fmt::format("      <{} message=\"{}\" type=\"{}\">{}</{}>\n", tag, xml(c.message),
                       c.kind == Case::kFailure ? "drift" : "run", xml(c.message), tag);
    if (!c.text.empty()) o += fmt::format("      <system-out>{}</system-out>\n", xml(c.text));
    o += "    </testcase>\n";
  }
  o += "  </testsuite>\n</testsuites>\n";
  return o;
}

util::Status write_junit(const fs::path& file, const Verdict& v) {
  if (auto st = util::write_file_atomic(file, junit_xml(v)); !st)
    return util::fail("--junit {}: {}", file.string(), st.error().message);
  return {};
}

}  // namespace testbed::nightly
