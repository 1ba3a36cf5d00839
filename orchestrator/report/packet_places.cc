#include "orchestrator/report/packet_places.h"

#include <fmt/format.h>

#include "orchestrator/util/log.h"

namespace testbed::report {

const analysis::LocatedPacket* PacketPlaces::find(size_t c, const analysis::PacketKey& k) const {
  if (c >= located.size()) return nullptr;
  auto it = located[c].find(k);
  return it == located[c].end() ? nullptr : &it->second;
}

PacketPlaces locate_unique(const analysis::AnalysisResult& r,
                           const std::vector<std::string>& runs) {
  PacketPlaces out;
  out.runs = runs;
  for (size_t c = 0; c < r.captures.size(); ++c) {
    const analysis::CaptureAnalysis& cap = r.captures[c];
    out.first_ts.push_back(cap.first_ts);
    std::vector<analysis::PacketKey> keys;
    for (const analysis::UniqueTable* t : {&r.three_phase, &r.fine})
      for (const auto& row : t->cells)
        if (c < row.size()) keys.insert(keys.end(), row[c].unique.begin(), row[c].unique.end());
    analysis::LocatedPackets found;
    if (!keys.empty()) {
      auto l = analysis::locate_packets(cap.input.pcap, cap.scanner, r.options.key_fields, keys);
      if (l)
        found = std::move(*l);
      else
        util::log_warn("unique packets of {} shown without frame numbers: {}", cap.input.label,
                       l.error().message);
    }
    out.located.push_back(std::move(found));
  }
  return out;
}

std::string display_filter(const analysis::PacketKey& k, std::string_view payload) {
  const bool v4 = k.family == 4;
  std::string f = fmt::format("{0}.src == {1} && {0}.dst == {2}", v4 ? "ip" : "ipv6",
                              k.src_addr().str(), k.dst_addr().str());
  if (v4) f += fmt::format(" && ip.len == {}", k.length);
  const char* l4 = k.proto == 6 ? "tcp" : k.proto == 17 ? "udp" : nullptr;
  if (l4) f += fmt::format(" && {}.dstport == {}", l4, k.dport);
  if (k.proto == 6) f += fmt::format(" && tcp.flags == 0x{:03x}", k.tcp_flags);
  if (!l4) f += fmt::format(" && {}.proto == {}", v4 ? "ip" : "ipv6.nxt", k.proto);
  if (l4 && !payload.empty()) {
    f += fmt::format(" && {}.payload[0:{}] == ", l4, std::min<size_t>(payload.size(), 16));
    for (size_t i = 0; i < payload.size() && i < 16; ++i)
      f += fmt::format("{}{:02x}", i ? ":" : "", static_cast<unsigned char>(payload[i]));
  }
  return f;
}

std::string epoch_time(const analysis::LocatedPacket& at) {
  return fmt::format("{}.{:09d}", at.sec, at.nsec);
}

std::string payload_of(const analysis::PacketKey& k, const analysis::LocatedPacket* at,
                       const analysis::PayloadStore& store) {
  if (at) return at->payload;
  const std::string* s = store.find(k.payload_hash);
  return s ? *s : std::string();
}

}  // namespace testbed::report
