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

analysis::CaptureInput RunDir::capture_input(std::string label,
                                             std::vector<std::string>* used) const {
  analysis::CaptureInput in;
  in.label = std::move(label);
  in.pcap = capture();
  std::error_code ec;
  auto attach = [&](const fs::path& p, std::optional<fs::path>* field) {
    if (!fs::is_regular_file(p, ec)) return;
    *field = p;
    if (used) used->push_back(p.filename().string());
  };
  attach(phases(), &in.phases_json);
  attach(scanner_xml(), &in.nmap_xml);
  if (!in.phases_json) attach(console_log(), &in.nmap_log);
  return in;
}

bool is_reserved_dir(const std::string& name) {
  return name == files::kCsvDir || name.starts_with(".");
}

}  // namespace testbed::results
