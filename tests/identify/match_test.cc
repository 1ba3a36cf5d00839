// Learning and matching on synthetic traits: the answer is the set of versions the present
// traits allow, absent service traits rule nothing out, unseen versions come out unknown,
// indistinguishable versions form a group.
#include <gtest/gtest.h>

#include <algorithm>

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

// Run-to-run variation (Classifier::noisy): a trait that came and went between the runs of
// one version rules nothing out, present or absent, and separates no versions.
TEST(Match, ATraitThatComesAndGoesBetweenRunsRulesNothingOut) {
  auto runs = atlas({"1.0", "2.0", "3.0"});
  const std::string sack = "tcp:A|tcp A w=63 o=N,N,T,N,N,K5";
  // 3.0 sends a SACK-bearing ACK in every run, 1.0 in one of its three, 2.0 never.
  for (auto& r : runs)
    if (r.version == "3.0" || r.name == "1.0/2") r.traits.keys[sack] = {1, 1, {}};
  Model m = train(ptrs(runs));
  const auto& c = m.versions.at("nmap");
  const size_t t = size_t(std::find(c.keys.begin(), c.keys.end(), sack) - c.keys.begin());
  ASSERT_LT(t, c.keys.size());
  EXPECT_TRUE(c.noisy(t));
  // Present in a 2.0 capture: 2.0 never sent it, yet it is still the answer.
  auto k2 = keys_of("2.0", 9);
  k2.push_back(sack);
  auto a = identify(m, traits_of(k2), "c");
  EXPECT_EQ(a.summary(), "nmap 2.0");
  // Absent from a 3.0 capture whose tcp:A family shows: 3.0 is still the answer.
  auto k3 = keys_of("3.0", 9);
  k3.push_back("tcp:A|tcp A w=* o=-");
  auto b = identify(m, traits_of(k3), "c");
  EXPECT_EQ(b.summary(), "nmap 3.0");
}

TEST(Match, ANoisyTraitDoesNotSeparateVersions) {
  // 2.0 and 2.1 differ only by a trait 2.1 showed in every run, 2.0 in none, and 1.0 in
  // some: run-to-run variation, so 2.0 and 2.1 cannot be told apart.
  std::vector<LabelledRun> runs;
  for (int rep = 1; rep <= 3; ++rep) {
    runs.push_back(run_of("nmap", "2.0", rep, keys_of("2.0", rep)));
    auto k1 = keys_of("2.0", rep);
    k1.push_back("tcp:A|tcp A w=63 o=K5");
    runs.push_back(run_of("nmap", "2.1", rep, k1));
    auto k0 = keys_of("1.0", rep);
    if (rep == 1) k0.push_back("tcp:A|tcp A w=63 o=K5");
    runs.push_back(run_of("nmap", "1.0", rep, k0));
  }
  Model m = train(ptrs(runs));
  ASSERT_EQ(m.versions.at("nmap").groups.size(), 1u);
  EXPECT_EQ(m.versions.at("nmap").groups[0].labels, (std::vector<std::string>{"2.0", "2.1"}));
}

// Service contexts: a payload trait speaks about a version only at a service (port) it was
// offered in training. The atlas offered TLS at 443 only.
TEST(Match, PayloadTraitsAtServicesTheAtlasNeverOfferedRuleNothingOut) {
  auto runs = atlas({"1.0", "2.0", "3.0"});
  Model m = train(ptrs(runs));
  // 2.0 in another lab: its targets offer TLS on 993 too, where 2.0 sends 3.0's hello and
  // one no version sent. Neither rules 2.0 out nor makes the answer unknown.
  CaptureTraits t = traits_of(keys_of("2.0", 9));
  t.keys["tls|tls-hello v=0303 ciphers=3.0"] = {50, 1, {993}};
  t.keys["tls|tls-hello v=0300 ciphers=sslv3-probe"] = {51, 1, {993}};
  auto id = identify(m, t, "c");
  EXPECT_EQ(id.summary(), "nmap 2.0");
  // The same unseen hello at 443, where every version sent its own, is a release the
  // model has not seen.
  t.keys["tls|tls-hello v=0300 ciphers=sslv3-probe"] = {51, 1, {443}};
  auto at443 = identify(m, t, "c");
  ASSERT_TRUE(at443.version);
  EXPECT_TRUE(at443.version->unknown);
  ASSERT_FALSE(at443.version->novel.empty());
  // And 3.0's hello at 443 rules 2.0 out.
  t.keys.erase("tls|tls-hello v=0300 ciphers=sslv3-probe");
  t.keys["tls|tls-hello v=0303 ciphers=3.0"] = {50, 1, {443}};
  auto both = identify(m, t, "c");
  EXPECT_NE(both.summary(), "nmap 2.0");
}

TEST(Match, APayloadTraitDoesNotRuleOutAVersionSeenInOneRun) {
  // 1.0 was seen in one run, 2.0 in three; both requested / at port 80, 1.0 also /admin,
  // 2.0 also /.git/HEAD. A capture with /admin and /.git/HEAD: 2.0, measured in three runs,
  // never requests /admin there and is ruled out; 1.0's one run cannot say whether
  // /.git/HEAD is something it sends only sometimes, so 1.0 stays.
  std::vector<LabelledRun> runs;
  runs.push_back(run_of("nmap", "1.0", 1,
                        {"syn|syn w=1024 o=M1460 ttl=64", "http|http GET / HTTP/1.1", "http|http GET /admin HTTP/1.1"},
                        80));
  for (int rep = 1; rep <= 3; ++rep)
    runs.push_back(run_of("nmap", "2.0", rep,
                          {"syn|syn w=1024 o=M1460 ttl=64", "http|http GET / HTTP/1.1",
                           "http|http GET /.git/HEAD HTTP/1.1"},
                          80));
  Model m = train(ptrs(runs));
  auto id = identify(m,
                     traits_of({"syn|syn w=1024 o=M1460 ttl=64", "http|http GET / HTTP/1.1",
                                "http|http GET /admin HTTP/1.1", "http|http GET /.git/HEAD HTTP/1.1"},
                               80),
                     "c");
  ASSERT_TRUE(id.version);
  EXPECT_EQ(id.version->labels, (std::vector<std::string>{"1.0"}));
}

TEST(Match, APayloadTraitMissingWhereItsServiceAnsweredRulesOut) {
  // 2.0 added a script: POST /sdk to port 80 in every run; 1.0 never sends it.
  std::vector<LabelledRun> runs;
  for (int rep = 1; rep <= 2; ++rep) {
    runs.push_back(run_of("nmap", "1.0", rep, {"syn|syn w=1024 o=M1460 ttl=64", "http|http GET / HTTP/1.1"}, 80));
    runs.push_back(run_of("nmap", "2.0", rep,
                          {"syn|syn w=1024 o=M1460 ttl=64", "http|http GET / HTTP/1.1", "http|http POST /sdk HTTP/1.1"},
                          80));
  }
  Model m = train(ptrs(runs));
  // A capture whose targets answered HTTP on port 80 without POST /sdk: not 2.0.
  auto at80 = identify(m, traits_of({"syn|syn w=1024 o=M1460 ttl=64", "http|http GET / HTTP/1.1"}, 80), "c");
  ASSERT_TRUE(at80.version);
  EXPECT_EQ(at80.version->labels, (std::vector<std::string>{"1.0"}));
  bool evidence = false;
  for (auto& e : at80.version->ruled_out)
    evidence |= e.trait == "http|http POST /sdk HTTP/1.1" && e.labels == std::vector<std::string>{"2.0"};
  EXPECT_TRUE(evidence);
  // HTTP only on port 8080, where nobody knows what 2.0 sends: both stay.
  auto at8080 = identify(m, traits_of({"syn|syn w=1024 o=M1460 ttl=64", "http|http GET / HTTP/1.1"}, 8080), "c");
  ASSERT_TRUE(at8080.version);
  EXPECT_EQ(at8080.version->labels, (std::vector<std::string>{"1.0", "2.0"}));
}

TEST(Match, ATlsHelloAtAServiceAVersionTalkedToButNeverEncryptedRulesItOut) {
  // At FTP (port 21) 1.0 sends its commands and never a TLS hello; 2.0 also upgrades the
  // connection (AUTH TLS, then its hello). A hello at 21 rules 1.0 out: it was offered the
  // same service in every run and never did that.
  std::vector<LabelledRun> runs;
  for (int rep = 1; rep <= 2; ++rep) {
    runs.push_back(run_of("nmap", "1.0", rep, {"syn|syn w=1024 o=M1460 ttl=64", "data|data \"SYST\""}, 21));
    runs.push_back(run_of("nmap", "2.0", rep,
                          {"syn|syn w=1024 o=M1460 ttl=64", "data|data \"SYST\"", "tls|tls-hello ciphers=2.0"}, 21));
  }
  Model m = train(ptrs(runs));
  auto id = identify(m, traits_of({"syn|syn w=1024 o=M1460 ttl=64", "data|data \"SYST\"", "tls|tls-hello ciphers=2.0"}, 21),
                     "c");
  ASSERT_TRUE(id.version);
  EXPECT_EQ(id.version->labels, (std::vector<std::string>{"2.0"}));
  // The same hello at 990, a service neither was offered: nothing is ruled out.
  CaptureTraits t = traits_of({"syn|syn w=1024 o=M1460 ttl=64", "data|data \"SYST\""}, 21);
  t.keys["tls|tls-hello ciphers=2.0"] = {9, 1, {990}};
  auto other = identify(m, t, "c");
  ASSERT_TRUE(other.version);
  EXPECT_EQ(other.version->labels, (std::vector<std::string>{"1.0", "2.0"}));
}

}  // namespace
}  // namespace testbed::identify
