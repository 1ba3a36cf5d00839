// Noise floor and version classifier on hand-made key sets with known answers.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "orchestrator/analysis/classifier.h"
#include "orchestrator/analysis/noise_floor.h"

namespace testbed::analysis {
namespace {

PacketKey key(uint16_t port, uint8_t host = 10) {
  PacketKey k;
  k.family = 4;
  k.src[0] = 172;
  k.src[1] = 24;
  k.src[3] = 10;
  k.dst[0] = 172;
  k.dst[1] = 24;
  k.dst[2] = 1;
  k.dst[3] = host;
  k.proto = 6;
  k.dport = port;
  k.tcp_flags = kSyn;
  k.length = 44;
  return k;
}

PacketKeySet ports(std::initializer_list<uint16_t> ps) {
  PacketKeySet s;
  for (uint16_t p : ps) s.insert(key(p));
  return s;
}

RunPhaseSets run(std::string version, int rep, std::vector<PacketKeySet> rows) {
  return RunPhaseSets{version, version + "/" + std::to_string(rep), std::move(rows)};
}

// A TCP data packet to port 80 carrying `payload`, which `store` keeps (as analysis does).
PacketKey http_key(const std::string& payload, PayloadStore& store) {
  PacketKey k = key(80);
  k.tcp_flags = kPsh | kAck;
  k.length = static_cast<uint32_t>(40 + payload.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(payload.data());
  k.payload_hash = payload_hash(bytes, payload.size());
  store.add(k.payload_hash, bytes, payload.size());
  return k;
}

// Borrowed pointers to `runs`, as the classifier takes them.
std::vector<const RunPhaseSets*> ptrs(const std::vector<RunPhaseSets>& runs) {
  std::vector<const RunPhaseSets*> p;
  for (const auto& r : runs) p.push_back(&r);
  return p;
}

TEST(Jaccard, KnownValues) {
  EXPECT_DOUBLE_EQ(jaccard(ports({1, 2, 3}), ports({2, 3, 4})), 0.5);
  EXPECT_DOUBLE_EQ(jaccard(ports({1}), ports({1})), 1.0);
  EXPECT_DOUBLE_EQ(jaccard(ports({1}), ports({2})), 0.0);
  EXPECT_DOUBLE_EQ(jaccard(PacketKeySet{}, PacketKeySet{}), 1.0);
}

TEST(RunComparison, CountsInformativeKeysOnly) {
  PayloadStore ps;
  // Row 0: key 1 is in every run (tells nothing apart), key 3 in c only (c's own noise).
  // Row 1 is empty everywhere; b has no row 2 at all (an empty set).
  auto a = run("a", 1, {ports({1, 2}), {}, ports({5})});
  auto b = run("a", 2, {ports({1, 2}), {}});
  auto c = run("c", 1, {ports({1, 3}), {}, ports({5})});
  RunComparison cmp({&a, &b, &c}, ps, SimilarityOptions{});
  ASSERT_EQ(cmp.size(), 3u);
  EXPECT_EQ(cmp.informative(0), 2u);   // 2 (b has it, c not), 5 (c has it, b not)
  EXPECT_EQ(cmp.informative(1), 1u);   // 2
  EXPECT_EQ(cmp.informative(2), 1u);   // 5; 3 is c's alone
  EXPECT_EQ(cmp.differing(0, 1), 1u);  // 5
  EXPECT_EQ(cmp.differing(2, 0), 0u);  // 3 is not informative
  EXPECT_DOUBLE_EQ(cmp.similarity(0, 1), 1.0 - 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(cmp.similarity(0, 2), 1.0 - 1.0 / 3.0);  // a's 2 is missing from c
  EXPECT_DOUBLE_EQ(cmp.similarity(1, 2), 0.0);              // b's 2 and c's 5: nothing shared
  EXPECT_DOUBLE_EQ(cmp.similarity(2, 1), cmp.similarity(1, 2));
  EXPECT_DOUBLE_EQ(cmp.similarity(1, 1), 1.0);
  // Two runs alone: no key recurs in a third run, nothing is informative, all similar.
  RunComparison pair({&a, &c}, ps, SimilarityOptions{});
  EXPECT_EQ(pair.informative(0), 0u);
  EXPECT_DOUBLE_EQ(pair.similarity(0, 1), 1.0);
}

TEST(NoiseFloor, PairsOnlyWithinAVersion) {
  PayloadStore ps;
  SimilarityOptions so;
  // Version A: run 2 has one extra and one missing packet in row 0; row 1 identical.
  auto a1 = run("A", 1, {ports({1, 2, 3}), ports({9})});
  auto a2 = run("A", 2, {ports({1, 2, 4}), ports({9})});
  auto a3 = run("A", 3, {ports({1, 2, 3, 4, 5}), ports({9})});
  auto b1 = run("B", 1, {ports({100, 200}), ports({300})});  // very different, but alone
  NoiseFloor nf = noise_floor({&a1, &a2, &b1, &a3}, true, ps, so);
  ASSERT_EQ(nf.versions, (std::vector<std::string>{"A", "B"}));
  ASSERT_TRUE(nf.available());
  const NoiseCell* c = nf.find("horizontal", "A");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->pairs, 3u);
  // pairs: (a1,a2) 1/1, (a1,a3) 0/2, (a2,a3) 0/2 -> max 2, mean (1+1 + 0+2 + 0+2)/2/3 = 1.
  EXPECT_EQ(c->max, 2u);
  EXPECT_DOUBLE_EQ(c->mean, 1.0);
  EXPECT_EQ(nf.find("strobe", "A")->max, 0u);
  EXPECT_EQ(nf.find("horizontal", "B")->pairs, 0u);  // one run: unknown, not zero
  EXPECT_EQ(nf.find("nonsense", "A"), nullptr);
}

TEST(NoiseFloor, UnavailableWithOneRunPerVersion) {
  PayloadStore ps;
  auto a = run("A", 1, {ports({1}), {}, {}, {}});
  auto b = run("B", 1, {ports({2}), {}, {}, {}});
  EXPECT_FALSE(noise_floor({&a, &b}, true, ps, SimilarityOptions{}).available());
}

TEST(PairUnique, CountsBothSides) {
  PayloadStore ps;
  auto u = pair_unique(ports({1, 2, 3}), ports({3, 4}), ps, SimilarityOptions{});
  EXPECT_EQ(u.a_only, 2u);
  EXPECT_EQ(u.b_only, 1u);
  EXPECT_EQ(u.max(), 2u);
}

TEST(Classifier, LeaveOneOutSeparatesVersions) {
  // A probes 1..20 (+ noise), B probes 1..18 + 50, 51 and an extra OS row.
  auto a1 = run(
      "A", 1, {ports({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}), {}});
  auto a2 =
      run("A", 2,
          {ports({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21}), {}});
  auto b1 = run(
      "B", 1,
      {ports({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 50, 51}), ports({7})});
  auto b2 =
      run("B", 2,
          {ports({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 50}), ports({7})});
  ConfusionMatrix m = leave_one_out({&a1, &b1, &a2, &b2}, PayloadStore{}, SimilarityOptions{});
  ASSERT_TRUE(m.available) << m.reason;
  EXPECT_EQ(m.versions, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(m.total, 4u);
  EXPECT_EQ(m.correct, 4u);
  EXPECT_EQ(m.counts, (std::vector<std::vector<size_t>>{{2, 0}, {0, 2}}));
  ASSERT_EQ(m.predictions.size(), 4u);
  EXPECT_EQ(m.predictions[0].run, "A/1");
  EXPECT_EQ(m.predictions[0].predicted, "A");
  EXPECT_DOUBLE_EQ(m.accuracy(), 1.0);
}

// As in the lab: each run adds many keys of its own (random tokens, random closed ports)
// that outnumber the few keys telling the versions apart. Only recurring keys decide.
TEST(Classifier, RunSpecificKeysDoNotDrownTheVersionSignal) {
  std::vector<RunPhaseSets> runs;
  uint16_t noise = 1000;
  for (const char* v : {"A", "B", "C"})
    for (int rep = 1; rep <= 2; ++rep) {
      // 20 keys every version sends, the version's own probe, and keys of this run only
      // (30 and 60 for A's runs, 10 for the others): on all keys A's runs look more like
      // B's and C's (fewer extra keys) than like each other.
      PacketKeySet script;
      for (uint16_t k = 200; k < 220; ++k) script.insert(key(k));
      script.insert(key(v[0] == 'A' ? 500 : v[0] == 'B' ? 501 : 502));
      int extra = v[0] == 'A' ? 30 * rep : 10;
      for (int i = 0; i < extra; ++i) script.insert(key(noise++));
      runs.push_back(run(v, rep, {ports({1, 2, 3}), script}));
    }
  PayloadStore ps;
  ConfusionMatrix m = leave_one_out(ptrs(runs), ps, SimilarityOptions{});
  ASSERT_TRUE(m.available) << m.reason;
  EXPECT_EQ(m.correct, 6u);
  auto sim = similarity_matrix(ptrs(runs), ps, SimilarityOptions{});
  EXPECT_GT(sim[0][1], sim[0][2]);  // A/1 is closer to A/2 than to B/1
}

// As in the lab (nmap7, NSE's HTTP library): every run sends the same HTTP requests, but
// with its headers in an order drawn per run, so the exact packet keys of a run's requests
// are shared with whichever runs drew the same order: here always a run of ANOTHER version.
// What tells the versions apart is two bare SYN probes per version (as 7.80's 3007/3013
// against 7.95's 5985/5986), outnumbered by the shared request keys. Each run also sends a
// UDP probe to a random port (the U1 probe) and one request with a random token. Compared on
// exact keys, every run pairs with the wrong version; with the study's similarity exclusion
// the reordered requests are variants of each other and the probes decide.
TEST(Classifier, PerRunHeaderOrderDoesNotPairDifferentVersions) {
  PayloadStore ps;
  const std::vector<std::string> headers = {
      "User-Agent: Mozilla/5.0 (compatible; Nmap Scripting Engine)\r\n", "Host: target1.lab\r\n",
      "Connection: close\r\n"};
  const int orders[3][3] = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}};
  // (version, rep) -> header order: A/1 and B/1 share one, B/2 and C/1, C/2 and A/2.
  const std::map<std::string, int> order_of = {{"A/1", 0}, {"B/1", 0}, {"B/2", 1},
                                               {"C/1", 1}, {"C/2", 2}, {"A/2", 2}};
  const std::map<std::string, std::vector<uint16_t>> probes = {
      {"A", {3007, 3013}}, {"B", {5985, 5986}}, {"C", {1434, 1435}}};
  std::vector<RunPhaseSets> runs;
  uint16_t random_port = 40000;
  for (const char* v : {"A", "B", "C"})
    for (int rep = 1; rep <= 2; ++rep) {
      RunPhaseSets r = run(v, rep, {});
      const int* order = orders[order_of.at(r.run)];
      PacketKeySet port_scan = ports({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
      for (uint16_t p : probes.at(v)) port_scan.insert(key(p));
      PacketKeySet script;
      for (const char* path : {"/", "/robots.txt", "/favicon.ico", "/.git/HEAD", "/HNAP1",
                               "/evox/about", "/sdk", "/nmaplowercheck"}) {
        std::string req = std::string("GET ") + path;
        if (std::string(path) == "/nmaplowercheck") req += std::to_string(1795755409 + rep * 7);
        req += " HTTP/1.1\r\n";
        for (int h = 0; h < 3; ++h) req += headers[order[h]];
        script.insert(http_key(req + "\r\n", ps));
      }
      PacketKey u1 = key(random_port++);
      u1.proto = 17;
      u1.tcp_flags = 0;
      const std::string cs(300, 'C');
      u1.length = 328;
      u1.payload_hash = payload_hash(reinterpret_cast<const uint8_t*>(cs.data()), cs.size());
      ps.add(u1.payload_hash, reinterpret_cast<const uint8_t*>(cs.data()), cs.size());
      r.rows = {port_scan, script, PacketKeySet{u1}};
      runs.push_back(std::move(r));
    }

  ConfusionMatrix m = leave_one_out(ptrs(runs), ps, SimilarityOptions{});
  ASSERT_TRUE(m.available) << m.reason;
  EXPECT_EQ(m.correct, 6u);
  for (const VersionPrediction& p : m.predictions) EXPECT_EQ(p.predicted, p.actual) << p.run;
  auto sim = similarity_matrix(ptrs(runs), ps, SimilarityOptions{});
  EXPECT_DOUBLE_EQ(sim[0][1], 1.0);  // A/1 ~ A/2: the reordered requests are no difference
  EXPECT_DOUBLE_EQ(sim[0][2], 0.0);  // A/1 ~ B/1: same header order, other probes

  // Without the similarity rule for TCP the same runs compare on exact keys, and the shared
  // header order wins: not one run is recognised.
  SimilarityOptions exact;
  exact.tcp.enabled = false;
  ConfusionMatrix fooled = leave_one_out(ptrs(runs), ps, exact);
  EXPECT_EQ(fooled.correct, 0u);
  EXPECT_EQ(fooled.predictions[0].predicted, "B");  // A/1 pairs with B/1
}

TEST(Classifier, ConfusesIdenticalVersionsAsTies) {
  auto a1 = run("A", 1, {ports({1, 2})});
  auto a2 = run("A", 2, {ports({1, 2})});
  auto b1 = run("B", 1, {ports({1, 2})});
  auto b2 = run("B", 2, {ports({1, 2})});
  ConfusionMatrix m = leave_one_out({&a1, &a2, &b1, &b2}, PayloadStore{}, SimilarityOptions{});
  ASSERT_TRUE(m.available);
  EXPECT_EQ(m.correct, 0u);  // every score ties: indistinguishable versions are never "right"
  EXPECT_TRUE(m.predictions[0].tie);
}

TEST(Classifier, LeaveOneOutNeedsTwoRunsPerVersion) {
  auto a1 = run("A", 1, {ports({1})});
  auto a2 = run("A", 2, {ports({1})});
  auto b1 = run("B", 1, {ports({2})});
  PayloadStore ps;
  ConfusionMatrix m = leave_one_out({&a1, &a2, &b1}, ps, SimilarityOptions{});
  EXPECT_FALSE(m.available);
  EXPECT_NE(m.reason.find("at least 2 runs"), std::string::npos);
  EXPECT_NE(m.reason.find("B"), std::string::npos);
  // The classifier itself still answers for an unlabelled capture.
  auto x = run("", 0, {ports({2})});
  x.run = "";
  VersionPrediction p = classify_version(x, {&a1, &a2, &b1}, ps, SimilarityOptions{});
  EXPECT_EQ(p.predicted, "B");
  EXPECT_FALSE(p.tie);
  auto s = similarity_matrix({&a1, &a2, &b1}, ps, SimilarityOptions{});
  EXPECT_DOUBLE_EQ(s[0][1], 1.0);
  EXPECT_DOUBLE_EQ(s[0][2], 0.0);
  EXPECT_DOUBLE_EQ(s[2][2], 1.0);
}

}  // namespace
}  // namespace testbed::analysis
