#pragma once
// The report section "Can an IDS tell them apart?" (report/report.h ExtraSection): the
// confusion matrix of ids/evaluate.h, per-rule precision, the rules that fire on every
// version, the sensor's live alerts beside the replay, and the study's question answered on
// this evidence. Off unless asked for (`testbed report --ids`, experiments with
// `ids: {enabled: true}`), so reports without it are unchanged.
#include <filesystem>

#include "orchestrator/ids/evaluate.h"
#include "orchestrator/report/report.h"

namespace testbed::ids {

inline constexpr const char* kSectionId = "ids";
inline constexpr const char* kSectionTitle = "Can an IDS tell them apart?";

/// True when the results directory's experiment.yaml says `ids: {enabled: true}`.
bool enabled_in(const std::filesystem::path& results_dir);

/// Renders an evaluation.
report::ExtraSection render_section(const IdsEvaluation& ev);

/// The section's maker for ReportOptions::sections: finds the sensor image's Suricata,
/// evaluates in a temporary directory and renders; when Suricata is missing or fails, the section says why.
report::SectionProvider section_provider(const std::filesystem::path& cache_root = {});

}  // namespace testbed::ids
