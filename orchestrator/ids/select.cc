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
      // Sent by every training run of v in this phase (a run without the row has none).
      analysis::PacketKeySet consensus;
      if (row < mine.front()->rows.size())
        for (const analysis::PacketKey& k : mine.front()->rows[row]) {
          bool all = true;
          for (size_t i = 1; i < mine.size() && all; ++i)
            all = row < mine[i]->rows.size() && mine[i]->rows[row].contains(k);
          if (all) consensus.insert(k);
        }
      if (consensus.empty()) continue;
      auto res = analysis::compute_unique_sets({&consensus, &others}, payloads, opts);
      for (const analysis::PacketKey& k : res[0].unique)
        if (listed.insert(k)) {
          auto it = k.payload_hash ? rival_index.find(bucket(k)) : rival_index.end();
          out.push_back({v, rows[row], k,
                         it == rival_index.end() ? std::vector<uint64_t>{} : it->second});
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

}  // namespace testbed::ids
