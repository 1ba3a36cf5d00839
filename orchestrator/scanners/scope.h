#pragma once
// What a scanner command may name: the lab's addresses and interfaces, from the topology.
// Every scanner kind's guard (registry.h) checks the hosts its command names against this.
#include <string>
#include <vector>

#include "orchestrator/config/topology.h"
#include "orchestrator/util/ipv4.h"
#include "orchestrator/util/result.h"

namespace testbed::scanners {

struct LabScope {
  /// The targets networks: what may be scanned (targets, exclusions, FTP relay, zombie).
  std::vector<util::Cidr> targets;
  /// The scan and targets networks: what other options may name (source, decoys, DNS
  /// servers, proxies). Never the mgmt network, the only one the host has an address on.
  std::vector<util::Cidr> lab;
  /// The scanner node's interfaces on scan networks (named after the network), for -e.
  std::vector<std::string> scan_interfaces;
  /// What {targets} becomes: the experiment's `targets`, else the target subnets.
  std::vector<std::string> expansion;
};

/// The scope of a lab built from `topo`, scanning `targets` (empty: its target subnets).
LabScope scope_of(const config::Topology& topo, const std::vector<std::string>& targets = {});

/// A target specification that lies entirely in one of the scope's targets networks: an
/// IPv4 address or CIDR block. Host names, ranges and IPv6 are refused (they would be
/// resolved or expanded outside the guard's sight).
util::Status check_target(const std::string& target, const LabScope& scope);
/// An address (no block) in the scope's lab networks.
util::Status check_lab_address(const std::string& address, const LabScope& scope);
/// A target specification that may also be a range "a.b.c.d-e.f.g.h" (masscan): both ends
/// and everything between in one targets network. Lists (a,b) are split by the caller.
util::Status check_target_or_range(const std::string& target, const LabScope& scope);
/// The same for source addresses (masscan --adapter-ip 172.24.0.10-172.24.0.12): in the
/// lab's scan and targets networks.
util::Status check_lab_address_or_range(const std::string& address, const LabScope& scope);
/// An interface name the scanner may send from: a scan-side interface or {scan_interface}.
util::Status check_scan_interface(const std::string& name, const LabScope& scope);

/// Why {targets} would leave the lab: one message per expansion target outside it.
std::vector<std::string> expansion_problems(const LabScope& scope);

/// Splits a list on any of `seps`, dropping empty pieces.
std::vector<std::string> split_list(const std::string& s, const std::string& seps);

/// "172.24.0.0/24, 172.24.1.0/24"
std::string describe(const std::vector<util::Cidr>& nets);

}  // namespace testbed::scanners
