#pragma once
// The figures a results directory's report.json holds (written by `testbed report`), typed
// for the readers that follow an experiment across nights without re-analysing captures:
// the Prometheus metrics (nightly/metrics.h) and the history page (nightly/history.h).
// Per version and study phase (horizontal, strobe, services, other): packets sent and
// received, unique packets (Table 2), the noise floor; the Table 1 duration; the baseline
// comparison (drift, the cells that drifted, provenance changes). docs/results.md lists the
// report.json keys read here.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::results {

struct PhaseFigures {
  std::string phase;  ///< "horizontal", "strobe", "services", "other"
  uint64_t packets_sent = 0, packets_received = 0;  ///< the version's first complete run
  uint64_t unique = 0;                 ///< Table 2: unique packets of the version in the phase
  std::optional<uint64_t> noise_floor;  ///< max unique between two runs of the version
};

struct VersionFigures {
  std::string version;
  double duration_s = 0;  ///< Table 1's duration (the scanner's own, else the capture's)
  std::vector<PhaseFigures> phases;  ///< the study's phase order
  const PhaseFigures* phase(const std::string& name) const;
};

struct ReportFigures {
  std::string experiment, generated;
  std::vector<VersionFigures> versions;  ///< report order (versions with an analysed run)
  bool compared = false;                 ///< the report compared with a baseline
  bool drift = false;
  std::string baseline_dir;
  std::vector<std::string> drift_cells;         ///< "7.93 strobe" for each drifted cell
  std::vector<std::string> provenance_changes;  ///< one line each, as in the report
  const VersionFigures* version(const std::string& v) const;
};

/// The figures of a parsed report.json; `name` names it in messages. Fails when it is not a
/// testbed report ("format": "testbed-report").
util::Result<ReportFigures> report_figures_from_json(const nlohmann::json& j,
                                                     const std::string& name);
/// <results_dir>/report.json's figures. Fails when there is no report or it is unreadable.
util::Result<ReportFigures> read_report_figures(const std::filesystem::path& results_dir);

}  // namespace testbed::results
