#include "orchestrator/lab/host_firewall.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/util/subprocess.h"
#include "orchestrator/virt/naming.h"

namespace testbed::lab {
using namespace testbed::virt;  // the libvirt primitives the lifecycle drives
namespace {

constexpr const char* kPrefix = "testbed-";

std::string quoted_set(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const auto& n : names) q.push_back("\"" + n + "\"");
  return "{ " + fmt::format("{}", fmt::join(q, ", ")) + " }";
}

util::Result<util::ProcessResult> nft(const std::vector<std::string>& args,
                                      const std::string& input = "") {
  std::vector<std::string> argv = {"nft"};
  argv.insert(argv.end(), args.begin(), args.end());
  util::ProcessOptions o;
  if (!input.empty()) o.stdin_data = input;
  return util::run_process(argv, o);
}

}  // namespace

std::string firewall_table(const std::string& lab) { return kPrefix + lab; }

bool host_firewall_applies(const std::string& uri) {
  return uri.rfind("lxc:///", 0) == 0 || uri.rfind("qemu:///", 0) == 0;
}

std::string firewall_ruleset(const HostFirewall& fw) {
  const std::string t = firewall_table(fw.lab);
  std::string s;
  // Create-then-delete makes the load idempotent; the whole file is one transaction.
  s += fmt::format("table inet {} {{}}\ndelete table inet {}\n", t, t);
  s += fmt::format("table inet {} {{\n", t);
  s += fmt::format("  comment \"testbed lab {} owner {} {}\"\n", fw.lab, fw.owner_pid,
                   fw.owner_start_ticks);
  // Priority before the usual filter chains; a drop here is final whatever they accept.
  s += "  chain forward {\n    type filter hook forward priority -10; policy accept;\n";
  s += fmt::format("    meta nfproto ipv6 iifname {} counter drop comment \"ipv6\"\n",
                   quoted_set(fw.bridges));
  s += fmt::format("    meta nfproto ipv6 oifname {} counter drop comment \"ipv6\"\n",
                   quoted_set(fw.bridges));
  for (const auto& b : fw.bridges) {
    // Bridged within one bridge: the lab's own traffic. Anything else in or out: dropped.
    s += fmt::format("    iifname \"{}\" oifname != \"{}\" counter drop comment \"out of {}\"\n",
                     b, b, b);
    s += fmt::format("    oifname \"{}\" iifname != \"{}\" counter drop comment \"into {}\"\n",
                     b, b, b);
  }
  s += "  }\n";
  s += "  chain output {\n    type filter hook output priority -10; policy accept;\n";
  std::vector<std::string> out_devs = fw.bridges;
  out_devs.insert(out_devs.end(), fw.node_ports.begin(), fw.node_ports.end());
  s += fmt::format("    meta nfproto ipv6 oifname {} counter drop comment \"no host ipv6\"\n",
                   quoted_set(out_devs));
  s += "  }\n";
  s += "  chain input {\n    type filter hook input priority -10; policy accept;\n";
  s += fmt::format(
      "    iifname \"{}\" meta nfproto ipv4 ip saddr {} tcp sport 22 ct state established "
      "counter accept comment \"ssh replies\"\n",
      fw.mgmt_bridge, fw.mgmt_cidr.str());
  s += fmt::format("    iifname {} counter drop comment \"to the host\"\n", quoted_set(fw.bridges));
  s += "  }\n}\n";
  // Bridge level, mgmt ports: each node speaks with its own mgmt address only.
  s += fmt::format("table bridge {} {{}}\ndelete table bridge {}\n", t, t);
  s += fmt::format("table bridge {} {{\n", t);
  for (const char* hook : {"forward", "input"}) {
    s += fmt::format("  chain {} {{\n    type filter hook {} priority -10; policy accept;\n",
                     hook, hook);
    for (const auto& [port, addr] : fw.mgmt_ports) {
      s += fmt::format(
          "    iifname \"{}\" ether type arp arp saddr ip != {{ {}, 0.0.0.0 }} counter drop "
          "comment \"arp spoof\"\n",
          port, addr);
      s += fmt::format("    iifname \"{}\" ether type ip ip saddr != {} counter drop comment "
                       "\"ip spoof\"\n",
                       port, addr);
      s += fmt::format("    iifname \"{}\" ether type ip6 counter drop comment \"ipv6\"\n", port);
    }
    s += "  }\n";
  }
  s += "}\n";
  return s;
}

util::Status install_host_firewall(const HostFirewall& fw) {
  auto r = nft({"-f", "-"}, firewall_ruleset(fw));
  if (!r) return util::fail("host firewall for lab '{}': {}", fw.lab, r.error().message);
  if (r->exit_code != 0)
    return util::fail("host firewall for lab '{}': nft -f exited {}: {} (is nftables installed? "
                      "`make setup`)",
                      fw.lab, r->exit_code, r->err);
  for (const auto& b : fw.bridges) {
    std::string p = "/proc/sys/net/ipv6/conf/" + b + "/disable_ipv6";
    if (!std::filesystem::exists(p)) continue;  // IPv6 not in this kernel: nothing to turn off
    std::ofstream f(p);
    f << "1\n";
    f.flush();
    if (!f) return util::fail("cannot turn IPv6 off on lab bridge {} ({})", b, p);
  }
  return {};
}

util::Status contain_lab(const std::string& lab, const config::Topology& topo,
                         const std::string& uri, int64_t owner_pid, int64_t owner_start_ticks,
                         const std::map<std::string, NodeInfo>& nodes) {
  if (!host_firewall_applies(uri)) return {};
  HostFirewall fw;
  const auto* mgmt = topo.network_by_role(config::NetworkRole::kMgmt);
  for (const auto& [name, info] : nodes) {
    auto dev = mgmt ? info.host_devs.find(mgmt->name) : info.host_devs.end();
    if (dev != info.host_devs.end() && !info.mgmt_address.empty())
      fw.mgmt_ports.emplace_back(dev->second, info.mgmt_address);
    for (const auto& [network, host_dev] : info.host_devs) fw.node_ports.push_back(host_dev);
  }
  fw.lab = lab;
  fw.owner_pid = owner_pid;
  fw.owner_start_ticks = owner_start_ticks;
  for (const auto& n : topo.networks) {
    fw.bridges.push_back(bridge_name(lab, n.name));
    if (n.role == config::NetworkRole::kMgmt) {
      fw.mgmt_bridge = fw.bridges.back();
      fw.mgmt_cidr = n.cidr;
    }
  }
  return install_host_firewall(fw);
}

util::Status remove_host_firewall(const std::string& lab) {
  if (!util::have_program("nft")) return {};
  for (const char* family : {"bridge", "inet"}) {
    auto r = nft({"delete", "table", family, firewall_table(lab)});
    if (!r) return util::fail("removing the host firewall of lab '{}': {}", lab, r.error().message);
    if (r->exit_code != 0 && r->err.find("No such file or directory") == std::string::npos)
      return util::fail("removing the host firewall of lab '{}': nft exited {}: {}", lab,
                        r->exit_code, r->err);
  }
  return {};
}

util::Result<std::vector<FirewallTable>> list_host_firewalls() {
  std::vector<FirewallTable> out;
  if (!util::have_program("nft")) return out;
  auto r = nft({"list", "tables", "inet"});
  if (!r) return r.error();
  if (r->exit_code != 0) return util::fail("nft list tables exited {}: {}", r->exit_code, r->err);
  std::istringstream in(r->out);
  for (std::string line; std::getline(in, line);) {
    const std::string head = std::string("table inet ") + kPrefix;
    if (line.rfind(head, 0) != 0) continue;
    FirewallTable t;
    t.lab = line.substr(head.size());
    auto one = nft({"list", "table", "inet", firewall_table(t.lab)});
    if (one && one->exit_code == 0) {
      auto c = one->out.find("comment \"testbed lab ");
      if (c != std::string::npos) {
        std::istringstream cs(one->out.substr(c + 21));
        std::string name, owner;
        cs >> name >> owner >> t.owner_pid >> t.owner_start_ticks;
      }
    }
    out.push_back(t);
  }
  return out;
}

}  // namespace testbed::lab
