#include "orchestrator/scanners/scope.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

namespace testbed::scanners {

LabScope scope_of(const config::Topology& topo, const std::vector<std::string>& targets) {
  LabScope s;
  for (const auto& n : topo.networks) {
    if (n.role == config::NetworkRole::kTargets) s.targets.push_back(n.cidr);
    if (n.role != config::NetworkRole::kMgmt) s.lab.push_back(n.cidr);
  }
  for (const auto& node : topo.nodes) {
    if (node.role != config::NodeRole::kScanner) continue;
    for (const auto& itf : node.interfaces) {
      const auto* net = topo.network(itf.network);
      if (net && net->role == config::NetworkRole::kScan) s.scan_interfaces.push_back(itf.network);
    }
  }
  s.expansion = targets.empty() ? topo.target_subnets() : targets;
  return s;
}

std::string describe(const std::vector<util::Cidr>& nets) {
  std::string out;
  for (const auto& c : nets) out += (out.empty() ? "" : ", ") + c.str();
  return out.empty() ? "none" : out;
}

util::Status check_target(const std::string& target, const LabScope& scope) {
  auto c = util::parse_cidr(target);
  if (!c)
    return util::fail(
        "'{}' is not an IPv4 address or CIDR block; only lab addresses may be scanned "
        "(names, ranges and IPv6 are refused)",
        target);
  for (const auto& t : scope.targets)
    if (t.contains(*c)) return {};
  return util::fail("'{}' is outside the lab's target subnets ({}); testbed only scans its own lab",
                    target, describe(scope.targets));
}

util::Status check_lab_address(const std::string& address, const LabScope& scope) {
  auto a = util::parse_ipv4(address);
  if (!a)
    return util::fail("'{}' is not an IPv4 address (names and IPv6 are refused)", address);
  for (const auto& t : scope.lab)
    if (t.contains(*a)) return {};
  return util::fail("'{}' is outside the lab's scan and targets networks ({})", address,
                    describe(scope.lab));
}

namespace {
// "a-b" as two addresses, both parsed, a <= b; nullopt when not a range.
std::optional<std::pair<uint32_t, uint32_t>> parse_range(const std::string& s) {
  auto dash = s.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto a = util::parse_ipv4(s.substr(0, dash));
  auto b = util::parse_ipv4(s.substr(dash + 1));
  if (!a || !b || *a > *b) return std::nullopt;
  return std::make_pair(*a, *b);
}

util::Status range_in(const std::string& spec, const std::vector<util::Cidr>& nets,
                      const char* what) {
  auto r = parse_range(spec);
  if (!r)
    return util::fail("'{}' is not an IPv4 address, CIDR block or range a.b.c.d-e.f.g.h "
                      "(names and IPv6 are refused)",
                      spec);
  for (const auto& n : nets)
    if (n.contains(r->first) && n.contains(r->second)) return {};
  return util::fail("range '{}' is not inside one of the lab's {} ({})", spec, what,
                    describe(nets));
}
}  // namespace

util::Status check_target_or_range(const std::string& target, const LabScope& scope) {
  if (target.find('-') == std::string::npos) return check_target(target, scope);
  return range_in(target, scope.targets, "target subnets");
}

util::Status check_lab_address_or_range(const std::string& address, const LabScope& scope) {
  if (address.find('-') == std::string::npos) return check_lab_address(address, scope);
  return range_in(address, scope.lab, "scan and targets networks");
}

util::Status check_scan_interface(const std::string& name, const LabScope& scope) {
  if (name == "{scan_interface}") return {};
  for (const auto& i : scope.scan_interfaces)
    if (i == name) return {};
  std::string known;
  for (const auto& i : scope.scan_interfaces) known += (known.empty() ? "" : ", ") + i;
  return util::fail("interface '{}' is not the scanner's scan-side interface ({}, or "
                    "{{scan_interface}}); sending from any other bypasses the router and its "
                    "capture",
                    name, known);
}

std::vector<std::string> expansion_problems(const LabScope& scope) {
  std::vector<std::string> out;
  for (const auto& t : scope.expansion)
    if (auto st = check_target(t, scope); !st) out.push_back("{targets} would give " + st.error().message);
  return out;
}

std::vector<std::string> split_list(const std::string& s, const std::string& seps) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (seps.find(c) != std::string::npos) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace testbed::scanners
