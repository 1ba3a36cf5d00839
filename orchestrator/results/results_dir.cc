#include "orchestrator/results/results_dir.h"

#include <algorithm>
#include <map>
#include <set>

#include "orchestrator/config/experiment.h"
#include "orchestrator/results/analysis_settings.h"

namespace testbed::results {
namespace fs = std::filesystem;
using util::fail;

namespace {

bool is_number(const std::string& s) {
  return !s.empty() && s.size() < 6 && s.find_first_not_of("0123456789") == std::string::npos;
}

RunRecord read_run(const std::string& version, int rep, const RunDir& run) {
  RunRecord rec;
  rec.version = version;
  rec.rep = rep;
  rec.dir = run.dir;
  RunState state = run.state();
  rec.status = state_name(state);
  if (state == RunState::kComplete) {
    auto m = read_manifest(run.manifest());
    if (!m) {
      rec.status = "unreadable";
      rec.error = m.error().message;
    } else {
      rec.manifest = std::move(*m);
    }
  } else if (state == RunState::kFailed || state == RunState::kInterrupted) {
    if (auto f = read_failure(run.failure())) {
      rec.stage = f->stage;
      rec.error = f->error;
    }
  } else if (state == RunState::kIncomplete) {
    rec.error = "no manifest.json: the run did not finish (crashed, interrupted or still running)";
  }
  return rec;
}

// experiment.yaml's `analysis:` (config's reader) -> the analysis options.
util::Status read_analysis_settings(const fs::path& file, analysis::AnalysisOptions* opts) {
  auto settings = config::load_analysis_settings(file.string());
  if (!settings) return settings.error();
  auto o = analysis_options(*settings);
  if (!o) return fail("{}: {}", file.string(), o.error().message);
  *opts = *o;
  return {};
}

}  // namespace

util::Result<ResultsDir> load_runs(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail("{}: no such results directory", dir.string());
  ResultsPaths paths{dir};
  ResultsDir r;
  r.dir = dir;
  r.experiment = fs::weakly_canonical(dir, ec).parent_path().filename().string();
  if (fs::exists(paths.plan())) {
    auto plan = read_plan(paths.plan());
    if (!plan) return plan.error();
    if (!plan->experiment.empty()) r.experiment = plan->experiment;
    r.repetitions = plan->repetitions;
    for (const auto& s : plan->scanners) r.versions.push_back(s.label);
  }
  // Directories not in the plan (e.g. no plan.json, or a plan edited since) are still listed.
  std::map<std::string, std::set<int>> found;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory()) continue;
    std::string label = e.path().filename().string();
    if (is_reserved_dir(label)) continue;
    for (const auto& rep : fs::directory_iterator(e.path(), ec))
      if (rep.is_directory() && is_number(rep.path().filename().string()))
        found[label].insert(std::stoi(rep.path().filename().string()));
  }
  std::vector<std::string> extra;
  for (const auto& [label, reps] : found)
    if (std::find(r.versions.begin(), r.versions.end(), label) == r.versions.end())
      extra.push_back(label);
  r.versions.insert(r.versions.end(), extra.begin(), extra.end());
  if (r.versions.empty())
    return fail("{} holds no plan.json and no <scanner>/<rep>/ run directories: {}", dir.string(),
                kNotResultsDir);
  int max_rep = r.repetitions;
  for (const auto& [label, reps] : found)
    if (!reps.empty()) max_rep = std::max(max_rep, *reps.rbegin());
  for (const std::string& v : r.versions) {
    for (int rep = 1; rep <= max_rep; ++rep) {
      bool planned = rep <= r.repetitions;
      if (!planned && !found[v].count(rep)) continue;
      r.runs.push_back(read_run(v, rep, paths.run(v, rep)));
    }
  }
  return r;
}

util::Result<ResultsDir> load_results(const fs::path& dir) {
  auto loaded = load_runs(dir);
  if (!loaded) return loaded.error();
  ResultsDir& r = *loaded;
  ResultsPaths paths{dir};
  std::error_code ec;

  r.options_source = "defaults";
  if (fs::exists(paths.experiment(), ec)) {
    if (auto st = read_analysis_settings(paths.experiment(), &r.options); !st) return st.error();
    r.options_source = files::kExperiment;
  } else {
    r.warnings.push_back("no experiment.yaml: analysis settings are the defaults");
  }
  if (!r.options.scanner) {
    std::set<std::string> addrs;
    for (const auto& run : r.runs)
      if (run.complete() && !run.manifest.lab.scanner_address.empty())
        addrs.insert(run.manifest.lab.scanner_address);
    if (addrs.size() == 1) {
      auto ip = analysis::IpAddr::parse(*addrs.begin());
      if (!ip.empty()) r.options.scanner = ip;
    } else if (addrs.size() > 1) {
      r.warnings.push_back("runs disagree on the lab's scanner address; detecting it per capture");
    }
  }
  return std::move(*loaded);
}

}  // namespace testbed::results
