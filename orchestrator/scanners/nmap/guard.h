#pragma once
// The scope guard for Nmap commands: parses the command as Nmap does (parse.h) and checks
// every option that names hosts, or reads them from elsewhere, against the lab.
#include <string>
#include <vector>

#include "orchestrator/scanners/guard.h"
#include "orchestrator/scanners/scope.h"

namespace testbed::scanners::nmap {

/// Every refusal of `command` (argv template; {xml} must be the value of -oX, {targets}
/// a target, expanded to scope.expansion). Empty when the command stays in the lab.
std::vector<Refusal> check(const std::vector<std::string>& command, const LabScope& scope);

/// The arguments Nmap takes as targets (placeholders left out).
std::vector<std::string> targets(const std::vector<std::string>& command);

}  // namespace testbed::scanners::nmap
