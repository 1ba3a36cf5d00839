// The per-lab host firewall's ruleset (host_firewall.h), without applying it: what it
// drops and lets through, and that nft accepts it (`nft -c`, a dry run) where nft runs.
#include "orchestrator/lab/host_firewall.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "orchestrator/util/subprocess.h"

namespace testbed::virt {
using lab::HostFirewall;
using lab::firewall_ruleset;
using lab::firewall_table;
using lab::host_firewall_applies;
namespace {

HostFirewall sample() {
  return {"lab1", "tbab12-mgmt", *util::parse_cidr("10.250.0.0/24"),
          {"tbab12-mgmt", "tbab12-scan", "tbab12-targets"}, {{"tbab12-m0", "10.250.0.3"}},
          {"tbab12-m0", "tbab12-s1"}, 42, 7};
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(HostFirewall, ForwardsNothingInOrOutOfALabBridge) {
  std::string r = firewall_ruleset(sample());
  EXPECT_TRUE(has(r, "table inet testbed-lab1 {")) << r;
  EXPECT_TRUE(has(r, "comment \"testbed lab lab1 owner 42 7\"")) << r;
  for (const char* b : {"tbab12-mgmt", "tbab12-scan", "tbab12-targets"}) {
    // Bridged within the bridge passes (br_netfilter: in == out == the bridge); any other
    // pair of devices is dropped, in both directions.
    EXPECT_TRUE(has(r, fmt::format("iifname \"{0}\" oifname != \"{0}\" counter drop", b))) << r;
    EXPECT_TRUE(has(r, fmt::format("oifname \"{0}\" iifname != \"{0}\" counter drop", b))) << r;
  }
  EXPECT_TRUE(has(r, "meta nfproto ipv6 iifname { \"tbab12-mgmt\", \"tbab12-scan\", "
                     "\"tbab12-targets\" } counter drop"))
      << r;
  EXPECT_TRUE(has(r, "policy accept")) << "the host's other traffic is not this table's business";
}

TEST(HostFirewall, OnlySshRepliesReachTheHostFromMgmt) {
  std::string r = firewall_ruleset(sample());
  auto accept = r.find("iifname \"tbab12-mgmt\" meta nfproto ipv4 ip saddr 10.250.0.0/24 tcp "
                       "sport 22 ct state established counter accept");
  auto drop = r.find("iifname { \"tbab12-mgmt\", \"tbab12-scan\", \"tbab12-targets\" } counter "
                     "drop comment \"to the host\"");
  ASSERT_NE(accept, std::string::npos) << r;
  ASSERT_NE(drop, std::string::npos) << r;
  EXPECT_LT(accept, drop) << "the accept must come first";
  EXPECT_EQ(r.find("ct state new"), std::string::npos);
}

TEST(HostFirewall, MgmtPortsSpeakWithTheirOwnAddressOnly) {
  std::string r = firewall_ruleset(sample());
  EXPECT_TRUE(has(r, "table bridge testbed-lab1 {")) << r;
  EXPECT_TRUE(has(r, "iifname \"tbab12-m0\" ether type arp arp saddr ip != { 10.250.0.3, 0.0.0.0 } "
                     "counter drop")) << r;
  EXPECT_TRUE(has(r, "iifname \"tbab12-m0\" ether type ip ip saddr != 10.250.0.3 counter drop")) << r;
  EXPECT_TRUE(has(r, "chain input")) << "ARP to the host itself too";
}

TEST(HostFirewall, TheHostSendsNoIpv6IntoTheLab) {
  // Bridges and every node port: a tap recreated by a snapshot restore starts with IPv6 on.
  const std::string r = firewall_ruleset(sample());
  const size_t out = r.find("type filter hook output");
  ASSERT_NE(out, std::string::npos) << r;
  EXPECT_NE(r.find("meta nfproto ipv6 oifname { \"tbab12-mgmt\", \"tbab12-scan\", "
                   "\"tbab12-targets\", \"tbab12-m0\", \"tbab12-s1\" } counter drop",
                   out),
            std::string::npos)
      << r;
}

TEST(HostFirewall, AppliesToLocalSystemDriversOnly) {
  EXPECT_TRUE(host_firewall_applies("lxc:///system"));
  EXPECT_TRUE(host_firewall_applies("qemu:///system"));
  EXPECT_FALSE(host_firewall_applies("test:///default"));
  EXPECT_FALSE(host_firewall_applies("qemu+ssh://h/system"));
  EXPECT_EQ(firewall_table("x-1"), "testbed-x-1");
}

TEST(HostFirewall, NftAcceptsTheRuleset) {
  if (::geteuid() != 0 || !util::have_program("nft")) GTEST_SKIP() << "needs root and nft";
  auto r = util::run_process({"nft", "-c", "-f", "-"}, {.stdin_data = firewall_ruleset(sample())});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0) << r->err;
}

}  // namespace
}  // namespace testbed::virt
