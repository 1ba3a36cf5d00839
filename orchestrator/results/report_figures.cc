#include "orchestrator/results/report_figures.h"

#include <algorithm>
#include <map>

#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/analysis/phases.h"
#include "orchestrator/results/layout.h"
#include "orchestrator/results/manifest.h"
#include "orchestrator/util/files.h"

namespace testbed::results {
using nlohmann::json;
using util::fail;

const PhaseFigures* VersionFigures::phase(const std::string& name) const {
  for (const auto& p : phases)
    if (p.phase == name) return &p;
  return nullptr;
}

const VersionFigures* ReportFigures::version(const std::string& v) const {
  for (const auto& f : versions)
    if (f.version == v) return &f;
  return nullptr;
}

namespace {

uint64_t count(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_unsigned() ? j[key].get<uint64_t>()
                                                                         : 0;
}

const json& member(const json& j, const char* key) {
  static const json kNull;
  return j.is_object() && j.contains(key) ? j[key] : kNull;
}

/// Sent/received packets of one capture summed into the study's phase groups.
void add_capture(const json& capture, VersionFigures& v) {
  for (const auto& [fine, counts] : member(capture, "phases").items()) {
    auto p = analysis::parse_phase(fine);
    if (!p) continue;
    std::string group = analysis::phase_group_name(analysis::phase_group(*p));
    for (auto& pf : v.phases)
      if (pf.phase == group) {
        pf.packets_sent += count(member(counts, "sent"), "packets");
        pf.packets_received += count(member(counts, "received"), "packets");
      }
  }
  const json& d = member(capture, "duration_s");
  if (d.is_number()) v.duration_s = d.get<double>();
}

void add_table2(const json& table, ReportFigures& f) {
  for (const auto& row : member(table, "rows")) {
    std::string phase = member(row, "phase").is_string() ? row["phase"].get<std::string>() : "";
    for (const auto& [label, cell] : member(row, "inputs").items())
      for (auto& v : f.versions)
        if (v.version == label)
          for (auto& pf : v.phases)
            if (pf.phase == phase) pf.unique = count(cell, "unique");
  }
}

void add_noise(const json& noise, ReportFigures& f) {
  if (!member(noise, "available").is_boolean() || !noise["available"].get<bool>()) return;
  for (const auto& row : member(noise, "rows")) {
    std::string phase = member(row, "phase").is_string() ? row["phase"].get<std::string>() : "";
    for (const auto& [label, cell] : member(row, "versions").items())
      for (auto& v : f.versions)
        if (v.version == label && count(cell, "pairs") > 0)
          for (auto& pf : v.phases)
            if (pf.phase == phase) pf.noise_floor = count(cell, "max");
  }
}

void add_baseline(const json& b, ReportFigures& f) {
  if (!b.is_object()) return;
  f.compared = true;
  f.drift = member(b, "drift").is_boolean() && b["drift"].get<bool>();
  if (member(b, "dir").is_string()) f.baseline_dir = b["dir"].get<std::string>();
  for (const auto& c : member(b, "cells"))
    if (member(c, "drift").is_boolean() && c["drift"].get<bool>())
      f.drift_cells.push_back(c.value("version", "") + " " + c.value("phase", ""));
  for (auto [key, why] : {std::pair{"only_in_a", " missing in this run"},
                           std::pair{"only_in_b", " missing in the baseline"}})
    for (const auto& v : member(b, key))
      if (v.is_string()) f.drift_cells.push_back(v.get<std::string>() + why);
  for (const auto& s : member(b, "provenance_changes"))
    if (s.is_string()) f.provenance_changes.push_back(s.get<std::string>());
}

}  // namespace

util::Result<ReportFigures> report_figures_from_json(const json& j, const std::string& name) {
  if (!j.is_object() || j.value("format", "") != "testbed-report")
    return fail("{}: not a testbed report (\"format\": \"testbed-report\")", name);
  ReportFigures f;
  f.experiment = j.value("experiment", "");
  f.generated = j.value("generated", "");
  const json& analysis = member(j, "analysis");
  std::vector<std::string> rows = analysis::phase_rows(true);
  for (const auto& c : member(analysis, "captures")) {
    if (!member(c, "label").is_string()) continue;
    VersionFigures v;
    v.version = c["label"].get<std::string>();
    for (const auto& r : rows) v.phases.push_back({r});
    add_capture(c, v);
    f.versions.push_back(std::move(v));
  }
  add_table2(member(analysis, "table2"), f);
  add_noise(member(member(j, "noise_floor"), "three_phase"), f);
  add_baseline(member(j, "baseline"), f);
  if (!f.compared && member(j, "drift").is_boolean()) f.drift = j["drift"].get<bool>();
  return f;
}

util::Result<ReportFigures> read_report_figures(const std::filesystem::path& results_dir) {
  auto path = ResultsPaths{results_dir}.report_json();
  auto text = util::read_file(path);
  if (!text) return text.error();
  // Most of report.json is what these figures do not need (the unique packets, timelines,
  // port usage, the classifier): its values are skipped while parsing, not kept, so a
  // thousand nights read in a fraction of the time (bench/history).
  json::parser_callback_t keep = [](int depth, json::parse_event_t event, json& parsed) {
    if (event != json::parse_event_t::key) return true;
    // By depth (containers around the key), so that no scanner label is ever taken for one.
    const std::string& k = parsed.get_ref<const std::string&>();
    switch (depth) {
      case 1:  // top level
        return k != "runs" && k != "classifier" && k != "study" && k != "sections" &&
               k != "warnings";
      case 2:  // analysis.*, noise_floor.*
        return k != "options" && k != "table2_fine" && k != "fine";
      case 4:  // analysis.captures[].*
        return k != "timeline" && k != "port_usage" && k != "decode" && k != "phase_agreement" &&
               k != "nmap" && k != "masscan" && k != "zmap";
      case 7:  // analysis.table2.rows[].inputs.<label>.*
        return k != "unique_packets" && k != "removed_by_similarity";
      default:
        return true;
    }
  };
  auto j = json::parse(*text, keep, false);
  if (j.is_discarded()) return fail("{} is not valid JSON", path.string());
  return report_figures_from_json(j, path.string());
}

}  // namespace testbed::results
