#include "orchestrator/analysis/unique.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>

namespace testbed::analysis {
namespace {

PacketKey key(uint8_t dst_last, uint16_t port, uint8_t flags, uint32_t len, uint64_t payload = 0,
              uint8_t proto = 6) {
  PacketKey k;
  k.family = 4;
  k.src[0] = 172; k.src[1] = 24; k.src[3] = 10;
  k.dst[0] = 172; k.dst[1] = 24; k.dst[2] = 1; k.dst[3] = dst_last;
  k.proto = proto;
  k.dport = port;
  k.tcp_flags = flags;
  k.length = len;
  k.payload_hash = payload;
  return k;
}

std::vector<const PacketKeySet*> ptrs(const std::vector<PacketKeySet>& v) {
  std::vector<const PacketKeySet*> p;
  for (const auto& s : v) p.push_back(&s);
  return p;
}

TEST(UniqueSets, PacketInTwoOfThreeIsUniqueToBoth) {
  PayloadStore ps;
  PacketKey common = key(10, 80, kSyn, 44), shared = key(10, 443, kSyn, 44), only3 = key(11, 22, kSyn, 44);
  std::vector<PacketKeySet> sets = {{common, shared}, {common, shared}, {common, only3}};
  size_t n_common = 0;
  auto r = compute_unique_sets(ptrs(sets), ps, SimilarityOptions{}, &n_common);
  EXPECT_EQ(n_common, 1u);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].unique, std::vector<PacketKey>{shared});
  EXPECT_EQ(r[1].unique, std::vector<PacketKey>{shared});
  EXPECT_EQ(r[2].unique, std::vector<PacketKey>{only3});
  EXPECT_EQ(r[0].set_size, 2u);
  EXPECT_EQ(r[0].not_common, 1u);
  EXPECT_EQ(r[0].removed_total(), 0u);
}

TEST(UniqueSets, RandomTokenPayloadsAreExcluded) {
  PayloadStore ps;
  auto add = [&](uint64_t h, const std::string& s) {
    ps.add(h, reinterpret_cast<const uint8_t*>(s.data()), s.size());
    return h;
  };
  // The same HTTP probe with a random token per version: differs only in 8 bytes.
  std::string base1 = "GET /nmaplowercheck1637000001 HTTP/1.1\r\nHost: 172.24.1.10\r\nUser-Agent: Mozilla/5.0\r\n\r\n";
  std::string base2 = "GET /nmaplowercheck1637999992 HTTP/1.1\r\nHost: 172.24.1.10\r\nUser-Agent: Mozilla/5.0\r\n\r\n";
  std::string base3 = "GET /nmaplowercheck1638123453 HTTP/1.1\r\nHost: 172.24.1.10\r\nUser-Agent: Mozilla/5.0\r\n\r\n";
  // A really different request on another version (unrelated content, same port & flags).
  std::string other = "\x16\x03\x01\x00\x75\x01\x00\x00\x71\x03\x03 binary TLS-like hello......";
  uint32_t len = 40 + uint32_t(base1.size());
  PacketKey k1 = key(10, 80, kPsh | kAck, len, add(101, base1));
  PacketKey k2 = key(10, 80, kPsh | kAck, len, add(102, base2));
  PacketKey k3 = key(10, 80, kPsh | kAck, len + 2, add(103, base3));
  PacketKey k4 = key(10, 80, kPsh | kAck, len, add(104, other));
  std::vector<PacketKeySet> sets = {{k1}, {k2}, {k3, k4}};
  auto r = compute_unique_sets(ptrs(sets), ps, SimilarityOptions{});
  EXPECT_TRUE(r[0].unique.empty());
  EXPECT_TRUE(r[1].unique.empty());
  EXPECT_EQ(r[2].unique, std::vector<PacketKey>{k4});
  EXPECT_EQ(r[0].removed[static_cast<int>(ProtoClass::kTcp)], 1u);
  EXPECT_EQ(r[2].removed[static_cast<int>(ProtoClass::kTcp)], 1u);

  // Thresholds matter: a length limit of 1 keeps k3 (2 bytes longer) and the others lose k3's cover
  // only where k3 was needed.
  SimilarityOptions strict;
  strict.tcp.max_length_diff = 1;
  auto s = compute_unique_sets(ptrs(sets), ps, strict);
  EXPECT_EQ(s[2].unique.size(), 2u);
  EXPECT_EQ(s[0].unique, std::vector<PacketKey>{k1});  // no similar packet within 1 byte in version 3
  // Rule off: nothing removed.
  SimilarityOptions off;
  off.tcp.enabled = false;
  auto o = compute_unique_sets(ptrs(sets), ps, off);
  EXPECT_EQ(o[0].unique.size() + o[1].unique.size() + o[2].unique.size(), 4u);
}

TEST(UniqueSets, BareProbesToAnExtraHostStayUnique) {
  // The study's 7.60 case: one more host scanned, 1000 bare SYNs with no payload.
  PayloadStore ps;
  std::vector<PacketKeySet> sets(3);
  for (uint16_t p = 1; p <= 1000; ++p)
    for (auto& s : sets) s.insert(key(10, p, kSyn, 44));
  for (uint16_t p = 1; p <= 1000; ++p) sets[1].insert(key(1, p, kSyn, 44));
  auto r = compute_unique_sets(ptrs(sets), ps, SimilarityOptions{});
  EXPECT_EQ(r[0].unique.size(), 0u);
  EXPECT_EQ(r[1].unique.size(), 1000u);
  EXPECT_EQ(r[2].unique.size(), 0u);
}

TEST(UniqueSets, SingleVersionHasNoUniquePackets) {
  PayloadStore ps;
  std::vector<PacketKeySet> sets = {{key(10, 80, kSyn, 44)}};
  auto r = compute_unique_sets(ptrs(sets), ps, SimilarityOptions{});
  EXPECT_TRUE(r[0].unique.empty());
}

TEST(UniqueSets, ShareBlock) {
  EXPECT_TRUE(share_block("abcdefghijklmnop-1", "xxabcdefghijklmnopyy", 16));
  EXPECT_FALSE(share_block("abcdefghijklmno-1", "xxabcdefghijklmnoyy", 16));
  EXPECT_TRUE(share_block("", "", 0));
  EXPECT_FALSE(share_block("short", "short", 16));
}

TEST(UniqueSets, NotQuadratic) {
  // 3 x 200,000 packets with payloads in a handful of buckets: must stay well under a second.
  PayloadStore ps(64, 256u << 20);
  std::vector<PacketKeySet> sets(3);
  for (int v = 0; v < 3; ++v)
    for (uint32_t i = 0; i < 200000; ++i) {
      std::string payload = "probe payload common block " + std::to_string(i * 3 + v);
      uint64_t h = payload_hash(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
      ps.add(h, reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
      sets[v].insert(key(uint8_t(i % 200), uint16_t(i % 7), kPsh | kAck, 60 + i % 50, h));
    }
  auto t0 = std::chrono::steady_clock::now();
  auto r = compute_unique_sets(ptrs(sets), ps, SimilarityOptions{});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 10.0);  // generous for sanitizer builds; the bench measures the real figure
  EXPECT_EQ(r[0].removed_total(), 200000u);  // every payload shares the 16-byte prefix
}

TEST(KeyInserter, SameSetsInTheSameOrderAsDirectInserts) {
  // Keys spread over two sets, with duplicates, more than the inserter's depth.
  PacketKeySet direct[2], late[2];
  {
    KeyInserter ins;
    for (uint32_t i = 0; i < 1000; ++i) {
      PacketKey k = key(static_cast<uint8_t>(i % 7), static_cast<uint16_t>(i % 300), 2, 40 + i % 3);
      direct[i % 2].insert(k);
      ins.insert(late[i % 2], k);
    }
    // Not complete before flush: the last keys are still queued.
    EXPECT_LT(late[0].size() + late[1].size(), direct[0].size() + direct[1].size());
    ins.flush();
    PacketKey extra = key(200, 1, 2, 40);
    direct[1].insert(extra);
    ins.insert(late[1], extra);
  }  // the destructor inserts what is still queued
  for (int s = 0; s < 2; ++s) {
    ASSERT_EQ(late[s].size(), direct[s].size());
    EXPECT_TRUE(std::equal(late[s].begin(), late[s].end(), direct[s].begin()));
  }
}

}  // namespace
}  // namespace testbed::analysis
