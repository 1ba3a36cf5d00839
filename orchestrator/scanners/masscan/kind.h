#pragma once
// masscan as a scanner kind: its scope guard (options.h grammar), its console output as a
// one-phase timeline, its result file (-oX or -oL) and its packets' phase.
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/analysis/scanner_model.h"
#include "orchestrator/scanners/guard.h"
#include "orchestrator/scanners/scope.h"

namespace testbed::scanners::masscan {

std::vector<Refusal> check(const std::vector<std::string>& command, const LabScope& scope);
std::vector<std::string> targets(const std::vector<std::string>& command);

/// masscan's -oX (an nmaprun-like XML) or -oL ("open tcp 80 172.24.1.10 1700000000"
/// lines between "#masscan" and "# end"), told apart by their first bytes.
util::Result<analysis::ScanResult> parse_result(std::string_view text, const std::string& name);

const analysis::ScannerModel& model();

}  // namespace testbed::scanners::masscan
