#pragma once
// Every rendering of the report module, format by format (render_json.cc, render_markdown.cc,
// render_csv.cc, render_html*.cc): the per-capture outputs of `testbed analyze` (an
// AnalysisResult) and the whole-experiment report (the Model, model.h), which embeds them
// for its study columns.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/report/packet_places.h"
#include "orchestrator/util/result.h"

namespace testbed::report {

struct Model;

// Per capture (`testbed analyze`; the report's study columns).

// `places` (packet_places.h), when given, says where each unique packet is: run, frame, time,
// display filter, payload hex and decoding are then rendered with it.

/// Everything as JSON (unique packets listed up to `unique_limit` per cell).
nlohmann::json capture_json(const analysis::AnalysisResult& r, size_t unique_limit = SIZE_MAX,
                            const PacketPlaces* places = nullptr);
/// Markdown: Table 1, Table 2 (three-phase and fine), similarity removals, phase agreement,
/// decode problems, and the unique packets (at most `unique_limit` per phase and input).
std::string capture_markdown(const analysis::AnalysisResult& r,
                             size_t unique_limit = analysis::kDefaultUniqueLimit,
                             const PacketPlaces* places = nullptr);
/// Writes table1.csv, table2.csv (both groupings), port_usage.csv, unique_packets.csv,
/// phases.csv into `dir` (created if missing).
util::Status write_capture_csv(const analysis::AnalysisResult& r, const std::filesystem::path& dir,
                               const PacketPlaces* places = nullptr);

// The experiment report (write_report, report.h).

/// report.json.
nlohmann::json report_json(const Model& m);
/// report.md (unique packets: at most `unique_limit` per phase and version).
std::string report_markdown(const Model& m, size_t unique_limit);
/// report.html, self-contained and inert (no script, no remote resource).
std::string report_html(const Model& m, size_t unique_limit);
/// csv/: the study captures' CSV files (write_capture_csv), then runs.csv, noise_floor.csv,
/// classifier.csv, similarity.csv and, with a baseline, drift.csv.
util::Status write_report_csv(const Model& m, const std::filesystem::path& dir);

}  // namespace testbed::report
