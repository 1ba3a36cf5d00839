#include "orchestrator/nightly/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "orchestrator/nightly/pointers.h"
#include "orchestrator/util/files.h"

namespace testbed::nightly {
namespace fs = std::filesystem;

namespace {

/// A label value: backslash, double quote and newline escaped (the format's rule).
std::string label_value(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '\\') o += "\\\\";
    else if (c == '"') o += "\\\"";
    else if (c == '\n') o += "\\n";
    else o += c;
  }
  return o;
}

std::string number(double v) {
  if (v == static_cast<double>(static_cast<int64_t>(v)) && std::abs(v) < 1e15)
    return std::to_string(static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

class Writer {
 public:
  explicit Writer(std::string experiment) : experiment_(label_value(experiment)) {}
  void family(const char* name, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
    name_ = name;
  }
  /// One sample; `labels` are name/value pairs after experiment.
  void sample(std::initializer_list<std::pair<const char*, std::string>> labels, double v) {
    out_ += fmt::format("{}{{experiment=\"{}\"", name_, experiment_);
    for (const auto& [k, val] : labels) out_ += fmt::format(",{}=\"{}\"", k, label_value(val));
    out_ += "} " + number(v) + "\n";
  }
  std::string text() const { return out_; }

 private:
  std::string experiment_, name_, out_;
};

constexpr const char* kStatuses[] = {"complete",   "failed",  "interrupted",
                                     "incomplete", "missing", "unreadable"};

void phase_families(Writer& w, const results::ReportFigures& f) {
  using results::PhaseFigures;
  struct Family {
    const char* name;
    const char* help;
    std::optional<uint64_t> (*get)(const PhaseFigures&);
  };
  const Family families[] = {
      {"testbed_packets_sent",
       "Packets the scanner sent in the phase (the version's first complete run, as the report's "
       "Table 1).",
       [](const PhaseFigures& p) -> std::optional<uint64_t> { return p.packets_sent; }},
      {"testbed_packets_received", "Packets the scanner received in the phase.",
       [](const PhaseFigures& p) -> std::optional<uint64_t> { return p.packets_received; }},
      {"testbed_unique_packets",
       "Packets of the version found in no other version in the phase (the report's Table 2).",
       [](const PhaseFigures& p) -> std::optional<uint64_t> { return p.unique; }},
      {"testbed_noise_floor_packets",
       "Largest unique count between two runs of the same version in the phase (absent with one "
       "run per version).",
       [](const PhaseFigures& p) { return p.noise_floor; }},
  };
  for (const auto& fam : families) {
    w.family(fam.name, fam.help);
    for (const auto& v : f.versions)
      for (const auto& p : v.phases)
        if (auto val = fam.get(p)) w.sample({{"version", v.version}, {"phase", p.phase}}, *val);
  }
  w.family("testbed_scan_duration_seconds",
           "The scan's duration (the report's Table 1: the scanner's own, else the capture's).");
  for (const auto& v : f.versions) w.sample({{"version", v.version}}, v.duration_s);
}

}  // namespace

double finished_at(const results::ResultsDir& r) {
  double t = 0;
  for (const auto& run : r.runs)
    if (run.complete() && run.manifest.scan) t = std::max(t, run.manifest.scan->finished);
  return t;
}

std::string metrics_text(const MetricsInput& in) {
  Writer w(in.results.experiment);
  if (in.figures) phase_families(w, *in.figures);

  std::map<std::string, uint64_t> dropped;
  std::map<std::string, std::map<std::string, int>> status;
  bool success = true;
  for (const auto& run : in.results.runs) {
    status[run.version][run.status]++;
    if (run.complete()) dropped[run.version] += run.manifest.dropped();
    else success = false;
  }
  w.family("testbed_capture_dropped_packets",
           "Packets the capture dropped (kernel and interface), summed over the version's "
           "complete runs.");
  for (const auto& v : in.results.versions) w.sample({{"version", v}}, dropped[v]);
  w.family("testbed_runs", "Runs of the version in each state.");
  for (const auto& v : in.results.versions)
    for (const char* s : kStatuses) w.sample({{"version", v}, {"status", s}}, status[v][s]);
  w.family("testbed_run_success", "1 when every planned run is complete, else 0.");
  w.sample({}, success ? 1 : 0);
  w.family("testbed_baseline_compared", "1 when the results were compared with a baseline.");
  w.sample({}, in.compared ? 1 : 0);
  w.family("testbed_drift",
           "1 when traffic changed beyond the noise floor against the baseline (or a version has "
           "runs on one side only), else 0.");
  w.sample({}, in.drift ? 1 : 0);
  if (in.last_success) {
    w.family("testbed_last_success_timestamp_seconds",
             "When the newest complete results directory without drift finished (epoch "
             "seconds).");
    w.sample({}, *in.last_success);
  }
  w.family("testbed_metrics_timestamp_seconds", "When these metrics were written (epoch seconds).");
  w.sample({}, in.now);
  return w.text();
}

util::Result<MetricsInput> metrics_input(const fs::path& results_dir, std::optional<bool> drift) {
  auto r = results::load_runs(results_dir);
  if (!r) return r.error();
  MetricsInput in;
  in.results = std::move(*r);
  if (fs::exists(results::ResultsPaths{results_dir}.report_json())) {
    auto f = results::read_report_figures(results_dir);
    if (!f) return f.error();
    in.figures = std::move(*f);
    in.compared = in.figures->compared;
    in.drift = in.figures->drift;
  }
  if (drift) {
    in.compared = true;
    in.drift = *drift;
  }
  bool complete = std::all_of(in.results.runs.begin(), in.results.runs.end(),
                              [](const auto& run) { return run.complete(); });
  if (complete && !in.drift) in.last_success = finished_at(in.results);
  if (auto good = pointer_target(experiment_dir_of(results_dir), kLatestGood)) {
    if (auto g = results::load_runs(*good)) {
      double t = finished_at(*g);
      if (t > 0 && (!in.last_success || t > *in.last_success)) in.last_success = t;
    }
  }
  in.now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  return in;
}

util::Status write_metrics(const fs::path& file, const fs::path& results_dir,
                           std::optional<bool> drift) {
  auto in = metrics_input(results_dir, drift);
  if (!in) return util::fail("--metrics: {}", in.error().message);
  if (auto st = util::write_file_atomic(file, metrics_text(*in)); !st)
    return util::fail("--metrics {}: {}", file.string(), st.error().message);
  return {};
}

}  // namespace testbed::nightly
