#pragma once
// ZMap as a scanner kind: its scope guard (options.h grammar), its console output as a
// one-phase timeline, its CSV result file and its packets' phase.
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/analysis/scanner_model.h"
#include "orchestrator/scanners/guard.h"
#include "orchestrator/scanners/scope.h"

namespace testbed::scanners::zmap {

std::vector<Refusal> check(const std::vector<std::string>& command, const LabScope& scope);
std::vector<std::string> targets(const std::vector<std::string>& command);

/// ZMap's CSV output (-O csv, the default): a header row naming the --output-fields, then
/// one row per response. Rows with saddr and sport and success=1 are open ports; without
/// sport, hosts that answered.
util::Result<analysis::ScanResult> parse_result(std::string_view text, const std::string& name);

const analysis::ScannerModel& model();

}  // namespace testbed::scanners::zmap
