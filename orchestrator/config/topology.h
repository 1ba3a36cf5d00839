#pragma once
// A lab topology file (topology/*.yaml): networks, nodes and the router's policy.
// Everything that can be checked from the file alone is checked by load_topology();
// the checks that need the host (image cache, host addresses/routes) are separate
// functions run by `lab up` before anything is created. See topology/two-subnet.yaml.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/util/ipv4.h"
#include "orchestrator/util/result.h"

namespace testbed::config {

enum class NetworkRole { kMgmt, kScan, kTargets };
enum class NodeRole { kRouter, kScanner, kTarget };

const char* to_string(NetworkRole r);
const char* to_string(NodeRole r);

struct TopologyNetwork {
  std::string name;  ///< e.g. "scan"; [a-z][a-z0-9]{0,7}
  NetworkRole role = NetworkRole::kScan;
  util::Cidr cidr;
  /// The host's own address on this network. Only the mgmt network has one (the host
  /// reaches nodes over SSH there); scan/targets never do (safety).
  std::optional<uint32_t> host_address;
  std::string where;  ///< file:line:col of the definition, for later messages
};

struct TopologyInterface {
  std::string network;   ///< a TopologyNetwork::name
  uint32_t address = 0;  ///< host byte order
};

struct TopologyNode {
  std::string name;  ///< [a-z][a-z0-9-]{0,15}; `count:` expansions end in 1..N
  NodeRole role = NodeRole::kTarget;
  std::string image;                          ///< image recipe name (images::find_image)
  std::vector<TopologyInterface> interfaces;  ///< in file order; the mgmt one first
  std::string where;

  /// The address on `network`, if the node has an interface there.
  std::optional<uint32_t> address_on(const std::string& network) const;
};

/// What the router does besides forwarding between scan and targets.
struct RouterPolicy {
  /// Drop traffic addressed to the router itself that arrives from these networks
  /// (forwarded traffic and the router's ICMP errors are unaffected).
  std::vector<std::string> drop_to_router_from = {"scan"};
  /// Lab DNS (dnsmasq on the router, no upstream): names and PTR records of every
  /// node. The scanner's resolv.conf points to the router's address on `dns_network`.
  bool dns = true;
  std::string dns_network = "scan";
};

struct Topology {
  std::string file;  ///< path as given
  std::string name;
  std::vector<TopologyNetwork> networks;
  std::vector<TopologyNode> nodes;  ///< after `count:` expansion
  RouterPolicy router_policy;

  const TopologyNetwork* network(const std::string& name) const;
  const TopologyNetwork* network_by_role(NetworkRole role) const;
  const TopologyNode* node(const std::string& name) const;
  /// The single router node (validation guarantees exactly one).
  const TopologyNode& router() const;
  /// Subnets of the targets networks as "a.b.c.d/n".
  std::vector<std::string> target_subnets() const;
};

/// Loads and validates a topology file. Every problem is reported (one per line) as
/// "file:line:col: message": schema errors, unknown keys, overlapping subnets, duplicate
/// names/addresses, addresses outside their network, a node on no network, a non-router
/// node on both scan and targets, missing mgmt interface, not exactly one router.
util::Result<Topology> load_topology(const std::string& path);
/// Same from YAML text; `name` stands for the file in messages.
util::Result<Topology> parse_topology(const std::string& text, const std::string& name);

/// A host address or route, as read from `ip -j addr` / `ip -j route`.
struct HostPrefix {
  std::string what;  ///< e.g. "address 192.168.1.5/24 on eth0", "route 10.0.0.0/8 via eth1"
  util::Cidr cidr;
};

/// Parses the JSON of `ip -j addr` and `ip -j route` (IPv4 entries; the default route is
/// skipped, it overlaps everything by definition). Interfaces named in `ignore_devs`
/// (a lab's own bridges when it is re-checked) are skipped.
util::Result<std::vector<HostPrefix>> parse_host_prefixes(
    const std::string& addr_json, const std::string& route_json,
    const std::vector<std::string>& ignore_devs = {});
/// Runs `ip -j addr` and `ip -j route` and parses them.
util::Result<std::vector<HostPrefix>> read_host_prefixes(
    const std::vector<std::string>& ignore_devs = {});
/// Standard output of argv, run wherever the caller says (e.g. on a remote lab host).
using CommandOutput =
    std::function<util::Result<std::string>(const std::vector<std::string>& argv)>;
/// read_host_prefixes with the two `ip -j` commands run by `run`.
util::Result<std::vector<HostPrefix>> read_host_prefixes(
    const CommandOutput& run, const std::vector<std::string>& ignore_devs = {});

/// Refuses a topology whose subnets overlap any of the host's addresses or routes
/// (the lab would hijack or shadow host traffic). Checked at `lab up`.
util::Status check_against_host(const Topology& topo, const std::vector<HostPrefix>& host);

}  // namespace testbed::config
