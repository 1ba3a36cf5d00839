#pragma once
// The scope guard shared by the raw-frame scanners (masscan, ZMap): given their command
// parsed into items (getopt.h), checks every option by its Role and every operand as a
// target, and that the command names the lab's adapter, router MAC and result file.
// Nmap has its own (nmap/guard.cc): its options name hosts in many more ways.
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/scanners/getopt.h"
#include "orchestrator/scanners/guard.h"
#include "orchestrator/scanners/scope.h"

namespace testbed::scanners {

struct RawGuardRules {
  std::string_view tool;               ///< "masscan", "ZMap"
  bool ranges = false;                 ///< targets may be a.b.c.d-e.f.g.h and lists (masscan)
  std::string_view output_hint;        ///< e.g. "-oL {output}"
  std::string_view interface_hint;     ///< e.g. "--adapter {scan_interface}"
  std::string_view router_mac_hint;    ///< e.g. "--router-mac {router_mac}"
  std::string_view lab_blocklist;      ///< the one file kBlocklist accepts ("" = none)
};

/// Every refusal of `command`, parsed as `parsed`.
std::vector<Refusal> check_raw(const RawGuardRules& rules, const std::vector<std::string>& command,
                               const Parsed& parsed, const LabScope& scope);

/// The operands of `parsed` that are literal targets (placeholders left out).
std::vector<std::string> raw_targets(const std::vector<std::string>& command, const Parsed& parsed);

}  // namespace testbed::scanners
