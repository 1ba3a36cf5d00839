#include "orchestrator/scanners/raw_guard.h"

#include <fmt/format.h>

#include <algorithm>

namespace testbed::scanners {
namespace {

// "--router-mac 00:11:22:33:44:55 (router MAC)"
std::string reading(const Item& it) {
  std::string s = it.spelling;
  if (it.value) s += " " + *it.value;
  if (it.option->role != Role::kRefused && !it.option->why.empty())
    s += " (" + std::string(it.option->why) + ")";
  return s;
}

util::Status check_one_target(const std::string& t, const RawGuardRules& rules,
                              const LabScope& scope) {
  if (!rules.ranges) return check_target(t, scope);
  auto parts = split_list(t, ", ");
  if (parts.empty()) return util::fail("no target given");
  for (const auto& p : parts)
    if (auto st = check_target_or_range(p, scope); !st) return st;
  return {};
}

// The problem with one option's value ("" when fine).
std::string check_value(const Item& it, const RawGuardRules& rules, const LabScope& scope) {
  const std::string v = it.value.value_or("");
  const bool placeholder = v.find('{') != std::string::npos;
  switch (it.option->role) {
    case Role::kPlain:
      return placeholder ? "a placeholder belongs where the command reads it (see the guard's "
                           "list: {output}, {targets}, {router_mac}, {scan_interface}, {source_ip})"
                         : "";
    case Role::kRefused:
      return std::string(it.option->why);
    case Role::kOutput:
      if (v != "{output}" && v != "{xml}")
        return fmt::format("the result file must be {{output}} (testbed fetches it from the "
                           "scanner); write {}",
                           rules.output_hint);
      return "";
    case Role::kTargets:
    case Role::kExclude:
      if (auto st = check_one_target(v, rules, scope); !st) return st.error().message;
      return "";
    case Role::kSpoofSource:
      if (v == "{source_ip}") return "";
      if (auto st = rules.ranges ? check_lab_address_or_range(v, scope) : check_lab_address(v, scope);
          !st)
        return st.error().message;
      return "";
    case Role::kInterface:
      if (auto st = check_scan_interface(v, scope); !st) return st.error().message;
      return "";
    case Role::kRouterMac:
      if (v != "{router_mac}")
        return fmt::format("frames must go to the lab router, whose MAC testbed fills in: "
                           "write {}",
                           rules.router_mac_hint);
      return "";
    case Role::kBlocklist:
      if (rules.lab_blocklist.empty() || v != rules.lab_blocklist)
        return fmt::format("reads a blocklist file the guard cannot see; the only one allowed "
                           "is the image's empty lab blocklist {} (the guard itself keeps "
                           "the scan in the lab)",
                           rules.lab_blocklist);
      return "";
    default:
      return fmt::format("{} has no such option role", rules.tool);
  }
}

}  // namespace

std::vector<Refusal> check_raw(const RawGuardRules& rules, const std::vector<std::string>& command,
                               const Parsed& parsed, const LabScope& scope) {
  std::vector<Refusal> out;
  for (const auto& e : parsed.errors) out.push_back({e.index, e.message});
  bool has_output = false, has_targets = false, has_interface = false, has_router = false;
  for (const auto& it : parsed.items) {
    const std::string& arg = command[it.index];
    if (it.operand) {
      if (arg == "{targets}") {
        has_targets = true;
        for (auto& why : expansion_problems(scope)) out.push_back({it.index, std::move(why)});
      } else if (arg.find('{') != std::string::npos) {
        out.push_back({it.index, fmt::format("{} would take '{}' as a target; {{targets}} is the "
                                             "only placeholder that stands alone",
                                             rules.tool, arg)});
      } else if (auto st = check_one_target(arg, rules, scope); !st) {
        out.push_back({it.index, "a target: " + st.error().message});
      }
      continue;
    }
    const Role role = it.option->role;
    if (auto why = check_value(it, rules, scope); !why.empty()) {
      out.push_back({it.value && role != Role::kRefused ? it.value_index : it.index,
                     fmt::format("read by {} as {}: {}", rules.tool, reading(it), why)});
      continue;
    }
    has_output |= role == Role::kOutput;
    has_targets |= role == Role::kTargets && it.value == "{targets}";
    has_interface |= role == Role::kInterface;
    has_router |= role == Role::kRouterMac;
  }
  if (!has_output)
    out.push_back({0, fmt::format("the command needs {} (the report reads its result file)",
                                  rules.output_hint)});
  if (!has_targets)
    out.push_back({0, "the command needs an argument \"{targets}\" (the lab's targets)"});
  if (!has_interface)
    out.push_back({0, fmt::format("the command needs {}: {} sends raw frames, by default from "
                                  "the interface of the default route, which is not the "
                                  "scan network's",
                                  rules.interface_hint, rules.tool)});
  if (!has_router)
    out.push_back({0, fmt::format("the command needs {}: {} addresses its frames to that MAC",
                                  rules.router_mac_hint, rules.tool)});
  std::stable_sort(out.begin(), out.end(),
                   [](const Refusal& a, const Refusal& b) { return a.index < b.index; });
  return out;
}

std::vector<std::string> raw_targets(const std::vector<std::string>& command, const Parsed& parsed) {
  std::vector<std::string> out;
  for (const auto& it : parsed.items) {
    if (it.operand && command[it.index] != "{targets}") out.push_back(command[it.index]);
    if (!it.operand && it.option->role == Role::kTargets && it.value && *it.value != "{targets}")
      out.push_back(*it.value);
  }
  return out;
}

}  // namespace testbed::scanners
