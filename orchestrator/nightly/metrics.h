#pragma once
// A results directory's figures in the Prometheus text exposition format (version 0.0.4),
// for node_exporter's textfile collector: `--metrics FILE` on run, report and diff, and the
// nightly job's `--metrics-dir`. Every series carries `experiment`; per-version series
// `version`, per-phase ones `phase` (the study's horizontal, strobe, services, other). The
// values are the report's (results/report_figures.h reads report.json) and the manifests'
// (results/results_dir.h). The metric names and their meaning: docs/results.md.
#include <filesystem>
#include <optional>
#include <string>

#include "orchestrator/results/report_figures.h"
#include "orchestrator/results/results_dir.h"
#include "orchestrator/util/result.h"

namespace testbed::nightly {

struct MetricsInput {
  results::ResultsDir results;
  std::optional<results::ReportFigures> figures;  ///< none: the directory has no report yet
  bool compared = false;  ///< judged against a baseline
  bool drift = false;
  std::optional<double> last_success;  ///< epoch seconds the newest good night finished
  double now = 0;                      ///< epoch seconds the metrics were made
};

/// The exposition text, HELP and TYPE before each family, families in a fixed order.
std::string metrics_text(const MetricsInput& in);

/// Epoch seconds the last complete run of `r` finished (its scan's end, else 0).
double finished_at(const results::ResultsDir& r);

/// Reads `results_dir` (runs, report.json) and its experiment's latest-good pointer. The
/// drift verdict is the report's, unless `drift` gives it (diff: the comparison it made).
util::Result<MetricsInput> metrics_input(const std::filesystem::path& results_dir,
                                         std::optional<bool> drift = std::nullopt);

/// metrics_input + metrics_text, written to `file` atomically (a scraper never reads half a
/// file: node_exporter's textfile collector reads *.prom files as they are).
util::Status write_metrics(const std::filesystem::path& file,
                           const std::filesystem::path& results_dir,
                           std::optional<bool> drift = std::nullopt);

}  // namespace testbed::nightly
