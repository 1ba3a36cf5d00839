#pragma once
// The study's unique sets (docs/method.md steps 3-4): U_n = P_n \ (P_1 ∩ … ∩ P_k), then the
// similarity exclusion of packets that differ from another version's only by a variable
// element (random token, timestamp). Defaults and reasoning: analysis/README.md.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "orchestrator/analysis/packet_key.h"

namespace testbed::analysis {

/// One protocol's similarity rule. A unique packet u of version n is "similar" to a packet
/// c of version m when they have the same protocol, destination port and TCP flags (and
/// destination address if SimilarityOptions::same_dst), |len(u) - len(c)| <= max_length_diff
/// and their payloads share a common block of >= min_common_block bytes.
/// min_common_block > 0 means packets without payload are never similar: they have no
/// variable element (this keeps e.g. a whole extra host's bare SYN probes unique, as the
/// study's Table 2 "strobe 1000" shows).
struct SimilarityRule {
  bool enabled = true;
  uint32_t max_length_diff = 32;
  uint32_t min_common_block = 16;
};

struct SimilarityOptions {
  SimilarityRule tcp{true, 32, 16};
  SimilarityRule udp{true, 32, 16};
  SimilarityRule icmp{true, 16, 8};
  SimilarityRule other{false, 0, 0};
  bool same_dst = false;          ///< also require the same destination address
  size_t max_candidates = 256;    ///< candidates examined per packet (nearest lengths first)
  const SimilarityRule& rule(ProtoClass c) const;
};

/// Result for one version in one phase.
struct UniqueSetResult {
  size_t set_size = 0;             ///< |P_n|
  size_t not_common = 0;           ///< |P_n \ I| before the similarity exclusion
  std::array<size_t, 4> removed{}; ///< removed by the similarity rule, by ProtoClass
  std::vector<PacketKey> unique;   ///< U_n, sorted (dst, proto, port, flags, length)
  size_t removed_total() const { return removed[0] + removed[1] + removed[2] + removed[3]; }
};

/// Computes U_n for every version of one phase. `sets[n]` is P_n (not owned, must outlive
/// the call). `payloads` supplies payload bytes for the common-block test; a payload it
/// does not hold never matches. `common_out` (optional) receives |P_1 ∩ … ∩ P_k|.
/// A packet u of U_n is removed only if every other version that lacks u exactly has a
/// similar packet: so a packet in 2 of 3 versions stays unique to both unless the third
/// version has a variant of it. Cost: O(Σ|P_n|) plus the candidate checks of unique packets
/// that carry payload (indexed by protocol, port, flags and sorted by length; not quadratic).
std::vector<UniqueSetResult> compute_unique_sets(const std::vector<const PacketKeySet*>& sets,
                                                 const PayloadStore& payloads,
                                                 const SimilarityOptions& opts,
                                                 size_t* common_out = nullptr);

/// True when `a` and `b` share a contiguous block of at least `min_block` bytes
/// (min_block 0: always true). O((|a| + |b|) * min_block) hashing, no quadratic search.
bool share_block(const std::string& a, const std::string& b, size_t min_block);

}  // namespace testbed::analysis
