#pragma once
// Nmap's packets attributed to phases by their shape (the fallback when no timeline
// exists, and the tie-breaker near phase boundaries).
#include <memory>

#include "orchestrator/analysis/decode.h"
#include "orchestrator/analysis/flat_map.h"
#include "orchestrator/analysis/scanner_model.h"

namespace testbed::scanners::nmap {
using analysis::FlatU64Map;
using analysis::IpAddr;
using analysis::PacketInfo;
using analysis::Phase;

/// Attributes packets to phases from their shape alone (no timeline), following Nmap's
/// documented probes (nmap.org/book: host discovery, SYN scan, OS detection probe set,
/// version detection, NSE, traceroute). Stateful: feed packets in capture order.
/// The rules are listed in analysis/README.md.
class ShapeClassifier : public analysis::ShapeClassifier {
 public:
  /// `sent`: the packet comes from the scanner; otherwise it is addressed to it.
  analysis::Phase classify(const analysis::PacketInfo& p, bool sent) override;

 private:
  Phase classify_sent(const PacketInfo& p);
  uint64_t host_key(const IpAddr& a);
  // Keys are well-mixed 64-bit values (host_key's XXH3, mixed with ports): flat maps.
  FlatU64Map<Phase> by_port_;       // (remote host, remote port) -> phase
  FlatU64Map<Phase> by_conn_;       // (remote host, remote port, local port) -> phase
  FlatU64Map<Phase> by_host_;       // remote host -> last phase
  FlatU64Map<uint32_t> raw_syns_;   // remote host -> raw SYN probes so far
  bool after_os_ = false;     // OS/traceroute probes seen: later connect traffic is NSE
  IpAddr last_addr_;          // host_key() cache: consecutive packets share hosts
  uint64_t last_key_ = 0;
  uint64_t last_host_ = 0;    // by_host_ write cache
  Phase last_host_phase_ = Phase::kOther;
  bool last_host_valid_ = false;
};

std::unique_ptr<analysis::ShapeClassifier> make_classifier();

}  // namespace testbed::scanners::nmap
