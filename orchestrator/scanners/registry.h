#pragma once
// Scanner kinds: the program an experiment's `command:` runs, the scope guard that reads
// its command line with that scanner's own grammar, and what the runner and the analysis
// need of it (analysis::ScannerModel: console tracker, result file, packet shapes). A new
// kind is a folder here (nmap/, masscan/, zmap/) and one line in registry.cc.
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/analysis/scanner_model.h"
#include "orchestrator/config/experiment.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/scanners/guard.h"
#include "orchestrator/scanners/scope.h"
#include "orchestrator/util/result.h"

namespace testbed::scanners {

struct Kind {
  std::string_view program;  ///< the command's first argument, e.g. "nmap"
  /// Every refusal of a command of this kind against a lab.
  std::vector<Refusal> (*check)(const std::vector<std::string>& command, const LabScope& scope);
  /// The arguments the scanner takes as targets, placeholders left out.
  std::vector<std::string> (*targets)(const std::vector<std::string>& command);
  /// Console tracker, result file, packet shapes (the analysis's view of the kind).
  const analysis::ScannerModel& (*model)();
  /// The Debian package the kind's images install (images/scanner-<kind>*.yaml `expect`).
  std::string_view package;
  /// The command whose output names the scanner's version (manifest `scanner_version`);
  /// it must exit 0.
  std::vector<std::string> version_command;
};

/// The known kinds, in registration order.
const std::vector<Kind>& kinds();
/// The kind whose program is `program`, or nullptr.
const Kind* find_kind(std::string_view program);

/// The whole guard for one command: the program a known kind, no line breaks or NULs,
/// then the kind's own check. Refusals in argument order.
std::vector<Refusal> check_command(const std::vector<std::string>& command, const LabScope& scope);

/// The guard `testbed validate` and `testbed run` both run, before anything exists: each
/// scanner's command against the lab of `topo`, with {targets} as the experiment's
/// `targets:` (or the target subnets). One line per refusal, located at the argument:
/// "file:line:col: command[3] '-S10.9.9.9': -S 10.9.9.9 (spoofed source address): ...".
util::Status check_experiment(const config::Experiment& exp, const config::Topology& topo);

/// The targets a command names besides {targets} (empty for an unknown program).
std::vector<std::string> literal_targets(const std::vector<std::string>& command);

/// The kind named `name` ("nmap", "masscan", "zmap"), or a message listing the known ones.
util::Result<const Kind*> kind_named(std::string_view name);
/// The kind a command runs (its program), or nullptr.
const Kind* kind_of(const std::vector<std::string>& command);

}  // namespace testbed::scanners
