#include "orchestrator/report/results.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "orchestrator/scanners/run_record.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"

namespace testbed::report {
namespace fs = std::filesystem;
using util::fail;

namespace {

bool is_number(const std::string& s) {
  return !s.empty() && s.size() < 6 && s.find_first_not_of("0123456789") == std::string::npos;
}

util::Result<nlohmann::json> read_json(const fs::path& p) {
  auto text = util::read_file(p);
  if (!text) return text.error();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail("{} is not valid JSON", p.string());
  return j;
}

// experiment.yaml -> AnalysisOptions. Only the `analysis:` key matters here; the rest was
// validated when the experiment ran (and its topology path may not resolve from here).
util::Status read_analysis_settings(const fs::path& file, analysis::AnalysisOptions* opts) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::Exception& e) {
    return fail("{}: {}", file.string(), e.what());
  }
  YAML::Node a = root["analysis"];
  if (!a) return {};
  auto where = [&](const YAML::Node& n) {
    return fmt::format("{}:{}:{}", file.string(), n.Mark().line + 1, n.Mark().column + 1);
  };
  try {
    if (YAML::Node kf = a["key_fields"]) {
      std::string csv;
      for (const auto& f : kf) {
        std::string w = f.as<std::string>();
        std::replace(w.begin(), w.end(), '_', '-');  // experiment files say tcp_options
        csv += (csv.empty() ? "" : ",") + w;
      }
      auto bits = analysis::parse_key_fields(csv);
      if (!bits) return fail("{}: analysis.key_fields: {}", where(kf), bits.error().message);
      opts->key_fields = *bits;
    }
    if (YAML::Node ip = a["scanner_ip"]) {
      auto addr = analysis::IpAddr::parse(ip.as<std::string>());
      if (addr.empty()) return fail("{}: analysis.scanner_ip is not an IP address", where(ip));
      opts->scanner = addr;
    }
    if (YAML::Node sim = a["similarity"]) {
      for (const auto& kv : sim) {
        std::string proto = kv.first.as<std::string>();
        analysis::SimilarityRule* r = proto == "tcp"     ? &opts->similarity.tcp
                                      : proto == "udp"   ? &opts->similarity.udp
                                      : proto == "icmp"  ? &opts->similarity.icmp
                                      : proto == "other" ? &opts->similarity.other
                                                         : nullptr;
        if (!r)
          return fail("{}: analysis.similarity: unknown protocol '{}' (tcp, udp, icmp, other)",
                      where(kv.first), proto);
        if (YAML::Node v = kv.second["max_length_diff"]) r->max_length_diff = v.as<uint32_t>();
        if (YAML::Node v = kv.second["min_common_block"]) r->min_common_block = v.as<uint32_t>();
        if (YAML::Node v = kv.second["enabled"]) r->enabled = v.as<bool>();
      }
    }
  } catch (const YAML::Exception& e) {
    return fail("{}: analysis: {}", file.string(), e.what());
  }
  return {};
}

}  // namespace

util::Result<ResultsDir> load_results(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail("{}: no such results directory", dir.string());
  ResultsDir r;
  r.dir = dir;
  r.experiment = fs::weakly_canonical(dir, ec).parent_path().filename().string();
  std::vector<std::pair<std::string, int>> slots;
  if (fs::exists(dir / "plan.json")) {
    auto plan = read_json(dir / "plan.json");
    if (!plan) return plan.error();
    const auto& j = *plan;
    if (j.contains("experiment") && j["experiment"].is_string()) r.experiment = j["experiment"];
    if (j.contains("repetitions") && j["repetitions"].is_number_integer())
      r.repetitions = j["repetitions"];
    if (j.contains("scanners") && j["scanners"].is_array())
      for (const auto& s : j["scanners"])
        if (s.contains("label") && s["label"].is_string()) r.versions.push_back(s["label"]);
  }
  // Directories not in the plan (e.g. no plan.json, or a plan edited since) are still listed.
  std::map<std::string, std::set<int>> found;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_directory()) continue;
    std::string label = e.path().filename().string();
    if (label == "csv" || label.starts_with(".")) continue;
    for (const auto& rep : fs::directory_iterator(e.path(), ec))
      if (rep.is_directory() && is_number(rep.path().filename().string()))
        found[label].insert(std::stoi(rep.path().filename().string()));
  }
  std::vector<std::string> extra;
  for (const auto& [label, reps] : found)
    if (std::find(r.versions.begin(), r.versions.end(), label) == r.versions.end())
      extra.push_back(label);
  r.versions.insert(r.versions.end(), extra.begin(), extra.end());
  if (r.versions.empty())
    return fail(
        "{} holds no plan.json and no <scanner>/<rep>/ run directories: not a results directory",
        dir.string());
  int max_rep = r.repetitions;
  for (const auto& [label, reps] : found)
    if (!reps.empty()) max_rep = std::max(max_rep, *reps.rbegin());
  for (const std::string& v : r.versions) {
    for (int rep = 1; rep <= max_rep; ++rep) {
      bool planned = rep <= r.repetitions;
      if (!planned && !found[v].count(rep)) continue;
      RunRecord rec;
      rec.version = v;
      rec.rep = rep;
      rec.dir = dir / v / std::to_string(rep);
      if (!fs::is_directory(rec.dir, ec)) {
        rec.status = "missing";
      } else if (fs::exists(rec.dir / "manifest.json", ec)) {
        auto m = read_json(rec.dir / "manifest.json");
        if (!m) {
          rec.status = "unreadable";
          rec.error = m.error().message;
        } else {
          rec.status = "complete";
          rec.manifest = std::move(*m);
        }
      } else if (fs::exists(rec.dir / "failure.json", ec)) {
        auto f = read_json(rec.dir / "failure.json");
        rec.status = "failed";
        if (f && f->is_object()) {
          rec.status = f->value("status", std::string("failed"));
          rec.stage = f->value("stage", std::string());
          rec.error = f->value("error", std::string());
        }
      } else {
        rec.status = "incomplete";
        rec.error =
            "no manifest.json: the run did not finish (crashed, interrupted or still running)";
      }
      r.runs.push_back(std::move(rec));
    }
  }

  r.options_source = "defaults";
  if (fs::exists(dir / "experiment.yaml", ec)) {
    if (auto st = read_analysis_settings(dir / "experiment.yaml", &r.options); !st)
      return st.error();
    r.options_source = "experiment.yaml";
  } else {
    r.warnings.push_back("no experiment.yaml: analysis settings are the defaults");
  }
  if (!r.options.scanner) {
    std::set<std::string> addrs;
    for (const auto& run : r.runs)
      if (run.complete() && run.manifest.contains("lab") && run.manifest["lab"].is_object() &&
          run.manifest["lab"].contains("scanner_address") &&
          run.manifest["lab"]["scanner_address"].is_string())
        addrs.insert(run.manifest["lab"]["scanner_address"].get<std::string>());
    if (addrs.size() == 1) {
      auto ip = analysis::IpAddr::parse(*addrs.begin());
      if (!ip.empty()) r.options.scanner = ip;
    } else if (addrs.size() > 1) {
      r.warnings.push_back("runs disagree on the lab's scanner address; detecting it per capture");
    }
  }
  return r;
}

std::vector<const AnalysedRun*> AnalysedResults::primary() const {
  std::vector<const AnalysedRun*> out;
  for (const std::string& v : results.versions) {
    for (const AnalysedRun& a : runs) {
      if (results.runs[a.record].version == v) {
        out.push_back(&a);
        break;
      }
    }
  }
  return out;
}

std::vector<analysis::RunPhaseSets> AnalysedResults::phase_sets(bool grouped) const {
  std::vector<analysis::RunPhaseSets> out;
  for (const AnalysedRun& a : runs) {
    const RunRecord& rec = results.runs[a.record];
    out.push_back(analysis::run_phase_sets(a.capture, rec.version, rec.name(), grouped));
  }
  return out;
}

AnalysedResults analyse_results(ResultsDir results, const analysis::AnalysisOptions& opts,
                                std::shared_ptr<analysis::PayloadStore> store,
                                const std::atomic<bool>* cancel) {
  AnalysedResults out;
  out.payloads = std::move(store);
  for (size_t i = 0; i < results.runs.size(); ++i) {
    if (cancel && cancel->load()) break;
    RunRecord& rec = results.runs[i];
    if (!rec.complete()) continue;
    analysis::CaptureInput in;
    in.label = rec.name();
    in.pcap = rec.dir / "capture.pcap";
    auto kind = scanners::kind_of_run(rec.dir);
    if (!kind) {
      rec.status = "unreadable";
      rec.error = kind.error().message;
      util::log_warn("{}: left out of the report: {}", rec.name(), rec.error);
      continue;
    }
    in.kind = &(*kind)->model();
    const std::string result(in.kind->result_file), log(in.kind->console_log);
    std::error_code ec;
    if (fs::exists(rec.dir / "phases.json", ec))
      in.phases_json = rec.dir / "phases.json";
    else if (fs::exists(rec.dir / log, ec))
      in.console_log = rec.dir / log;
    if (fs::exists(rec.dir / result, ec)) in.result_file = rec.dir / result;
    util::log_info("analysing {} ({})", rec.name(), in.pcap.string());
    auto c = analysis::analyze_capture(in, opts, *out.payloads);
    if (!c) {
      rec.status = "unreadable";
      rec.error = c.error().message;
      util::log_warn("{}: left out of the report: {}", rec.name(), rec.error);
      continue;
    }
    out.runs.push_back(AnalysedRun{i, std::move(*c)});
  }
  out.results = std::move(results);
  return out;
}

}  // namespace testbed::report
