// Noise floor and version classifier on hand-made key sets with known answers.
#include <gtest/gtest.h>

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

TEST(Jaccard, KnownValues) {
  EXPECT_DOUBLE_EQ(jaccard(ports({1, 2, 3}), ports({2, 3, 4})), 0.5);
  EXPECT_DOUBLE_EQ(jaccard(ports({1}), ports({1})), 1.0);
  EXPECT_DOUBLE_EQ(jaccard(ports({1}), ports({2})), 0.0);
  EXPECT_DOUBLE_EQ(jaccard(PacketKeySet{}, PacketKeySet{}), 1.0);
}

TEST(RunSimilarity, IgnoresPhasesBothLack) {
  auto a = run("a", 1, {ports({1, 2}), {}, ports({5})});
  auto b = run("a", 2, {ports({1, 2}), {}, ports({6})});
  EXPECT_DOUBLE_EQ(run_similarity(a, b), 0.5);  // (1 + 0) / 2; the empty row does not count
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
  ConfusionMatrix m = leave_one_out({&a1, &b1, &a2, &b2});
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
  std::vector<const RunPhaseSets*> ptrs;
  for (const auto& r : runs) ptrs.push_back(&r);
  ConfusionMatrix m = leave_one_out(ptrs);
  ASSERT_TRUE(m.available) << m.reason;
  EXPECT_EQ(m.correct, 6u);
  auto sim = similarity_matrix(ptrs);
  EXPECT_GT(sim[0][1], sim[0][2]);  // A/1 is closer to A/2 than to B/1
}

TEST(Classifier, ConfusesIdenticalVersionsAsTies) {
  auto a1 = run("A", 1, {ports({1, 2})});
  auto a2 = run("A", 2, {ports({1, 2})});
  auto b1 = run("B", 1, {ports({1, 2})});
  auto b2 = run("B", 2, {ports({1, 2})});
  ConfusionMatrix m = leave_one_out({&a1, &a2, &b1, &b2});
  ASSERT_TRUE(m.available);
  EXPECT_EQ(m.correct, 0u);  // every score ties: indistinguishable versions are never "right"
  EXPECT_TRUE(m.predictions[0].tie);
}

TEST(Classifier, LeaveOneOutNeedsTwoRunsPerVersion) {
  auto a1 = run("A", 1, {ports({1})});
  auto a2 = run("A", 2, {ports({1})});
  auto b1 = run("B", 1, {ports({2})});
  ConfusionMatrix m = leave_one_out({&a1, &a2, &b1});
  EXPECT_FALSE(m.available);
  EXPECT_NE(m.reason.find("at least 2 runs"), std::string::npos);
  EXPECT_NE(m.reason.find("B"), std::string::npos);
  // The classifier itself still answers for an unlabelled capture.
  auto x = run("", 0, {ports({2})});
  x.run = "";
  VersionPrediction p = classify_version(x, {&a1, &a2, &b1});
  EXPECT_EQ(p.predicted, "B");
  EXPECT_FALSE(p.tie);
  auto s = similarity_matrix({&a1, &a2, &b1});
  EXPECT_DOUBLE_EQ(s[0][1], 1.0);
  EXPECT_DOUBLE_EQ(s[0][2], 0.0);
  EXPECT_DOUBLE_EQ(s[2][2], 1.0);
}

}  // namespace
}  // namespace testbed::analysis
