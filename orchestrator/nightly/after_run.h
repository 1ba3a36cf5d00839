#pragma once
// What `testbed run` does once its runs and report are done: move the latest/latest-good
// pointers (pointers.h), write the JUnit verdict (junit.h) and the Prometheus metrics
// (metrics.h), and apply retention (prune.h).
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::nightly {

struct AfterRun {
  std::filesystem::path results_dir;
  bool drift = false;        ///< the report found drift against the baseline
  bool interrupted = false;  ///< no pointer moves and nothing is pruned
  std::string junit;         ///< --junit FILE; empty: none
  std::string metrics;       ///< --metrics FILE; empty: none
  size_t keep_results = 0;   ///< --keep-results N; 0: no pruning
  std::vector<std::filesystem::path> baselines;  ///< never pruned
};

/// Logs what it did (pointers moved or why not, directories removed and kept).
util::Status after_run(const AfterRun& a);

}  // namespace testbed::nightly
