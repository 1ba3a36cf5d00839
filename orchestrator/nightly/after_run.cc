#include "orchestrator/nightly/after_run.h"

#include "orchestrator/nightly/junit.h"
#include "orchestrator/nightly/metrics.h"
#include "orchestrator/nightly/pointers.h"
#include "orchestrator/nightly/prune.h"
#include "orchestrator/util/log.h"

namespace testbed::nightly {

util::Status after_run(const AfterRun& a) {
  util::Status first_error;
  auto note = [&](util::Status st) {
    if (!st && first_error.ok()) first_error = st;
  };
  if (!a.interrupted) {
    auto u = update_pointers(a.results_dir, a.drift);
    if (!u) {
      note(u.error());
    } else {
      if (u->latest) util::log_info("{}/{} -> {}", a.results_dir.parent_path().string(), kLatest,
                                    a.results_dir.filename().string());
      if (u->latest_good)
        util::log_info("{}/{} -> {}", a.results_dir.parent_path().string(), kLatestGood,
                       a.results_dir.filename().string());
      if (!u->why_not.empty())
        util::log_info("{} not moved: {}", u->latest ? kLatestGood : "latest, latest-good",
                       u->why_not);
    }
  }
  if (!a.junit.empty()) {
    auto v = verdict_from_results_dir(a.results_dir);
    if (!v)
      note(util::fail("--junit: {}", v.error().message));
    else if (auto st = write_junit(a.junit, *v); !st)
      note(st);
    else
      util::log_info("JUnit verdict: {}", a.junit);
  }
  if (!a.metrics.empty()) {
    if (auto st = write_metrics(a.metrics, a.results_dir, a.drift); !st)
      note(st);
    else
      util::log_info("metrics: {}", a.metrics);
  }
  if (a.keep_results > 0 && !a.interrupted) {
    auto plan = plan_prune(a.results_dir.parent_path(), a.keep_results, a.baselines);
    if (!plan) {
      note(util::fail("--keep-results: {}", plan.error().message));
    } else {
      for (const auto& e : *plan)
        if (e.remove) util::log_info("removing {} ({})", e.dir.string(), e.reason);
      note(apply_prune(*plan));
    }
  }
  return first_error;
}

}  // namespace testbed::nightly
