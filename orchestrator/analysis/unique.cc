#include "orchestrator/analysis/unique.h"

#include <xxhash.h>

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace testbed::analysis {

const SimilarityRule& SimilarityOptions::rule(ProtoClass c) const {
  switch (c) {
    case ProtoClass::kTcp: return tcp;
    case ProtoClass::kUdp: return udp;
    case ProtoClass::kIcmp: return icmp;
    case ProtoClass::kOther: return other;
  }
  return other;
}

bool share_block(const std::string& a, const std::string& b, size_t min_block) {
  if (min_block == 0) return true;
  if (a.size() < min_block || b.size() < min_block) return false;
  const std::string& small = a.size() <= b.size() ? a : b;
  const std::string& big = a.size() <= b.size() ? b : a;
  std::unordered_set<uint64_t> grams;
  grams.reserve(small.size() - min_block + 1);
  for (size_t i = 0; i + min_block <= small.size(); ++i)
    grams.insert(XXH3_64bits(small.data() + i, min_block));
  for (size_t i = 0; i + min_block <= big.size(); ++i) {
    if (!grams.count(XXH3_64bits(big.data() + i, min_block))) continue;
    // Confirm (a 64-bit hash collision is unlikely but cheap to rule out).
    std::string_view w(big.data() + i, min_block);
    if (std::string_view(small).find(w) != std::string_view::npos) return true;
  }
  return false;
}

namespace {

// Candidates for similarity: same protocol, port, flags (and dst if asked), sorted by length.
struct BucketKey {
  uint8_t proto, flags;
  uint16_t dport;
  uint64_t dst;  // hash of dst, 0 unless same_dst
  bool operator==(const BucketKey& o) const {
    return proto == o.proto && flags == o.flags && dport == o.dport && dst == o.dst;
  }
};
struct BucketKeyHash {
  size_t operator()(const BucketKey& b) const {
    return XXH3_64bits_withSeed(&b.dst, sizeof b.dst, (uint64_t(b.proto) << 24) | (uint64_t(b.flags) << 16) | b.dport);
  }
};
using Index = std::unordered_map<BucketKey, std::vector<const PacketKey*>, BucketKeyHash>;

BucketKey bucket_of(const PacketKey& k, bool same_dst) {
  return BucketKey{k.proto, k.tcp_flags, k.dport, same_dst ? XXH3_64bits(k.dst, 16) : 0};
}

bool key_less(const PacketKey& a, const PacketKey& b) {
  auto t = [](const PacketKey& k) {
    return std::make_tuple(std::string_view(reinterpret_cast<const char*>(k.dst), 16), k.proto, k.dport,
                           k.tcp_flags, k.length, k.payload_hash, k.ttl, k.ip_id, k.window);
  };
  return t(a) < t(b);
}

}  // namespace

std::vector<UniqueSetResult> compute_unique_sets(const std::vector<const PacketKeySet*>& sets,
                                                 const PayloadStore& payloads,
                                                 const SimilarityOptions& opts, size_t* common_out) {
  const size_t k = sets.size();
  std::vector<UniqueSetResult> out(k);
  if (k == 0) {
    if (common_out) *common_out = 0;
    return out;
  }
  if (k == 1) {  // one version: everything is common, nothing is unique
    out[0].set_size = sets[0]->size();
    if (common_out) *common_out = sets[0]->size();
    return out;
  }
  // I = P_1 ∩ … ∩ P_k, walking the smallest set.
  size_t smallest = 0;
  for (size_t i = 1; i < k; ++i)
    if (sets[i]->size() < sets[smallest]->size()) smallest = i;
  PacketKeySet common;
  for (const PacketKey& key : *sets[smallest]) {
    bool all = true;
    for (size_t i = 0; i < k && all; ++i)
      if (i != smallest && !sets[i]->count(key)) all = false;
    if (all) common.insert(key);
  }
  if (common_out) *common_out = common.size();

  // Per-version index of the packets a similarity match can use.
  auto usable = [&](const PacketKey& key) {
    const SimilarityRule& r = opts.rule(key.proto_class());
    return r.enabled && (r.min_common_block == 0 || key.payload_hash != 0);
  };
  std::vector<Index> index(k);
  for (size_t m = 0; m < k; ++m) {
    for (const PacketKey& key : *sets[m])
      if (!common.count(key) && usable(key)) index[m][bucket_of(key, opts.same_dst)].push_back(&key);
    for (auto& [b, v] : index[m])
      std::sort(v.begin(), v.end(), [](const PacketKey* a, const PacketKey* c) { return a->length < c->length; });
  }
  // Note: packets common to all versions are not candidates: a packet u outside I that is
  // similar only to a common packet c is still a real difference (c is in every version,
  // u is extra). Excluding them also keeps the buckets small.

  auto similar_in = [&](const PacketKey& u, size_t m) -> bool {
    auto it = index[m].find(bucket_of(u, opts.same_dst));
    if (it == index[m].end()) return false;
    const SimilarityRule& r = opts.rule(u.proto_class());
    const auto& v = it->second;
    uint32_t lo = u.length > r.max_length_diff ? u.length - r.max_length_diff : 0;
    uint32_t hi = u.length + r.max_length_diff;
    auto first = std::lower_bound(v.begin(), v.end(), lo, [](const PacketKey* a, uint32_t l) { return a->length < l; });
    const std::string* pu = r.min_common_block ? payloads.find(u.payload_hash) : nullptr;
    if (r.min_common_block && !pu) return false;
    size_t examined = 0;
    for (auto c = first; c != v.end() && (*c)->length <= hi; ++c) {
      if (++examined > opts.max_candidates) break;
      if (r.min_common_block == 0) return true;
      const std::string* pc = payloads.find((*c)->payload_hash);
      if (pc && share_block(*pu, *pc, r.min_common_block)) return true;
    }
    return false;
  };

  for (size_t n = 0; n < k; ++n) {
    UniqueSetResult& res = out[n];
    res.set_size = sets[n]->size();
    for (const PacketKey& u : *sets[n]) {
      if (common.count(u)) continue;
      ++res.not_common;
      bool explained = k > 1 && usable(u);
      for (size_t m = 0; m < k && explained; ++m) {
        if (m == n || sets[m]->count(u)) continue;  // m has u itself
        explained = similar_in(u, m);
      }
      if (explained) ++res.removed[static_cast<int>(u.proto_class())];
      else res.unique.push_back(u);
    }
    std::sort(res.unique.begin(), res.unique.end(), key_less);
  }
  return out;
}

}  // namespace testbed::analysis
