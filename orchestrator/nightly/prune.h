#pragma once
// Retention of results/<experiment>/: keep the N newest complete results directories and
// remove the older complete ones, except what must stay — the directory `latest-good` or
// `latest` points at, a baseline (given, or named by a kept directory's report.json), and
// every incomplete results directory (`testbed run --resume` can continue it, or a run is
// still writing it). Entries that are not results directories are never touched.
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::nightly {

struct PruneEntry {
  std::filesystem::path dir;
  bool remove = false;
  std::string reason;  ///< why it is kept or removed, for the listing
};

/// What prune would do in `experiment_dir` (results/<experiment>), newest first. `keep` >= 1;
/// `baselines` are directories that must stay whatever their age. Fails when
/// `experiment_dir` is not a directory or is itself a results directory.
util::Result<std::vector<PruneEntry>> plan_prune(const std::filesystem::path& experiment_dir,
                                                 size_t keep,
                                                 const std::vector<std::filesystem::path>& baselines);

/// Removes the entries marked `remove`; stops at the first failure.
util::Status apply_prune(const std::vector<PruneEntry>& plan);

}  // namespace testbed::nightly
