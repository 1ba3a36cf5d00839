#include "orchestrator/nightly/pointers.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "orchestrator/report/results.h"

namespace testbed::nightly {
namespace fs = std::filesystem;
using util::fail;

Completeness completeness(const fs::path& results_dir) {
  Completeness c;
  auto r = report::load_results(results_dir);
  if (!r) {
    c.error = r.error().message;
    return c;
  }
  c.results_dir = true;
  for (const auto& run : r->runs) {
    if (run.complete()) continue;
    std::string s = run.name() + " " + run.status;
    if (!run.stage.empty()) s += " at " + run.stage;
    if (!run.error.empty()) s += ": " + run.error;
    c.not_complete.push_back(std::move(s));
  }
  c.complete = !r->runs.empty() && c.not_complete.empty();
  return c;
}

bool is_pointer_name(std::string_view s) { return s == kLatest || s == kLatestGood; }

std::optional<fs::path> pointer_target(const fs::path& experiment_dir, const std::string& name) {
  std::error_code ec;
  fs::path link = experiment_dir / name;
  if (!fs::is_symlink(link, ec)) return std::nullopt;
  fs::path target = fs::canonical(link, ec);
  if (ec || !fs::is_directory(target, ec)) return std::nullopt;
  return target;
}

namespace {
/// `dir` with symlinks resolved where it exists and without a trailing slash.
fs::path normal_dir(const fs::path& dir) {
  std::error_code ec;
  fs::path d = fs::weakly_canonical(dir, ec);
  if (ec) d = dir.lexically_normal();
  if (!d.has_filename()) d = d.parent_path();  // "a/b/" -> "a/b"
  return d;
}
}  // namespace

fs::path experiment_dir_of(const fs::path& results_dir) {
  return normal_dir(results_dir).parent_path();
}

util::Result<fs::path> resolve_baseline(const std::string& arg, const fs::path& experiment_dir) {
  if (!is_pointer_name(arg)) return fs::path(arg);
  if (auto t = pointer_target(experiment_dir, arg)) return *t;
  return fail(
      "--baseline {}: {} does not exist yet (it is set by the first complete run{})",
      arg, (experiment_dir / arg).string(), arg == kLatestGood ? " without drift" : "");
}

util::Status set_pointer(const fs::path& experiment_dir, const std::string& name,
                         const std::string& target_name) {
  // A relative target: the results root can be moved or mounted elsewhere.
  fs::path tmp = experiment_dir / fmt::format(".{}.tmp-{}", name, ::getpid());
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_directory_symlink(target_name, tmp, ec);
  if (ec) return fail("cannot create {}: {}", tmp.string(), ec.message());
  fs::rename(tmp, experiment_dir / name, ec);  // rename(2) replaces the old link atomically
  if (ec) {
    fs::remove(tmp, ec);
    return fail("cannot replace {}: {}", (experiment_dir / name).string(), ec.message());
  }
  return {};
}

util::Result<PointerUpdate> update_pointers(const fs::path& results_dir, bool drift) {
  PointerUpdate u;
  const fs::path experiment_dir = experiment_dir_of(results_dir);
  const fs::path dir = experiment_dir / normal_dir(results_dir).filename();
  Completeness c = completeness(dir);
  if (!c.complete) {
    u.why_not = c.results_dir ? fmt::format("not complete ({})", fmt::join(c.not_complete, "; "))
                              : c.error;
    return u;
  }
  const std::string name = dir.filename().string();
  if (auto st = set_pointer(experiment_dir, kLatest, name); !st) return st.error();
  u.latest = true;
  if (drift) {
    u.why_not = "drift against the baseline";
    return u;
  }
  if (auto st = set_pointer(experiment_dir, kLatestGood, name); !st) return st.error();
  u.latest_good = true;
  return u;
}

}  // namespace testbed::nightly
