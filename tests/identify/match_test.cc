// Learning and matching on synthetic traits: the answer is the set of versions the present
// traits allow, absent service traits rule nothing out, unseen versions come out unknown,
// indistinguishable versions form a group.
#include <gtest/gtest.h>

#include "orchestrator/identify/identify.h"
#include "tests/identify/synthetic.h"

namespace testbed::identify {
namespace {

using testing::ptrs;
using testing::run_of;
using testing::traits_of;

// Three releases. 1.0 probes port 3007, 2.0 and 3.0 port 5985 instead; each has its own TLS
// ClientHello (only where a service draws it); 3.0 also sends a UDP probe to 1434. A
// per-run random trait (udp-hi) is noise.
std::vector<std::string> keys_of(const std::string& v, int rep, bool tls = true, bool udp = true) {
  std::vector<std::string> k = {"syn|syn w=1024 o=M1460 ttl=64", "ports|port 80", "ports|port 22",
                                "ttl|ttl range=32-64", "ipid|ipid varies",
                                "udp-hi|udp high-port #r" + v + std::to_string(rep)};
  k.push_back(v == "1.0" ? "ports|port 3007" : "ports|port 5985");
  if (udp) k.push_back("udp|dns flags=0100 qd=1 qtype=12");
  if (udp && v == "3.0") k.push_back("udp|udp 1434 len=1 #02");
  if (tls) k.push_back("tls|tls-hello v=0303 ciphers=" + v);
  return k;
}

std::vector<LabelledRun> atlas(const std::vector<std::string>& versions) {
  std::vector<LabelledRun> runs;
  for (auto& v : versions)
    for (int rep = 1; rep <= 3; ++rep) runs.push_back(run_of("nmap", v, rep, keys_of(v, rep)));
  runs.push_back(run_of("zmap", "zmap", 1, {"syn|syn w=65535 o=- ttl=255", "ipid|ipid const=54321", "ports|port 80"}));
  runs.push_back(run_of("zmap", "zmap", 2, {"syn|syn w=65535 o=- ttl=255", "ipid|ipid const=54321", "ports|port 80"}));
  return runs;
}

TEST(Match, EveryTraitPresentNamesOneVersion) {
  auto runs = atlas({"1.0", "2.0", "3.0"});
  Model m = train(ptrs(runs));
  ASSERT_EQ(m.versions.at("nmap").labels, (std::vector<std::string>{"1.0", "2.0", "3.0"}));
  EXPECT_TRUE(m.versions.at("nmap").groups.empty());
  for (std::string v : {"1.0", "2.0", "3.0"}) {
    auto id = identify(m, traits_of(keys_of(v, 9)), "c");
    EXPECT_EQ(id.summary(), "nmap " + v);
    ASSERT_TRUE(id.version);
    EXPECT_DOUBLE_EQ(id.version->score, 1.0);
  }
  auto z = identify(m, traits_of({"syn|syn w=65535 o=- ttl=255", "ipid|ipid const=54321", "ports|port 80"}), "z");
  EXPECT_EQ(z.summary(), "zmap");
  EXPECT_FALSE(z.version);  // one version: nothing more to say
}

TEST(Match, AbsentServiceTraitsGiveTheSetTheyCannotSeparate) {
  auto runs = atlas({"1.0", "2.0", "3.0"});
  Model m = train(ptrs(runs));
  // 3.0 against targets that draw no TLS and no UDP: port 5985 rules out 1.0; nothing here
  // separates 2.0 from 3.0, so the answer names both and says what was absent.
  auto id = identify(m, traits_of(keys_of("3.0", 9, false, false)), "c");
  ASSERT_TRUE(id.version);
  EXPECT_EQ(id.version->labels, (std::vector<std::string>{"2.0", "3.0"}));
  EXPECT_EQ(id.version->display, "2.0–3.0 (2.0, 3.0)");
  EXPECT_EQ(id.version->absent_families, (std::vector<std::string>{"tls", "udp"}));
  bool port_evidence = false;
  for (auto& e : id.version->ruled_out)
    port_evidence |= e.trait == "ports|port 5985" && e.labels == std::vector<std::string>{"1.0"};
  EXPECT_TRUE(port_evidence);
  // With the UDP family present but no 1434 probe, 3.0 is ruled out: a probe trait it sends
  // in every run is missing.
  auto b = identify(m, traits_of(keys_of("2.0", 9, false, true)), "c");
  EXPECT_EQ(b.version->labels, (std::vector<std::string>{"2.0"}));
}

TEST(Match, AVersionTheModelNeverSawIsUnknown) {
  auto runs = atlas({"1.0", "2.0"});
  Model m = train(ptrs(runs));
  // 3.0 sends a UDP probe and a SYN shape no known version sends (deterministic families).
  auto k = keys_of("3.0", 1);
  k.push_back("syn|syn w=4096 o=M1460 ttl=64");
  auto id = identify(m, traits_of(k), "c");
  ASSERT_TRUE(id.version);
  EXPECT_TRUE(id.version->unknown);
  EXPECT_EQ(id.version->display, "unknown");
  EXPECT_EQ(id.version->nearest, (std::vector<std::string>{"2.0"}));
  EXPECT_GE(id.version->novel.size(), 2u);
}

TEST(Match, NothingKnownIsUnknown) {
  auto runs = atlas({"1.0", "2.0"});
  Model m = train(ptrs(runs));
  auto id = identify(m, traits_of({"icmp|icmp 8/0 len=56 #deadbeef"}), "c");
  EXPECT_TRUE(id.kind.unknown);
  EXPECT_EQ(id.summary(), "unknown");
}

TEST(Match, IdenticalVersionsFormAGroup) {
  auto runs = atlas({"1.0", "2.0"});
  for (int rep = 1; rep <= 3; ++rep) {
    auto k = keys_of("2.0", rep);
    k.back() = "tls|tls-hello v=0303 ciphers=2.0";
    runs.push_back(run_of("nmap", "2.1", rep, k));
  }
  Model m = train(ptrs(runs));
  const auto& c = m.versions.at("nmap");
  ASSERT_EQ(c.groups.size(), 1u);
  EXPECT_EQ(c.groups[0].labels, (std::vector<std::string>{"2.0", "2.1"}));
  EXPECT_FALSE(c.groups[0].why.empty());
  auto id = identify(m, traits_of(keys_of("2.0", 7)), "c");
  EXPECT_EQ(id.version->display, "group 2.0/2.1");
}

TEST(Match, ALostPacketLowersTheScoreNotTheAnswer) {
  auto runs = atlas({"1.0", "2.0", "3.0"});
  Model m = train(ptrs(runs));
  auto k = keys_of("2.0", 9);
  std::erase(k, "ports|port 22");
  auto id = identify(m, traits_of(k), "c");
  EXPECT_EQ(id.version->labels, (std::vector<std::string>{"2.0"}));
  EXPECT_LT(id.version->score, 1.0);
  EXPECT_GE(id.version->score, kMinScore);
}

}  // namespace
}  // namespace testbed::identify
