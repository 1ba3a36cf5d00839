#pragma once
// The verdict of a run or a comparison as JUnit XML, for CI systems (Jenkins, GitLab,
// GitHub annotations): one test case per scanner version × phase, failed when its traffic
// drifted beyond the noise floor (the numbers in the message), in error when the version
// has no complete run to compare (failed, interrupted, missing); plus one case per version
// named "runs", in error when any of its runs is not complete. The schema the output
// follows is tests/nightly/junit.xsd (the Jenkins/Ant JUnit format).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::results {
struct ResultsDir;
}

namespace testbed::nightly {

/// One run of the results directory judged (the newer side of a comparison).
struct RunState {
  std::string version;
  int rep = 1;
  std::string status;  ///< complete, failed, interrupted, incomplete, missing, unreadable
  std::string stage, error;
};

struct Verdict {
  std::string suite;        ///< the experiment's name
  std::string results_dir;  ///< what was judged
  std::string baseline_dir;           ///< empty without a baseline
  std::vector<std::string> versions;  ///< plan order
  std::vector<std::string> phases;    ///< table rows, e.g. horizontal, strobe, services, other
  std::vector<RunState> runs;
  /// report::DriftReport::to_json() of the comparison with the baseline (A = baseline).
  std::optional<nlohmann::json> drift;
};

/// The runs, versions and experiment name of a results directory (report::load_results).
Verdict verdict_of(const results::ResultsDir& results);

/// verdict_of the results directory plus, when its report.json holds a baseline
/// comparison, that comparison. Fails when `dir` is not a results directory.
util::Result<Verdict> verdict_from_results_dir(const std::filesystem::path& dir);

/// The JUnit XML document.
std::string junit_xml(const Verdict& v);

/// Writes junit_xml(v) to `file` atomically.
util::Status write_junit(const std::filesystem::path& file, const Verdict& v);

}  // namespace testbed::nightly
