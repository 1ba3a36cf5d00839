#include "orchestrator/config/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <map>
#include <set>

#include "orchestrator/config/yaml_reader.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::config {

namespace {

bool valid_name(const std::string& s, size_t max_len, bool allow_dash) {
  if (s.empty() || s.size() > max_len || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (allow_dash && c == '-');
  });
}

struct RawInterface {
  std::string network;
  std::string address;
  YAML::Node node;
};

}  // namespace

const char* to_string(NetworkRole r) {
  switch (r) {
    case NetworkRole::kMgmt:
      return "mgmt";
    case NetworkRole::kScan:
      return "scan";
    case NetworkRole::kTargets:
      return "targets";
  }
  return "?";
}

const char* to_string(NodeRole r) {
  switch (r) {
    case NodeRole::kRouter:
      return "router";
    case NodeRole::kScanner:
      return "scanner";
    case NodeRole::kTarget:
      return "target";
  }
  return "?";
}

std::optional<uint32_t> TopologyNode::address_on(const std::string& network) const {
  for (const auto& i : interfaces)
    if (i.network == network) return i.address;
  return std::nullopt;
}

const TopologyNetwork* Topology::network(const std::string& n) const {
  for (const auto& x : networks)
    if (x.name == n) return &x;
  return nullptr;
}

const TopologyNetwork* Topology::network_by_role(NetworkRole role) const {
  for (const auto& x : networks)
    if (x.role == role) return &x;
  return nullptr;
}

const TopologyNode* Topology::node(const std::string& n) const {
  for (const auto& x : nodes)
    if (x.name == n) return &x;
  return nullptr;
}

const TopologyNode& Topology::router() const {
  for (const auto& x : nodes)
    if (x.role == NodeRole::kRouter) return x;
  assert(false && "validated topologies have a router");
  return nodes.front();
}

std::vector<std::string> Topology::target_subnets() const {
  std::vector<std::string> out;
  for (const auto& n : networks)
    if (n.role == NetworkRole::kTargets) out.push_back(n.cidr.str());
  return out;
}

namespace {

util::Result<Topology> read_topology(const std::string& text, const std::string& file) {
  auto root = load_yaml_string(text, file);
  if (!root) return root.error();
  Diagnostics d;
  Topology t;
  t.file = file;
  MapReader r(*root, file, "topology", &d);
  if (!r.valid())
    return d.status().ok() ? util::fail("{}: the topology must be a mapping", file)
                           : util::Result<Topology>(d.status().error());
  r.get("name", &t.name, true);
  if (r.has("name") && !valid_name(t.name, 24, true))
    r.error_at("name", fmt::format("lab name '{}' must match [a-z][a-z0-9-]{{0,23}}", t.name));

  if (!r.has("networks"))
    r.error_at("networks",
               "topology needs key 'networks' (one mgmt, one scan, one targets network)");
  if (!r.has("nodes"))
    r.error_at("nodes", "topology needs key 'nodes' (a router, a scanner and the targets)");

  // --- networks
  std::map<std::string, YAML::Node> net_nodes;
  std::set<std::string> bad_cidr;  // networks whose cidr was refused (already reported)
  for_each_item(r.child("networks"), file, "'networks'", &d, [&](const YAML::Node& n, size_t i) {
    MapReader nr(n, file, fmt::format("networks[{}]", i), &d);
    if (!nr.valid()) return;
    TopologyNetwork net;
    net.where = where(file, n.Mark());
    std::string role, cidr, host;
    nr.get("name", &net.name, true);
    nr.get_enum("role", &role, {"mgmt", "scan", "targets"}, true);
    nr.get("cidr", &cidr, true);
    nr.get("host_address", &host);
    nr.finish();
    if (!net.name.empty() && !valid_name(net.name, 8, false))
      nr.error_at("name",
                  fmt::format("network name '{}' must match [a-z][a-z0-9]{{0,7}}", net.name));
    if (net_nodes.count(net.name))
      nr.error_at("name", fmt::format("duplicate network name '{}'", net.name));
    net.role = role == "mgmt"      ? NetworkRole::kMgmt
               : role == "targets" ? NetworkRole::kTargets
                                   : NetworkRole::kScan;
    if (!cidr.empty()) {
      auto c = util::parse_cidr(cidr, true);
      bool bad = true;
      if (!c || cidr.find('/') == std::string::npos)
        nr.error_at(
            "cidr",
            fmt::format("'{}' is not a network in CIDR form (a.b.c.d/n, host bits zero)", cidr));
      else if (c->prefix < 8 || c->prefix > 29)
        nr.error_at("cidr",
                    fmt::format("prefix /{} of '{}' must be between /8 and /29", c->prefix, cidr));
      else {
        net.cidr = *c;
        bad = false;
      }
      if (bad) bad_cidr.insert(net.name);
    }
    if (nr.has("host_address")) {
      auto a = util::parse_ipv4(host);
      if (net.role != NetworkRole::kMgmt)
        nr.error_at(
            "host_address",
            fmt::format("only the mgmt network may have a host address (network '{}' is {})",
                        net.name, role));
      else if (!a)
        nr.error_at("host_address", fmt::format("'{}' is not an IPv4 address", host));
      else if (!net.cidr.contains(*a) || *a == net.cidr.first() || *a == net.cidr.last())
        nr.error_at("host_address", fmt::format("host address {} is not a host address of {}", host,
                                                net.cidr.str()));
      else
        net.host_address = *a;
    } else if (net.role == NetworkRole::kMgmt) {
      nr.error_at("host_address",
                  "the mgmt network needs a host_address (the host reaches nodes over SSH there)");
    }
    net_nodes[net.name] = n;
    t.networks.push_back(net);
  });
  for (NetworkRole role : {NetworkRole::kMgmt, NetworkRole::kScan, NetworkRole::kTargets}) {
    int count = 0;
    for (const auto& n : t.networks) count += n.role == role;
    if (count != 1 && !t.networks.empty())
      r.error_at("networks",
                 fmt::format("exactly one network with role '{}' is required (found {})",
                             to_string(role), count));
  }
  for (size_t i = 0; i < t.networks.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (t.networks[i].cidr.prefix != 32 && t.networks[i].cidr.overlaps(t.networks[j].cidr))
        d.error(file, net_nodes[t.networks[i].name].Mark(),
                fmt::format("subnet {} of network '{}' overlaps {} of network '{}'",
                            t.networks[i].cidr.str(), t.networks[i].name, t.networks[j].cidr.str(),
                            t.networks[j].name));

  // --- nodes (with count: expansion)
  std::map<std::string, std::string> names;   // node name -> where
  std::map<uint32_t, std::string> addresses;  // address -> "node on network"
  for_each_item(r.child("nodes"), file, "'nodes'", &d, [&](const YAML::Node& n, size_t i) {
    MapReader nr(n, file, fmt::format("nodes[{}]", i), &d);
    if (!nr.valid()) return;
    std::string name, role, image;
    int count = 0;
    nr.get("name", &name, true);
    nr.get_enum("role", &role, {"router", "scanner", "target"}, true);
    nr.get("image", &image, true);
    bool has_count = nr.get("count", &count);
    std::vector<RawInterface> raw;
    for_each_item(nr.child("interfaces"), file, fmt::format("nodes[{}].interfaces", i), &d,
                  [&](const YAML::Node& in, size_t k) {
                    MapReader ir(in, file, fmt::format("nodes[{}].interfaces[{}]", i, k), &d);
                    if (!ir.valid()) return;
                    RawInterface ri;
                    ri.node = in;
                    ir.get("network", &ri.network, true);
                    ir.get("address", &ri.address, true);
                    ir.finish();
                    raw.push_back(ri);
                  });
    nr.finish();
    if (!name.empty() && !valid_name(name, 14, true))
      nr.error_at("name", fmt::format("node name '{}' must match [a-z][a-z0-9-]{{0,13}}", name));
    if (has_count && (count < 1 || count > 200)) {
      nr.error_at("count", fmt::format("count {} must be between 1 and 200", count));
      return;
    }
    if (has_count && role != "target") nr.error_at("count", "only target nodes may have a count");
    if (raw.empty() && n["interfaces"].IsDefined() == false) return;  // already reported
    if (raw.empty()) {
      nr.error_at("interfaces", fmt::format("node '{}' is on no network", name));
      return;
    }
    NodeRole nrole = role == "router"    ? NodeRole::kRouter
                     : role == "scanner" ? NodeRole::kScanner
                                         : NodeRole::kTarget;
    // Interface checks independent of the copy index.
    std::set<NetworkRole> roles;
    std::set<std::string> seen_nets;
    bool bad = false;
    for (size_t k = 0; k < raw.size(); ++k) {
      const auto* net = t.network(raw[k].network);
      if (!net) {
        std::vector<std::string> known;
        for (const auto& x : t.networks) known.push_back(x.name);
        std::string near = nearest(raw[k].network, known);
        nr.error_node(raw[k].node["network"],
                      fmt::format("unknown network '{}'{}", raw[k].network,
                                  near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
        bad = true;
        continue;
      }
      if (!seen_nets.insert(net->name).second) {
        nr.error_node(raw[k].node,
                      fmt::format("node '{}' has two interfaces on network '{}'", name, net->name));
        bad = true;
      }
      if (k == 0 && net->role != NetworkRole::kMgmt) {
        nr.error_node(
            raw[k].node,
            fmt::format("the first interface of node '{}' must be on the mgmt network", name));
        bad = true;
      }
      roles.insert(net->role);
      if (!util::parse_ipv4(raw[k].address)) {
        nr.error_node(raw[k].node["address"],
                      fmt::format("'{}' is not an IPv4 address", raw[k].address));
        bad = true;
      }
    }
    if (!roles.count(NetworkRole::kMgmt)) {
      nr.error_at("interfaces",
                  fmt::format("node '{}' has no interface on the mgmt network", name));
      bad = true;
    }
    if (nrole != NodeRole::kRouter && roles.count(NetworkRole::kScan) &&
        roles.count(NetworkRole::kTargets)) {
      nr.error_at(
          "interfaces",
          fmt::format("node '{}' is on both the scan and the targets network; only the router "
                      "may join them",
                      name));
      bad = true;
    }
    if (nrole == NodeRole::kRouter &&
        !(roles.count(NetworkRole::kScan) && roles.count(NetworkRole::kTargets))) {
      nr.error_at("interfaces",
                  "the router must have an interface on the scan and on the targets network");
      bad = true;
    }
    if (nrole == NodeRole::kScanner && !roles.count(NetworkRole::kScan)) {
      nr.error_at("interfaces",
                  fmt::format("scanner '{}' has no interface on the scan network", name));
      bad = true;
    }
    if (nrole == NodeRole::kTarget && !roles.count(NetworkRole::kTargets)) {
      nr.error_at("interfaces",
                  fmt::format("target '{}' has no interface on the targets network", name));
      bad = true;
    }
    if (bad) return;
    int copies = has_count ? count : 1;
    for (int c = 0; c < copies; ++c) {
      TopologyNode node;
      node.name = has_count ? fmt::format("{}{}", name, c + 1) : name;
      node.role = nrole;
      node.image = image;
      node.where = where(file, n.Mark());
      if (names.count(node.name)) {
        nr.error_at("name", fmt::format("duplicate node name '{}' (first defined at {})", node.name,
                                        names[node.name]));
        return;
      }
      names[node.name] = node.where;
      for (const auto& ri : raw) {
        const auto* net = t.network(ri.network);
        if (bad_cidr.count(net->name)) continue;  // no range to check against
        uint32_t a = *util::parse_ipv4(ri.address) + static_cast<uint32_t>(c);
        std::string as = util::format_ipv4(a);
        std::string what = fmt::format("node '{}' on network '{}'", node.name, net->name);
        if (!net->cidr.contains(a) || a == net->cidr.first() || a == net->cidr.last()) {
          nr.error_node(ri.node["address"],
                        fmt::format("address {} of {} is outside the host range of {}", as, what,
                                    net->cidr.str()));
          continue;
        }
        if (net->host_address && *net->host_address == a) {
          nr.error_node(ri.node["address"],
                        fmt::format("address {} of {} is the host's own address", as, what));
          continue;
        }
        if (addresses.count(a)) {
          nr.error_node(ri.node["address"],
                        fmt::format("duplicate address {}: {} and {}", as, addresses[a], what));
          continue;
        }
        addresses[a] = what;
        node.interfaces.push_back({net->name, a});
      }
      t.nodes.push_back(node);
    }
  });
  int routers = 0, scanners = 0;
  for (const auto& n : t.nodes) {
    routers += n.role == NodeRole::kRouter;
    scanners += n.role == NodeRole::kScanner;
  }
  // error_at: located at 'nodes', or at the whole map when the key is missing.
  if (d.empty() && routers != 1)
    r.error_at("nodes", fmt::format("exactly one router node is required (found {})", routers));
  if (d.empty() && scanners < 1) r.error_at("nodes", "at least one scanner node is required");

  // --- router policy
  if (YAML::Node rp = r.child("router")) {
    MapReader pr(rp, file, "router", &d);
    if (pr.valid()) {
      if (YAML::Node fw = pr.child("firewall")) {
        MapReader fr(fw, file, "router.firewall", &d);
        if (fr.valid()) {
          fr.get("drop_to_router_from", &t.router_policy.drop_to_router_from);
          fr.finish();
          for (const auto& net : t.router_policy.drop_to_router_from)
            if (!t.network(net) && !t.networks.empty())
              fr.error_at("drop_to_router_from", fmt::format("unknown network '{}'", net));
        }
      }
      if (YAML::Node dns = pr.child("dns")) {
        MapReader dr(dns, file, "router.dns", &d);
        if (dr.valid()) {
          dr.get("enabled", &t.router_policy.dns);
          dr.get("network", &t.router_policy.dns_network);
          dr.finish();
          const auto* net = t.network(t.router_policy.dns_network);
          if (!net && !t.networks.empty())
            dr.error_at("network",
                        fmt::format("unknown network '{}'", t.router_policy.dns_network));
          else if (net && net->role == NetworkRole::kTargets)
            dr.error_at(
                "network",
                "the lab DNS must be served on the scan or mgmt network (the scanner's side)");
        }
      }
      pr.finish();
    }
  }
  r.finish();
  if (!d.empty()) return d.status().error();
  return t;
}

}  // namespace

util::Result<Topology> parse_topology(const std::string& text, const std::string& file) {
  return guard_loader<Topology>(file, [&] { return read_topology(text, file); });
}

util::Result<Topology> load_topology(const std::string& path) {
  auto root = load_yaml_file(path);  // for the located syntax error
  if (!root) return root.error();
  auto text = [&]() -> util::Result<std::string> {
    FILE* f = fopen(path.c_str(), "rb");
    if (!f) return util::fail("cannot read topology file {}", path);
    std::string s;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
    fclose(f);
    return s;
  }();
  if (!text) return text.error();
  return parse_topology(*text, path);
}

util::Result<std::vector<HostPrefix>> parse_host_prefixes(
    const std::string& addr_json, const std::string& route_json,
    const std::vector<std::string>& ignore_devs) {
  // JSON is YAML: yaml-cpp reads `ip -j` output without another dependency.
  std::vector<HostPrefix> out;
  auto ignored = [&](const std::string& dev) {
    return std::find(ignore_devs.begin(), ignore_devs.end(), dev) != ignore_devs.end();
  };
  try {
    YAML::Node a = YAML::Load(addr_json);
    for (const auto& link : a) {
      std::string dev = link["ifname"].as<std::string>("");
      if (ignored(dev)) continue;
      for (const auto& ai : link["addr_info"]) {
        if (ai["family"].as<std::string>("") != "inet") continue;
        std::string local = ai["local"].as<std::string>("");
        int prefix = ai["prefixlen"].as<int>(32);
        auto c = util::parse_cidr(fmt::format("{}/{}", local, prefix));
        if (!c) continue;
        c->network &= c->mask();
        out.push_back({fmt::format("address {}/{} on {}", local, prefix, dev), *c});
      }
    }
    YAML::Node r = YAML::Load(route_json);
    for (const auto& route : r) {
      std::string dst = route["dst"].as<std::string>("");
      std::string dev = route["dev"].as<std::string>("");
      if (dst.empty() || dst == "default" || ignored(dev)) continue;
      if (route["type"] && route["type"].as<std::string>("") != "unicast") continue;
      auto c = util::parse_cidr(dst);
      if (!c) continue;
      c->network &= c->mask();
      out.push_back({fmt::format("route {} on {}", dst, dev.empty() ? "?" : dev), *c});
    }
  } catch (const YAML::Exception& e) {
    return util::fail("cannot parse the output of `ip -j addr`/`ip -j route`: {}", e.what());
  }
  return out;
}

util::Result<std::vector<HostPrefix>> read_host_prefixes(
    const CommandOutput& run, const std::vector<std::string>& ignore_devs) {
  auto a = run({"ip", "-j", "-4", "addr", "show"});
  if (!a) return a.error();
  auto r = run({"ip", "-j", "-4", "route", "show", "table", "all"});
  if (!r) return r.error();
  return parse_host_prefixes(*a, *r, ignore_devs);
}

util::Result<std::vector<HostPrefix>> read_host_prefixes(
    const std::vector<std::string>& ignore_devs) {
  return read_host_prefixes(
      [](const std::vector<std::string>& argv) -> util::Result<std::string> {
        auto r = util::run_checked(argv);
        if (!r) return r.error();
        return r->out;
      },
      ignore_devs);
}

util::Status check_against_host(const Topology& topo, const std::vector<HostPrefix>& host) {
  std::string problems;
  for (const auto& net : topo.networks)
    for (const auto& h : host) {
      if (h.cidr.prefix == 32 && (h.cidr.network >> 24) == 127) continue;
      if (net.cidr.overlaps(h.cidr))
        problems += fmt::format(
            "{}: subnet {} of network '{}' overlaps the host's {}; choose another subnet\n",
            net.where, net.cidr.str(), net.name, h.what);
    }
  if (!problems.empty()) {
    problems.pop_back();
    return util::Error{problems};
  }
  return {};
}

}  // namespace testbed::config
