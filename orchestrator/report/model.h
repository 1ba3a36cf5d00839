#pragma once
// The experiment report's model: everything computed once from a results directory (the
// analysed runs, the study's columns, noise floor, classifier, drift against a baseline) and
// then rendered as JSON, Markdown, HTML and CSV (render.h, one render_<format>.cc each).
#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/analysis/classifier.h"
#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/report/compare.h"
#include "orchestrator/report/findings.h"
#include "orchestrator/report/packet_places.h"
#include "orchestrator/report/report.h"
#include "orchestrator/report/results.h"
#include "orchestrator/util/result.h"

namespace testbed::report {

// The study's own figures (docs/method.md, Malinich et al. 2021), shown beside ours for reference.
inline constexpr std::array<const char*, 3> kStudyVersions = {"7.01", "7.60", "7.80"};
struct StudyRow {
  const char* name;
  std::array<double, 3> v;
};
inline constexpr StudyRow kStudyTable1[] = {
    {"duration, s", {111, 247, 32}},
    {"bytes sent", {937862, 951182, 750892}},
    {"bytes received", {937158, 950870, 750788}},
    {"packets sent", {15366, 17491, 9307}},
    {"packets received", {12715, 12567, 6771}},
    {"ICMP sent", {1166, 1224, 1060}},
    {"TCP sent", {14115, 16159, 8222}},
    {"UDP sent", {85, 108, 25}},
    {"ICMP received", {247, 308, 81}},
    {"TCP received", {12468, 12259, 6690}},
    {"UDP received", {0, 0, 0}},
};
inline constexpr StudyRow kStudyTable2[] = {
    {"horizontal", {3, 0, 3}},
    {"strobe", {0, 1000, 0}},
    {"services", {10, 19, 10}},
};

/// Everything computed once and rendered in every format (render.h).
struct Model {
  AnalysedResults data;
  analysis::AnalysisResult study;     ///< one capture per version (the primary runs)
  std::vector<std::string> versions;  ///< study column order
  PacketPlaces places;                ///< where the study columns' unique packets are
  std::vector<Finding> findings;      ///< "What differs", biggest first
  std::vector<analysis::RunPhaseSets> grouped_sets, fine_sets;
  analysis::NoiseFloor noise_grouped, noise_fine;
  analysis::ConfusionMatrix loo;
  std::vector<std::vector<double>> similarity;  ///< run × run (fine phases)
  std::vector<std::string> run_names;
  std::optional<DriftReport> drift;
  std::string baseline_name;
  std::string generated;
  std::vector<ExtraSection> extra;  ///< ReportOptions::sections, rendered
};

/// Fails with "interrupted" once ReportOptions::cancel is set.
util::Status check_cancel(const ReportOptions& opts);

/// Loads and analyses the runs of `dir` (and of the baseline, if any) into the model. Fails
/// when the directory is not a results directory, no run is complete, or on cancel.
util::Result<Model> build_model(const std::filesystem::path& dir, const ReportOptions& opts);

}  // namespace testbed::report
