#include "orchestrator/scanners/scope.h"

#include <fmt/format.h>

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

}  // namespace testbed::scanners
