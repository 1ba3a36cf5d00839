// Which packets get a rule: in every run of the version, in no run of another.
#include <gtest/gtest.h>

#include "orchestrator/analysis/phases.h"
#include "orchestrator/ids/select.h"

namespace testbed::ids {
namespace {

analysis::PacketKey key(uint16_t port, uint8_t flags = 0x02) {
  analysis::PacketKey k;
  k.family = 4;
  k.proto = 6;
  k.dport = port;
  k.tcp_flags = flags;
  k.length = 44;
  k.dst[0] = 10;
  return k;
}

analysis::RunPhaseSets run(const std::string& v, int rep, std::vector<analysis::PacketKey> scan) {
  analysis::RunPhaseSets r;
  r.version = v;
  r.run = v + "/" + std::to_string(rep);
  r.rows.resize(analysis::kPhaseCount);
  for (const auto& k : scan) r.rows[static_cast<int>(analysis::Phase::kPortScan)].insert(k);
  return r;
}

TEST(SelectUnique, EveryRunOfItsVersionAndNoRunOfAnother) {
  // 22 common; 7.80 always sends 31337 and once 4444 (run noise); 7.93 always 8888, and
  // sends 31337 in its port-scan... of run 2 only: still another version's packet.
  auto a1 = run("7.80", 1, {key(22), key(31337), key(4444)});
  auto a2 = run("7.80", 2, {key(22), key(31337), key(1111)});
  auto b1 = run("7.93", 1, {key(22), key(8888)});
  auto b2 = run("7.93", 2, {key(22), key(8888), key(1111)});
  analysis::PayloadStore payloads;
  auto u = select_unique({&a1, &a2, &b1, &b2}, payloads, {});
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].version, "7.80");
  EXPECT_EQ(u[0].key.dport, 31337);
  EXPECT_EQ(u[0].phase, "port-scan");
  EXPECT_EQ(u[1].version, "7.93");
  EXPECT_EQ(u[1].key.dport, 8888);

  // Another version's packet in any phase counts against a rule.
  auto b3 = b1;
  b3.rows[static_cast<int>(analysis::Phase::kDiscovery)].insert(key(31337));
  auto v = select_unique({&a1, &a2, &b3, &b2}, payloads, {});
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].key.dport, 8888);
}

TEST(SelectUnique, VariantsOfAnotherVersionsPacketGetNoRule) {
  analysis::PayloadStore payloads;
  const std::string pa = "GET /nmaplowercheck1111 HTTP/1.1\r\nHost: target\r\n\r\n";
  const std::string pb = "GET /nmaplowercheck2222 HTTP/1.1\r\nHost: target\r\n\r\n";
  auto ka = key(80, 0x18), kb = key(80, 0x18);
  ka.payload_hash = analysis::payload_hash(reinterpret_cast<const uint8_t*>(pa.data()), pa.size());
  kb.payload_hash = analysis::payload_hash(reinterpret_cast<const uint8_t*>(pb.data()), pb.size());
  payloads.add(ka.payload_hash, reinterpret_cast<const uint8_t*>(pa.data()), pa.size());
  payloads.add(kb.payload_hash, reinterpret_cast<const uint8_t*>(pb.data()), pb.size());
  auto a = run("7.80", 1, {ka});
  auto b = run("7.93", 1, {kb});
  EXPECT_TRUE(select_unique({&a, &b}, payloads, {}).empty());
  analysis::SimilarityOptions off;
  off.tcp.enabled = false;
  auto u = select_unique({&a, &b}, payloads, off);
  ASSERT_EQ(u.size(), 2u);
  ASSERT_EQ(u[0].rivals.size(), 1u) << "the other version's payload to the same port and flags";
  EXPECT_EQ(u[0].rivals[0], kb.payload_hash);
}

}  // namespace
}  // namespace testbed::ids
