#include "orchestrator/nightly/prune.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "orchestrator/nightly/pointers.h"
#include "orchestrator/util/files.h"

namespace testbed::nightly {
namespace fs = std::filesystem;
using util::fail;

namespace {

fs::path canonical_or(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p : c;
}

/// The baseline a results directory's report was compared with (report.json), if any.
std::optional<fs::path> baseline_of(const fs::path& dir) {
  auto text = util::read_file(dir / "report.json");
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("baseline") || !j["baseline"].is_object()) return std::nullopt;
  const auto& b = j["baseline"];
  if (!b.contains("dir") || !b["dir"].is_string()) return std::nullopt;
  fs::path p = b["dir"].get<std::string>();
  // A relative baseline was relative to where that report ran; try beside this directory too.
  if (p.is_relative() && !fs::exists(p)) p = dir.parent_path() / p.filename();
  return canonical_or(p);
}

}  // namespace

util::Result<std::vector<PruneEntry>> plan_prune(const fs::path& experiment_dir, size_t keep,
                                                 const std::vector<fs::path>& baselines) {
  std::error_code ec;
  if (!fs::is_directory(experiment_dir, ec))
    return fail("{}: not a directory (prune takes RESULTS_ROOT/<experiment>)",
                experiment_dir.string());
  if (fs::exists(experiment_dir / "plan.json", ec))
    return fail(
        "{} is a results directory; prune takes the directory that holds them "
        "(RESULTS_ROOT/<experiment>, here {})",
        experiment_dir.string(), experiment_dir.parent_path().string());
  if (keep < 1) return fail("--keep must be at least 1");

  // Results directories are named by their UTC start time: name order is age order.
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(experiment_dir, ec)) {
    if (e.is_symlink() || !e.is_directory() || e.path().filename().string().starts_with("."))
      continue;  // the pointers themselves, files, temporaries
    dirs.push_back(e.path());
  }
  if (ec) return fail("cannot list {}: {}", experiment_dir.string(), ec.message());
  std::sort(dirs.begin(), dirs.end(), std::greater<>());

  std::map<fs::path, std::string> must_stay;
  for (const char* name : {kLatest, kLatestGood})
    if (auto t = pointer_target(experiment_dir, name))
      must_stay.emplace(*t, fmt::format("{} points here", name));
  for (const auto& b : baselines)
    must_stay.emplace(canonical_or(b), "the baseline (--baseline)");

  std::vector<PruneEntry> out;
  size_t kept_complete = 0;
  for (const auto& d : dirs) {
    PruneEntry e{d, false, ""};
    Completeness c = completeness(d);
    auto stay = must_stay.find(canonical_or(d));
    if (!c.results_dir) {
      e.reason = "not a results directory (left alone)";
    } else if (!c.complete) {
      e.reason = fmt::format("incomplete ({}{}): `testbed run … --resume {}` can continue it",
                             c.not_complete.empty() ? "no run" : c.not_complete.front(),
                             c.not_complete.size() > 1
                                 ? fmt::format(" and {} more", c.not_complete.size() - 1)
                                 : "",
                             d.string());
    } else if (kept_complete < keep) {
      ++kept_complete;
      e.reason = fmt::format("one of the {} newest complete", keep);
      if (stay != must_stay.end()) e.reason += "; " + stay->second;
      if (auto b = baseline_of(d))
        must_stay.emplace(*b, fmt::format("the baseline of {}", d.filename().string()));
    } else if (stay != must_stay.end()) {
      e.reason = stay->second;
    } else {
      e.remove = true;
      e.reason = fmt::format("complete, older than the {} newest", keep);
    }
    out.push_back(std::move(e));
  }
  // A kept directory's baseline may be older than a directory already judged: judge again.
  for (auto& e : out) {
    if (!e.remove) continue;
    auto stay = must_stay.find(canonical_or(e.dir));
    if (stay != must_stay.end()) {
      e.remove = false;
      e.reason = stay->second;
    }
  }
  return out;
}

util::Status apply_prune(const std::vector<PruneEntry>& plan) {
  for (const auto& e : plan) {
    if (!e.remove) continue;
    std::error_code ec;
    fs::remove_all(e.dir, ec);
    if (ec) return fail("cannot remove {}: {}", e.dir.string(), ec.message());
  }
  return {};
}

}  // namespace testbed::nightly
