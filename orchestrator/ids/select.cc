#include "orchestrator/ids/select.h"

#include <algorithm>
#include <unordered_map>

namespace testbed::ids {

std::vector<UniquePacket> select_unique(const std::vector<const analysis::RunPhaseSets*>& training,
                                        const analysis::PayloadStore& payloads,
                                        const analysis::SimilarityOptions& opts) {
  const std::vector<std::string> rows = analysis::phase_rows(false);
  std::vector<std::string> versions;
  for (const auto* r : training)
    if (std::find(versions.begin(), versions.end(), r->version) == versions.end())
      versions.push_back(r->version);

  std::vector<UniquePacket> out;
  for (const std::string& v : versions) {
    std::vector<const analysis::RunPhaseSets*> mine;
    analysis::PacketKeySet others;  // every packet of every other version, any phase
    for (const auto* r : training) {
      if (r->version == v) {
        mine.push_back(r);
      } else {
        for (const auto& row : r->rows) others.insert(row.begin(), row.end());
      }
    }
    // Rivals: other versions' payloads by (protocol, port, flags).
    std::unordered_map<uint64_t, std::vector<uint64_t>> rival_index;
    auto bucket = [](const analysis::PacketKey& k) {
      return (uint64_t{k.proto} << 32) | (uint64_t{k.dport} << 8) | k.tcp_flags;
    };
    for (const analysis::PacketKey& k : others)
      if (k.payload_hash) {
        auto& v = rival_index[bucket(k)];
        if (v.size() < kMaxRivals) v.push_back(k.payload_hash);
      }
    analysis::PacketKeySet listed;
    for (size_t row = 0; row < rows.size(); ++row) {
      // Sent by every training run of v in this phase, exactly or as a variant (a random
      // token differs from run to run); a run without the row has none.
      if (row >= mine.front()->rows.size()) continue;
      const analysis::PacketKeySet& base = mine.front()->rows[row];
      analysis::PacketKeySet noise;  // keys of `base` some other run of v lacks entirely
      const analysis::PacketKeySet empty;
      for (size_t i = 1; i < mine.size(); ++i) {
        const analysis::PacketKeySet& other = row < mine[i]->rows.size() ? mine[i]->rows[row] : empty;
        auto res = analysis::compute_unique_sets({&base, &other}, payloads, opts);
        noise.insert(res[0].unique.begin(), res[0].unique.end());
      }
      analysis::PacketKeySet consensus;
      for (const analysis::PacketKey& k : base)
        if (!noise.contains(k)) consensus.insert(k);
      if (consensus.empty()) continue;
      // Kin candidates: the other same-version runs' packets to the same protocol, port and
      // flags (the variants among them are picked per packet below).
      std::unordered_map<uint64_t, std::vector<const analysis::PacketKey*>> kin_index;
      for (size_t i = 1; i < mine.size(); ++i)
        if (row < mine[i]->rows.size())
          for (const analysis::PacketKey& k : mine[i]->rows[row])
            if (k.payload_hash) kin_index[bucket(k)].push_back(&k);
      auto res = analysis::compute_unique_sets({&consensus, &others}, payloads, opts);
      for (const analysis::PacketKey& k : res[0].unique)
        if (listed.insert(k)) {
          auto it = k.payload_hash ? rival_index.find(bucket(k)) : rival_index.end();
          // Kin: this packet's variants in the other runs (similar as the exclusion has it).
          std::vector<uint64_t> kin;
          bool everywhere = true;  // the exact packet in every other run: its bytes are stable
          for (size_t i = 1; i < mine.size(); ++i)
            everywhere = everywhere && row < mine[i]->rows.size() && mine[i]->rows[row].contains(k);
          if (everywhere && mine.size() > 1 && k.payload_hash) kin.push_back(k.payload_hash);
          auto ki = k.payload_hash && kin.empty() ? kin_index.find(bucket(k)) : kin_index.end();
          const std::string* mine_payload = payloads.find(k.payload_hash);
          const analysis::SimilarityRule& sr = opts.rule(k.proto_class());
          if (ki != kin_index.end() && mine_payload)
            for (const analysis::PacketKey* c : ki->second) {
              const std::string* cp = payloads.find(c->payload_hash);
              const uint32_t diff = c->length > k.length ? c->length - k.length : k.length - c->length;
              if (cp && diff <= sr.max_length_diff &&
                  analysis::share_block(*mine_payload, *cp, std::max<size_t>(sr.min_common_block, 8)) &&
                  kin.size() < kMaxRivals)
                kin.push_back(c->payload_hash);
            }
          out.push_back({v, rows[row], k,
                         it == rival_index.end() ? std::vector<uint64_t>{} : it->second, kin});
        }
    }
  }
  return out;
}

std::pair<size_t, size_t> distinguishing_window(const std::string& payload,
                                                const std::vector<const std::string*>& rivals) {
  size_t d = 0;  // longest prefix shared with a rival
  for (const std::string* r : rivals) {
    size_t n = 0, lim = std::min(r->size(), payload.size());
    while (n < lim && (*r)[n] == payload[n]) ++n;
    d = std::max(d, n);
  }
  if (d >= payload.size()) d = payload.size() > kMaxContent ? payload.size() - kMaxContent : 0;
  return {d, std::min(kMaxContent, payload.size() - d)};
}

namespace {

/// The longest common substring of a and b: (offset in a, length). O(|a|·|b|) time, O(|b|)
/// memory; payloads are at most PayloadStore's 2 KiB.
std::pair<size_t, size_t> longest_common(const std::string& a, const std::string& b) {
  std::vector<uint16_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  size_t best = 0, end = 0;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? static_cast<uint16_t>(prev[j - 1] + 1) : 0;
      if (cur[j] > best) {
        best = cur[j];
        end = i;
      }
    }
    std::swap(prev, cur);
  }
  return {end - best, best};
}

}  // namespace

ContentWindow content_window(const std::string& payload,
                             const std::vector<const std::string*>& rivals,
                             const std::vector<const std::string*>& kin) {
  auto [off, len] = distinguishing_window(payload, rivals);
  const std::string w = payload.substr(off, len);
  bool stable = true;  // every other run of the version sent these bytes at this offset
  for (const std::string* k : kin)
    stable = stable && k->size() >= off + len && k->compare(off, len, w) == 0;
  if (stable || kin.empty()) return {off, len, true};
  // A run-to-run variable element in the window: the longest stretch this payload shares
  // with its kin, anywhere (unanchored), if no rival has it.
  auto [lo, ll] = longest_common(payload, *kin.front());
  ll = std::min(ll, kMaxContent);
  if (ll >= 8) {
    const std::string c = payload.substr(lo, ll);
    bool ok = true;
    for (const std::string* k : kin) ok = ok && k->find(c) != std::string::npos;
    for (const std::string* r : rivals) ok = ok && r->find(c) == std::string::npos;
    if (ok) return {lo, ll, false};
  }
  return {off, len, true};
}

}  // namespace testbed::ids
