#include "orchestrator/scanners/registry.h"

#include <fmt/format.h>

#include "orchestrator/config/yaml_reader.h"
#include "orchestrator/scanners/nmap/guard.h"

namespace testbed::scanners {

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> k = {
      {"nmap", &nmap::check, &nmap::targets},
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
  auto refusals = check_command(exp.command, scope_of(topo, exp.targets));
  if (refusals.empty()) return {};
  std::string msg;
  for (const auto& r : refusals) {
    std::string where = r.index < exp.command_where.size() ? exp.command_where[r.index] : exp.file;
    std::string arg = r.index < exp.command.size() ? exp.command[r.index] : "";
    if (!msg.empty()) msg += "\n";
    msg += fmt::format("{}: command[{}] '{}': {}", where, r.index, arg, r.reason);
  }
  return util::fail("{}", msg);
}

std::vector<std::string> literal_targets(const std::vector<std::string>& command) {
  if (command.empty()) return {};
  const Kind* kind = find_kind(command[0]);
  return kind ? kind->targets(command) : std::vector<std::string>{};
}

}  // namespace testbed::scanners
