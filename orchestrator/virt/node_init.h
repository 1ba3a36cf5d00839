#pragma once
// What a node finds in its root at boot, generated on the host (pure text, golden-tested):
// the init script run under tini as PID 1's child, /testbed/node.env, the lab DNS hosts
// file, resolv.conf and hosts. Written into the node's overlay upper dir before boot.
#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/config/topology.h"

namespace testbed::virt {

struct BootInterface {
  std::string dev;      ///< name inside the node (the network's name)
  std::string network;  ///< topology network name
  config::NetworkRole role;
  uint32_t address = 0;
  int prefix = 24;
};

struct BootRoute {
  util::Cidr dst;
  uint32_t via = 0;
  std::string dev;
};

/// Everything the init script needs for one node.
struct BootConfig {
  std::string lab;
  std::string node;
  config::NodeRole role = config::NodeRole::kTarget;
  std::vector<BootInterface> interfaces;  ///< mgmt first
  std::vector<BootRoute> routes;          ///< only to the other lab subnet, via the router
  uint32_t mgmt_address = 0;
  // Router only:
  std::vector<std::string> drop_input_devs;  ///< traffic to the router itself from these is dropped
  std::vector<std::string> forward_devs;     ///< forwarding allowed only between these
  std::string dns_dev;  ///< dnsmasq reachable on this dev (exempt from the drop)
  uint32_t dns_address = 0;
};

/// Derives the boot configuration of `node` from the topology.
BootConfig make_boot_config(const config::Topology& topo, const std::string& lab,
                            const config::TopologyNode& node);

/// The init script (/testbed/init.sh). It configures addresses and routes, the router's
/// forwarding and firewall, starts sshd on the mgmt address only with the pre-generated
/// host key, runs /testbed/services.sh if present, then marks /run/testbed/booted
/// (and /run/testbed/failed with the reason on failure) and sleeps; tini reaps.
std::string make_init_script(const BootConfig& c);
/// /testbed/node.env: NODE_NAME, NODE_ROLE, LAB_NAME, NODE_ADDR, <NET>_ADDR per interface.
std::string make_node_env(const BootConfig& c);
/// Hosts-file lines for the lab DNS: every node's non-mgmt addresses as <node>.lab <node>.
std::string make_lab_hosts(const config::Topology& topo);
/// resolv.conf: the scanner uses the router's DNS address; others get none (no leaks).
std::string make_resolv_conf(const config::Topology& topo, const config::TopologyNode& node);

/// The argv of PID 1 inside an LXC node.
std::vector<std::string> lxc_init_argv();

}  // namespace testbed::virt
