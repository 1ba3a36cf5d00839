#include "orchestrator/scanners/registry.h"

#include <fmt/format.h>

#include <algorithm>

#include "orchestrator/config/yaml_reader.h"
#include "orchestrator/scanners/masscan/kind.h"
#include "orchestrator/scanners/nmap/guard.h"
#include "orchestrator/scanners/nmap/model.h"
#include "orchestrator/scanners/zmap/kind.h"

namespace testbed::scanners {

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> k = {
      {"nmap", &nmap::check, &nmap::targets, &nmap::model, "nmap", {"nmap", "--version"}},
      // masscan 1.3.2 prints its version and exits 1.
      {"masscan", &masscan::check, &masscan::targets, &masscan::model, "masscan",
       {"sh", "-c", "masscan --version; exit 0"}},
      {"zmap", &zmap::check, &zmap::targets, &zmap::model, "zmap", {"zmap", "--version"}},
  };
  return k;
}

const Kind* find_kind(std::string_view program) {
  for (const auto& k : kinds())
    if (k.program == program) return &k;
  return nullptr;
}

std::vector<Refusal> check_command(const std::vector<std::string>& command,
                                   const LabScope& scope) {
  if (command.empty()) return {{0, "the command is empty"}};
  std::vector<Refusal> out;
  for (size_t i = 0; i < command.size(); ++i) {
    if (command[i].find_first_of(std::string("\n\r\0", 3)) != std::string::npos)
      out.push_back({i, "contains a line break or NUL"});
  }
  const Kind* kind = find_kind(command[0]);
  if (!kind) {
    std::vector<std::string> names;
    for (const auto& k : kinds()) names.emplace_back(k.program);
    std::string hint = config::nearest(command[0], names);
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    out.insert(out.begin(),
               {0, fmt::format("the program must be a known scanner kind ({}), written as its "
                               "plain name{}",
                               known, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint))});
    return out;
  }
  if (!out.empty()) return out;
  return kind->check(command, scope);
}

util::Status check_experiment(const config::Experiment& exp, const config::Topology& topo) {
  const LabScope scope = scope_of(topo, exp.targets);
  std::string msg;
  std::vector<const std::vector<std::string>*> seen;  // a shared command is checked once
  std::vector<config::ScannerSpec> specs = exp.scanners;
  if (specs.empty()) specs.emplace_back();  // the experiment's command alone
  for (const auto& sc : specs) {
    const auto& command = config::command_of(exp, sc);
    const auto& wheres = sc.command.empty() ? exp.command_where : sc.command_where;
    if (std::find_if(seen.begin(), seen.end(), [&](auto* c) { return *c == command; }) !=
        seen.end())
      continue;
    seen.push_back(&command);
    for (const auto& r : check_command(command, scope)) {
      std::string where = r.index < wheres.size() ? wheres[r.index] : exp.file;
      std::string arg = r.index < command.size() ? command[r.index] : "";
      if (!msg.empty()) msg += "\n";
      msg += fmt::format("{}: command[{}] '{}': {}", where, r.index, arg, r.reason);
    }
  }
  if (msg.empty()) return {};
  return util::fail("{}", msg);
}

util::Result<const Kind*> kind_named(std::string_view name) {
  if (const Kind* k = find_kind(name)) return k;
  std::string known;
  for (const auto& k : kinds()) known += (known.empty() ? "" : ", ") + std::string(k.program);
  return util::fail("unknown scanner kind '{}' (known: {})", name, known);
}

const Kind* kind_of(const std::vector<std::string>& command) {
  return command.empty() ? nullptr : find_kind(command[0]);
}

std::vector<std::string> literal_targets(const std::vector<std::string>& command) {
  if (command.empty()) return {};
  const Kind* kind = find_kind(command[0]);
  return kind ? kind->targets(command) : std::vector<std::string>{};
}

}  // namespace testbed::scanners
