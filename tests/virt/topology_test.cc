#include "orchestrator/config/topology.h"

#include <gtest/gtest.h>

namespace testbed::config {
namespace {

const char* kGood = R"(name: t
networks:
  - {name: mgmt, role: mgmt, cidr: 10.250.0.0/24, host_address: 10.250.0.1}
  - {name: scan, role: scan, cidr: 172.24.0.0/24}
  - {name: targets, role: targets, cidr: 172.24.1.0/24}
nodes:
  - name: router
    role: router
    image: router
    interfaces:
      - {network: mgmt, address: 10.250.0.2}
      - {network: scan, address: 172.24.0.1}
      - {network: targets, address: 172.24.1.1}
  - name: scanner
    role: scanner
    image: scanner-nmap-7.80
    interfaces:
      - {network: mgmt, address: 10.250.0.3}
      - {network: scan, address: 172.24.0.10}
  - name: target
    role: target
    image: target-lamp-ftp
    count: 3
    interfaces:
      - {network: mgmt, address: 10.250.0.10}
      - {network: targets, address: 172.24.1.10}
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

std::string error_of(const std::string& text) {
  auto t = parse_topology(text, "t.yaml");
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.error().message;
}

TEST(Topology, RepositoryFilesLoad) {
  for (const char* f : {"two-subnet.yaml", "two-subnet-small.yaml"}) {
    auto t = load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/" + f);
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(t->router().name, "router");
    EXPECT_EQ(t->target_subnets(), std::vector<std::string>{"172.24.1.0/24"});
  }
  auto t = load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet.yaml");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->nodes.size(), 5u);
  EXPECT_EQ(*t->network("mgmt")->host_address, *util::parse_ipv4("10.250.0.1"));
  EXPECT_FALSE(t->network("scan")->host_address);
}

TEST(Topology, CountExpandsNamesAndAddresses) {
  auto t = parse_topology(kGood, "t.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_NE(t->node("target3"), nullptr);
  EXPECT_EQ(util::format_ipv4(*t->node("target3")->address_on("targets")), "172.24.1.12");
  EXPECT_EQ(util::format_ipv4(*t->node("target3")->address_on("mgmt")), "10.250.0.12");
  EXPECT_EQ(t->node("target"), nullptr);
  EXPECT_EQ(t->router_policy.drop_to_router_from, std::vector<std::string>{"scan"});
}

TEST(Topology, ErrorsAreLocated) {
  // Unknown key with a suggestion, at its line.
  auto e = error_of(replace(kGood, "    image: router\n", "    imgae: router\n"));
  EXPECT_NE(e.find("t.yaml:9:5: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'image'"), std::string::npos) << e;
  // Overlapping subnets.
  e = error_of(replace(kGood, "cidr: 172.24.1.0/24", "cidr: 172.24.0.0/23"));
  EXPECT_NE(e.find("t.yaml:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("overlaps"), std::string::npos) << e;
}

TEST(Topology, RefusesBadShapes) {
  EXPECT_NE(
      error_of(replace(kGood, "address: 172.24.0.10}", "address: 172.24.1.20}")).find("outside"),
      std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "address: 10.250.0.3}", "address: 10.250.0.2}"))
                .find("duplicate address"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "  - name: scanner\n", "  - name: router\n"))
                .find("duplicate node name"),
            std::string::npos);
  // count 3 from .10 collides with an explicit .11.
  EXPECT_NE(error_of(replace(kGood, "address: 10.250.0.3}", "address: 10.250.0.11}"))
                .find("duplicate address"),
            std::string::npos);
  // Scanner on both scan and targets.
  EXPECT_NE(error_of(replace(kGood, "      - {network: scan, address: 172.24.0.10}\n",
                             "      - {network: scan, address: 172.24.0.10}\n"
                             "      - {network: targets, address: 172.24.1.99}\n"))
                .find("both the scan and the targets"),
            std::string::npos);
  // Node on no network.
  EXPECT_NE(error_of(replace(kGood,
                             "    image: scanner-nmap-7.80\n    interfaces:\n      - {network: "
                             "mgmt, address: 10.250.0.3}\n"
                             "      - {network: scan, address: 172.24.0.10}\n",
                             "    image: scanner-nmap-7.80\n    interfaces: []\n"))
                .find("on no network"),
            std::string::npos);
  EXPECT_NE(
      error_of(replace(kGood, "{name: scan, role: scan, cidr: 172.24.0.0/24}",
                       "{name: scan, role: scan, cidr: 172.24.0.0/24, host_address: 172.24.0.254}"))
          .find("only the mgmt network"),
      std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "{network: scan, address: 172.24.0.1}",
                             "{network: scam, address: 172.24.0.1}"))
                .find("did you mean 'scan'"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "address: 10.250.0.2}", "address: 10.250.0.1}"))
                .find("host's own address"),
            std::string::npos);
}

TEST(Topology, HostPrefixesAndOverlap) {
  const char* addr =
      R"([{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
    {"ifname":"eth0","addr_info":[{"family":"inet","local":"172.24.0.77","prefixlen":16},
                                  {"family":"inet6","local":"fe80::1","prefixlen":64}]},
    {"ifname":"tbab12-mgmt","addr_info":[{"family":"inet","local":"10.250.0.1","prefixlen":24}]}])";
  const char* route = R"([{"dst":"default","gateway":"192.168.1.1","dev":"eth0"},
    {"dst":"192.168.7.0/24","dev":"eth1","type":"unicast"},{"dst":"10.0.0.0/8","dev":"wg0"}])";
  auto p = parse_host_prefixes(addr, route, {"tbab12-mgmt"});
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->size(), 4u);  // lo, eth0, 2 routes; default and the ignored bridge skipped
  auto t = parse_topology(kGood, "t.yaml");
  ASSERT_TRUE(t.ok());
  auto s = check_against_host(*t, *p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("address 172.24.0.77/16 on eth0"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("route 10.0.0.0/8"), std::string::npos) << s.error().message;
  EXPECT_TRUE(check_against_host(*t, {}).ok());
  EXPECT_FALSE(parse_host_prefixes("[", "[]").ok());
}

}  // namespace
}  // namespace testbed::config
