#pragma once
// The analysis tests' captures are Nmap's: their result file, console log and packet
// shapes are read by the nmap scanner kind (orchestrator/scanners/nmap/).
#include <filesystem>
#include <string>
#include <string_view>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/scanners/nmap/model.h"
#include "orchestrator/scanners/nmap/progress.h"
#include "orchestrator/scanners/nmap/result.h"
#include "orchestrator/scanners/nmap/shapes.h"

namespace testbed::analysis {

inline CaptureInput with_nmap(CaptureInput in) {
  in.kind = &scanners::nmap::model();
  return in;
}

// The Nmap parsers under the names they had when they lived in the analysis module.
using NmapLogPhaseTracker = scanners::nmap::ConsoleTracker;
using PhaseClassifier = scanners::nmap::ShapeClassifier;
inline util::Result<PhaseTimeline> parse_nmap_log(std::string_view text, const std::string& name) {
  return parse_console_log(scanners::nmap::model(), text, name);
}
inline util::Result<PhaseTimeline> timeline_from_nmap_log(const std::filesystem::path& p) {
  return read_console_log(scanners::nmap::model(), p);
}
inline util::Result<ScanResult> parse_nmap_xml(std::string_view text, const std::string& name) {
  return scanners::nmap::parse_xml(text, name);
}
inline util::Result<ScanResult> read_nmap_xml(const std::filesystem::path& p) {
  return read_result_file(scanners::nmap::model(), p);
}

}  // namespace testbed::analysis
