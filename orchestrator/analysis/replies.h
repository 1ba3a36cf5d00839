#pragma once
// Which frames answer the probes a scanner sent, for `testbed export --direction all` (the
// targets' answers to a version's unique packets). A frame answers a probe when it comes
// after it, is addressed to the scanner, and is
//  - TCP or UDP from the probe's destination on the reversed port pair (SYN-ACK, RST, the
//    server's data of that connection, a UDP reply);
//  - an ICMP or ICMPv6 echo, timestamp, information or address-mask reply from the probe's
//    destination with the probe's identifier and sequence number;
//  - an ICMP or ICMPv6 error (unreachable, time exceeded, parameter problem, …) from anyone
//    (a router answers a traceroute probe) that quotes the probe: its addresses, protocol and
//    ports, or its echo identifier and sequence number.
#include <string>
#include <unordered_set>

#include "orchestrator/analysis/decode.h"

namespace testbed::analysis {

class ReplyMatcher {
 public:
  explicit ReplyMatcher(const IpAddr& scanner) : scanner_(scanner) {}
  /// Remembers a probe the scanner sent (a decoded frame whose source is the scanner).
  void add_probe(const PacketInfo& p);
  /// True when `p` answers a probe added before it.
  bool answers(const PacketInfo& p) const;
  bool empty() const { return probes_.empty(); }

 private:
  IpAddr scanner_;
  std::unordered_set<std::string> probes_;  ///< conversation keys (replies.cc)
};

}  // namespace testbed::analysis
