#include "orchestrator/results/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace testbed::results {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string first_line(const std::string& s) {
  size_t a = s.find_first_not_of(" \r\n\t");
  if (a == std::string::npos) return "";
  size_t e = s.find_first_of("\r\n", a);
  return s.substr(a, e == std::string::npos ? std::string::npos : e - a);
}

json run_json(const RunRecord& r) {
  json j = {{"run", r.name()},     {"version", r.version}, {"rep", r.rep},
            {"dir", r.dir.string()}, {"state", r.status}};
  if (!r.stage.empty()) j["stage"] = r.stage;
  if (!r.error.empty()) j["error"] = r.error;
  if (!r.complete()) return j;
  const Manifest& m = r.manifest;
  j["manifest_schema"] = m.schema_version;
  j["scanner_version"] = first_line(m.scanner_version);
  j["image"] = m.run.image;
  j["testbed_version"] = m.testbed.version;
  j["git_revision"] = m.testbed.git_revision;
  j["lab_backend"] = m.lab.backend;
  if (!m.lab.accel.empty()) j["lab_accel"] = m.lab.accel;
  if (!m.lab.host.empty()) j["lab_host"] = m.lab.host;
  if (m.capture) {
    j["packets"] = m.capture->packets;
    j["bytes"] = m.capture->bytes;
    j["kernel_dropped"] = m.capture->kernel_dropped;
    j["interface_dropped"] = m.capture->interface_dropped;
  }
  if (m.scan) {
    j["scan_seconds"] = m.scan->seconds();
    j["exit_status"] = m.scan->exit_status;
  }
  if (m.wall_seconds) j["wall_seconds"] = *m.wall_seconds;
  return j;
}

}  // namespace

bool is_run_dir(const fs::path& dir) {
  RunDir run{dir};
  std::error_code ec;
  return fs::exists(run.manifest(), ec) || fs::exists(run.failure(), ec) ||
         fs::exists(run.capture(), ec);
}

util::Result<ResultsDir> load_run_dir(const fs::path& dir) {
  if (!is_run_dir(dir))
    return util::fail("{}: no {}, {} or {}: not a run directory", dir.string(), files::kManifest,
                      files::kFailure, files::kCapture);
  std::error_code ec;
  fs::path abs = fs::weakly_canonical(dir, ec);
  if (ec) abs = dir;
  std::string rep_name = abs.filename().string();
  bool numeric = !rep_name.empty() && rep_name.size() < 6 &&
                 rep_name.find_first_not_of("0123456789") == std::string::npos;
  ResultsDir r;
  r.dir = dir;
  RunRecord rec;
  rec.rep = numeric ? std::stoi(rep_name) : 1;
  rec.version = numeric ? abs.parent_path().filename().string() : rep_name;
  RunDir run{dir};
  RunState state = run.state();
  rec.dir = dir;
  rec.status = state_name(state);
  if (state == RunState::kComplete) {
    if (auto m = read_manifest(run.manifest())) {
      rec.manifest = std::move(*m);
      r.experiment = rec.manifest.experiment.name;
    } else {
      rec.status = "unreadable";
      rec.error = m.error().message;
    }
  } else if (auto f = read_failure(run.failure()); f && state != RunState::kIncomplete) {
    rec.stage = f->stage;
    rec.error = f->error;
  }
  r.versions = {rec.version};
  r.runs.push_back(std::move(rec));
  return r;
}

json summary_json(const ResultsDir& r) {
  json runs = json::array();
  std::map<std::string, int> states;
  uint64_t packets = 0, dropped = 0;
  for (const RunRecord& run : r.runs) {
    runs.push_back(run_json(run));
    ++states[run.status];
    packets += run.manifest.packets();
    dropped += run.manifest.dropped();
  }
  return {{"format", "testbed-results"},
          {"version", 1},
          {"dir", r.dir.string()},
          {"experiment", r.experiment},
          {"repetitions", r.repetitions},
          {"versions", r.versions},
          {"runs", runs},
          {"totals", {{"runs", r.runs.size()},
                      {"states", states},
                      {"packets", packets},
                      {"dropped", dropped}}}};
}

std::string summary_text(const ResultsDir& r) {
  std::vector<std::vector<std::string>> rows = {
      {"run", "state", "scanner", "packets", "dropped", "scan s", "wall s", "note"}};
  for (const RunRecord& run : r.runs) {
    const Manifest& m = run.manifest;
    std::string note = run.error.empty() ? "" : (run.stage.empty() ? "" : run.stage + ": ") + run.error;
    std::replace(note.begin(), note.end(), '\n', ' ');
    bool c = run.complete();
    rows.push_back({run.name(), run.status, first_line(m.scanner_version),
                    c && m.capture ? std::to_string(m.packets()) : "",
                    c && m.capture ? std::to_string(m.dropped()) : "",
                    c && m.scan ? fmt::format("{:.1f}", m.scan->seconds()) : "",
                    c && m.wall_seconds ? fmt::format("{:.1f}", *m.wall_seconds) : "", note});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string o = fmt::format("{}\nexperiment {}, {} version(s), {} repetition(s)\n\n",
                              r.dir.string(), r.experiment.empty() ? "?" : r.experiment,
                              r.versions.size(), r.repetitions);
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      bool numeric = i >= 3 && i <= 6;
      std::string cell = i + 1 == row.size() ? row[i]
                         : numeric ? fmt::format("{:>{}}", row[i], width[i])
                                   : fmt::format("{:<{}}", row[i], width[i]);
      line += (i ? "  " : "") + cell;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    o += line + "\n";
  }
  json j = summary_json(r);
  std::string states;
  for (const auto& [s, n] : j["totals"]["states"].items())
    states += fmt::format("{}{} {}", states.empty() ? "" : ", ", n.get<int>(), s);
  o += fmt::format("\n{} run(s): {}; {} packets captured, {} dropped\n", r.runs.size(), states,
                   j["totals"]["packets"].get<uint64_t>(), j["totals"]["dropped"].get<uint64_t>());
  return o;
}

}  // namespace testbed::results
