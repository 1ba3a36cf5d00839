#pragma once
// Containment on the lab host: one nftables table per lab, `inet testbed-<lab>`, so that
// whatever root inside a node does (a default route via the host, frames to a bridge's
// MAC, spoofed sources, IPv6), nothing entering from a lab bridge is forwarded anywhere,
// and on the mgmt bridge only the replies of the host's own SSH sessions reach the host.
// IPv6 is off on every lab bridge. Frames bridged within one bridge (the lab's own
// traffic, which br_netfilter shows to the inet forward hook with the bridge as both
// input and output device) pass.
//
// On the mgmt bridge, a second table (`bridge testbed-<lab>`) pins each node's port to its
// own mgmt address (IPv4 source and ARP sender), and drops IPv6 frames from the ports.
//
// Created by `Lab::up` right after the networks, removed by `Lab::destroy` (lab down) and
// by `collect_garbage` for a killed owner. Local lab hosts only (lxc:///, qemu:///).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/config/topology.h"
#include "orchestrator/util/ipv4.h"
#include "orchestrator/util/result.h"
#include "orchestrator/lab/lab.h"

namespace testbed::lab {

struct HostFirewall {
  std::string lab;
  std::string mgmt_bridge;             ///< the only bridge with a host address
  util::Cidr mgmt_cidr;                ///< replies come from node addresses here
  std::vector<std::string> bridges;    ///< every bridge of the lab, mgmt included
  /// Each node's host-side port on the mgmt bridge and its mgmt address: frames from a
  /// port must carry that address (IPv4 and ARP), so root in a node cannot claim the
  /// host's or another node's mgmt address (table `bridge testbed-<lab>`).
  std::vector<std::pair<std::string, std::string>> mgmt_ports;
  /// Every node's host-side device (veth or tap) on every lab network: the host sends no
  /// IPv6 out of them or the bridges (a tap that QEMU recreates on a snapshot restore
  /// starts with IPv6 on and speaks link-local until lab.cc turns it off).
  std::vector<std::string> node_ports;
  int64_t owner_pid = 0;               ///< recorded in the table's comment, for gc
  int64_t owner_start_ticks = 0;
};

/// "testbed-<lab>".
std::string firewall_table(const std::string& lab);
/// Whether labs on `uri` get a host firewall here: the local system drivers.
bool host_firewall_applies(const std::string& uri);
/// The `nft -f` script that (re)creates the lab's table, atomically.
std::string firewall_ruleset(const HostFirewall& fw);
/// Loads the table (nft -f -) and turns IPv6 off on every bridge (which must exist).
util::Status install_host_firewall(const HostFirewall& fw);
/// Deletes the lab's tables. Idempotent; "" nft missing = nothing to remove.
util::Status remove_host_firewall(const std::string& lab);

/// What Lab::up calls once the networks exist: the table and IPv6 off for lab `lab` of
/// `topo` on `uri` (nothing for a remote or test URI).
/// `nodes` gives each node's host-side mgmt port and mgmt address.
util::Status contain_lab(const std::string& lab, const config::Topology& topo,
                         const std::string& uri, int64_t owner_pid, int64_t owner_start_ticks,
                         const std::map<std::string, NodeInfo>& nodes);

struct FirewallTable {
  std::string lab;
  int64_t owner_pid = 0;
  int64_t owner_start_ticks = 0;
};
/// The lab tables on this host (from `nft list tables` and each table's comment). Empty
/// when nft is not installed.
util::Result<std::vector<FirewallTable>> list_host_firewalls();

}  // namespace testbed::lab
