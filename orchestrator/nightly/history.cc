#include "orchestrator/nightly/history.h"

#include <fmt/format.h>

#include <algorithm>

#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/results/layout.h"
#include "orchestrator/results/results_dir.h"

namespace testbed::nightly {
namespace fs = std::filesystem;
using nlohmann::json;
using util::fail;

namespace {

void add_version(History& h, const std::string& v) {
  if (std::find(h.versions.begin(), h.versions.end(), v) == h.versions.end())
    h.versions.push_back(v);
}

Night read_night(const fs::path& dir, History& h) {
  Night n;
  n.name = dir.filename().string();
  auto r = results::load_runs(dir);
  if (!r) {
    n.status = "unreadable";
    n.error = r.error().message;
    return n;
  }
  bool failed = false, incomplete = false;
  for (const auto& run : r->runs) {
    ++n.runs;
    add_version(h, run.version);
    if (run.complete()) {
      ++n.complete_runs;
      n.dropped[run.version] += run.manifest.dropped();
      if (run.manifest.wall_seconds) n.wall_seconds += *run.manifest.wall_seconds;
      for (const auto& r : run.manifest.retries)
        n.retries.push_back(
            fmt::format("{}: attempt {} retried ({} at {})", run.name(), r.attempt, r.reason, r.stage));
      continue;
    }
    (run.status == "missing" || run.status == "incomplete" ? incomplete : failed) = true;
    std::string p = run.name() + " " + run.status;
    if (!run.stage.empty()) p += " at " + run.stage;
    if (!run.error.empty()) p += ": " + run.error;
    n.problems.push_back(std::move(p));
  }
  n.status = failed ? "failed" : incomplete ? "incomplete" : "complete";
  results::ResultsPaths paths{dir};
  std::error_code ec;
  n.has_report_html = fs::exists(paths.report_html(), ec);
  if (fs::exists(paths.report_json(), ec)) {
    auto f = results::read_report_figures(dir);
    if (f) {
      for (const auto& v : f->versions) add_version(h, v.version);
      n.figures = std::move(*f);
    } else {
      n.report_error = f.error().message;
    }
  } else {
    n.report_error = "no report.json";
  }
  return n;
}

}  // namespace

util::Result<History> load_history(const fs::path& experiment_dir) {
  std::error_code ec;
  if (!fs::is_directory(experiment_dir, ec))
    return fail("{}: not a directory (history takes RESULTS_ROOT/<experiment>)",
                experiment_dir.string());
  if (fs::exists(results::ResultsPaths{experiment_dir}.plan(), ec))
    return fail(
        "{} is one results directory; history takes the directory that holds them "
        "(RESULTS_ROOT/<experiment>, here {})",
        experiment_dir.string(), experiment_dir.parent_path().string());
  History h;
  h.dir = experiment_dir;
  h.experiment = fs::weakly_canonical(experiment_dir, ec).filename().string();
  h.phases = analysis::phase_rows(true);
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(experiment_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_symlink() || !e.is_directory() || name.starts_with(".")) continue;
    dirs.push_back(e.path());
  }
  std::sort(dirs.begin(), dirs.end());  // UTC start times: name order is age order
  for (const auto& d : dirs) {
    Night n = read_night(d, h);
    // Not a results directory at all (no plan, no run directories): not a night.
    if (n.status == "unreadable" && n.error.find(results::kNotResultsDir) != std::string::npos)
      continue;
    if (n.figures && !n.figures->experiment.empty()) h.experiment = n.figures->experiment;
    h.nights.push_back(std::move(n));
  }
  if (h.nights.empty())
    return fail("{} holds no results directory (RESULTS_ROOT/<experiment>/<UTC time>/)",
                experiment_dir.string());
  return h;
}

json history_json(const History& h) {
  json nights = json::array();
  for (const Night& n : h.nights) {
    json j = {{"name", n.name},
              {"status", n.status},
              {"runs", n.runs},
              {"complete_runs", n.complete_runs},
              {"problems", n.problems},
              {"retries", n.retries},
              {"dropped", n.dropped},
              {"wall_seconds", n.wall_seconds},
              {"report", n.has_report_html ? n.name + "/" + results::files::kReportHtml : ""},
              {"drift", n.drift()}};
    if (!n.error.empty()) j["error"] = n.error;
    if (!n.figures) {
      j["report_error"] = n.report_error;
    } else {
      const auto& f = *n.figures;
      j["compared"] = f.compared;
      j["baseline"] = f.baseline_dir;
      j["drift_cells"] = f.drift_cells;
      j["provenance_changes"] = f.provenance_changes;
      json versions = json::object();
      for (const auto& v : f.versions) {
        json phases = json::object();
        for (const auto& p : v.phases) {
          phases[p.phase] = {{"packets_sent", p.packets_sent},
                             {"packets_received", p.packets_received},
                             {"unique", p.unique},
                             {"noise_floor", p.noise_floor ? json(*p.noise_floor) : json()}};
        }
        versions[v.version] = {{"duration_s", v.duration_s}, {"phases", phases}};
      }
      j["versions"] = versions;
    }
    nights.push_back(std::move(j));
  }
  return {{"format", "testbed-history"}, {"version", 1},          {"experiment", h.experiment},
          {"dir", h.dir.string()},       {"versions", h.versions}, {"phases", h.phases},
          {"nights", nights}};
}

}  // namespace testbed::nightly
