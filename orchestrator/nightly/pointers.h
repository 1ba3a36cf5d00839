#pragma once
// results/<experiment>/latest and latest-good: symlinks to the newest complete results
// directory, and to the newest complete one that did not drift from its baseline (or had
// none). Only a complete results directory — every run of its plan has its manifest — is
// ever pointed at; each pointer is replaced atomically (a symlink under a temporary name,
// renamed over the old one), so a reader sees the old target or the new one, never none.
// `--baseline latest-good` (or `latest`) names the target of a pointer.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::nightly {

inline constexpr const char* kLatest = "latest";
inline constexpr const char* kLatestGood = "latest-good";

/// Whether a results directory is complete, and if not, which runs are not ("7.93/1
/// failed at scan: …", "7.93/2 missing").
struct Completeness {
  bool results_dir = false;  ///< it is a results directory at all
  bool complete = false;     ///< every planned run has its manifest
  std::vector<std::string> not_complete;
  std::string error;  ///< why it is not a results directory
};
Completeness completeness(const std::filesystem::path& results_dir);

/// True for the pointer names `latest` and `latest-good`.
bool is_pointer_name(std::string_view s);

/// The directory `<experiment_dir>/<name>` points at (canonical), or nothing when there is
/// no such pointer.
std::optional<std::filesystem::path> pointer_target(const std::filesystem::path& experiment_dir,
                                                    const std::string& name);

/// results/<experiment> for a results directory results/<experiment>/<time> (trailing
/// slashes and symlinks resolved).
std::filesystem::path experiment_dir_of(const std::filesystem::path& results_dir);

/// A baseline argument: a pointer name resolved under `experiment_dir` (fails when that
/// pointer does not exist yet), anything else returned as given.
util::Result<std::filesystem::path> resolve_baseline(const std::string& arg,
                                                     const std::filesystem::path& experiment_dir);

/// Points `experiment_dir/name` at `experiment_dir/target_name` atomically.
util::Status set_pointer(const std::filesystem::path& experiment_dir, const std::string& name,
                         const std::string& target_name);

struct PointerUpdate {
  bool latest = false, latest_good = false;  ///< which pointers now point at the directory
  std::string why_not;  ///< why a pointer was left alone (not complete, drift)
};

/// After a run: points `latest` at `results_dir` when it is complete, and `latest-good`
/// when it is complete and `drift` is false. Pointers live beside the directory (in
/// results/<experiment>/).
util::Result<PointerUpdate> update_pointers(const std::filesystem::path& results_dir, bool drift);

}  // namespace testbed::nightly
