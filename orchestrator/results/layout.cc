#include "orchestrator/results/layout.h"

#include "orchestrator/results/manifest.h"

namespace testbed::results {
namespace fs = std::filesystem;

const char* state_name(RunState s) {
  switch (s) {
    case RunState::kComplete: return "complete";
    case RunState::kFailed: return "failed";
    case RunState::kInterrupted: return "interrupted";
    case RunState::kIncomplete: return "incomplete";
    case RunState::kMissing: break;
  }
  return "missing";
}

bool RunDir::complete() const {
  std::error_code ec;
  return fs::exists(manifest(), ec);
}

RunState RunDir::state() const {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return RunState::kMissing;
  if (fs::exists(manifest(), ec)) return RunState::kComplete;
  if (fs::exists(failure(), ec)) {
    auto f = read_failure(failure());
    return f && f->status == "interrupted" ? RunState::kInterrupted : RunState::kFailed;
  }
  return RunState::kIncomplete;
}

util::Result<const scanners::Kind*> RunDir::kind() const {
  std::string name;
  std::error_code ec;
  if (fs::exists(manifest(), ec)) {
    if (auto m = read_manifest(manifest())) name = m->scanner_kind;
  }
  if (name.empty()) {
    // <results>/<label>/<rep>: the plan lists every label's kind.
    const std::string label = dir.parent_path().filename().string();
    if (auto plan = read_plan(dir.parent_path().parent_path() / files::kPlan))
      for (const auto& s : plan->scanners)
        if (s.label == label) name = s.kind;
  }
  auto k = recorded_kind(name);
  if (!k) return util::fail("{}: {}", dir.string(), k.error().message);
  return *k;
}

util::Result<const scanners::Kind*> recorded_kind(const std::string& name) {
  return scanners::kind_named(name.empty() ? "nmap" : name);
}

analysis::CaptureInput RunDir::capture_input(std::string label, const analysis::ScannerModel& kind,
                                             std::vector<std::string>* used) const {
  analysis::CaptureInput in;
  in.label = std::move(label);
  in.pcap = capture();
  in.kind = &kind;
  std::error_code ec;
  auto attach = [&](const fs::path& p, std::optional<fs::path>* field) {
    if (!fs::is_regular_file(p, ec)) return;
    *field = p;
    if (used) used->push_back(p.filename().string());
  };
  attach(phases(), &in.phases_json);
  attach(result_file(kind), &in.result_file);
  if (!in.phases_json) attach(console_log(kind), &in.console_log);
  return in;
}

bool is_reserved_dir(const std::string& name) {
  return name == files::kCsvDir || name.starts_with(".");
}

}  // namespace testbed::results
