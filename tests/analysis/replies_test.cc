// ReplyMatcher (analysis/replies.h): which frames answer a scanner's probes, on frames built
// byte by byte (tests/analysis/pcap_builder.h) and decoded as the capture reader decodes them.
#include "orchestrator/analysis/replies.h"

#include <gtest/gtest.h>

#include "tests/analysis/pcap_builder.h"

namespace testbed::analysis {
namespace {
using testing::Bytes;
using testing::Pkt;

const char* kScanner = "172.24.0.10";
const char* kTarget = "172.24.1.10";

/// Decodes `p` as a raw IP frame; `keep` holds the bytes `payload` points into.
PacketInfo decoded(const Pkt& p, Bytes* keep) {
  *keep = testing::ip_packet(p);
  PacketInfo d;
  decode_frame(DLT_RAW, keep->data(), uint32_t(keep->size()), uint32_t(keep->size()), &d);
  return d;
}

Pkt reply_to(const Pkt& probe) {
  Pkt r = probe;
  std::swap(r.src, r.dst);
  std::swap(r.sport, r.dport);
  return r;
}

/// An ICMP error from `from` to the scanner quoting `probe` whole.
Pkt icmp_error(const Pkt& probe, const std::string& from, uint8_t type, uint8_t code) {
  Pkt e;
  e.src = from;
  e.dst = kScanner;
  e.proto = 1;
  e.icmp_type = type;
  e.icmp_code = code;
  const Bytes q = testing::ip_packet(probe);
  e.payload.assign(q.begin(), q.end());
  return e;
}

bool answers(const ReplyMatcher& m, const Pkt& p) {
  Bytes keep;
  return m.answers(decoded(p, &keep));
}

TEST(ReplyMatcher, TcpAndUdpOnTheReversedPortPairFromTheTarget) {
  ReplyMatcher m(IpAddr::parse(kScanner));
  Pkt syn;
  syn.dport = 31337;
  Pkt udp;
  udp.proto = 17;
  udp.sport = 50000;
  udp.dport = 161;
  Pkt rst = reply_to(syn);
  rst.flags = kRst | kAck;
  EXPECT_FALSE(answers(m, rst)) << "nothing was sent yet";
  Bytes k1, k2;
  m.add_probe(decoded(syn, &k1));
  m.add_probe(decoded(udp, &k2));
  EXPECT_TRUE(answers(m, rst));
  EXPECT_TRUE(answers(m, reply_to(udp)));
  Pkt other_port = rst;
  other_port.sport = 31338;
  EXPECT_FALSE(answers(m, other_port));
  Pkt other_host = rst;
  other_host.src = "172.24.1.11";
  EXPECT_FALSE(answers(m, other_host));
  Pkt to_someone_else = rst;
  to_someone_else.dst = "172.24.0.11";
  EXPECT_FALSE(answers(m, to_someone_else));
  EXPECT_FALSE(answers(m, syn)) << "the probe itself is no answer";
  Pkt udp_as_tcp = reply_to(udp);
  udp_as_tcp.proto = 6;
  EXPECT_FALSE(answers(m, udp_as_tcp));
}

TEST(ReplyMatcher, EchoRepliesByIdentifierAndSequence) {
  ReplyMatcher m(IpAddr::parse(kScanner));
  Pkt echo;
  echo.proto = 1;
  echo.icmp_type = 8;  // pcap_builder: identifier 1, sequence 2
  Bytes k;
  m.add_probe(decoded(echo, &k));
  Pkt reply = reply_to(echo);
  reply.icmp_type = 0;
  EXPECT_TRUE(answers(m, reply));
  Pkt timestamp_reply = reply;
  timestamp_reply.icmp_type = 14;  // answers a timestamp request, which was not sent
  EXPECT_FALSE(answers(m, timestamp_reply));
  Bytes f = testing::ip_packet(reply);
  f[20 + 7] = 3;  // sequence 2 -> 3 (identifier: bytes 4-5, sequence: 6-7)
  PacketInfo d;
  decode_frame(DLT_RAW, f.data(), uint32_t(f.size()), uint32_t(f.size()), &d);
  EXPECT_EQ(d.icmp_rest, 0x00010003u);
  EXPECT_FALSE(m.answers(d));
}

TEST(ReplyMatcher, IcmpErrorsQuotingTheProbeFromAnyone) {
  ReplyMatcher m(IpAddr::parse(kScanner));
  Pkt udp;
  udp.proto = 17;
  udp.dport = 1434;
  udp.payload = "\x02";
  Pkt syn;  // a traceroute probe: the router answers
  syn.dport = 80;
  syn.ttl = 1;
  Bytes k1, k2;
  m.add_probe(decoded(udp, &k1));
  m.add_probe(decoded(syn, &k2));
  EXPECT_TRUE(answers(m, icmp_error(udp, kTarget, 3, 3)));          // port unreachable
  EXPECT_TRUE(answers(m, icmp_error(syn, "172.24.0.1", 11, 0)));    // time exceeded
  Pkt other = udp;
  other.dport = 1435;
  EXPECT_FALSE(answers(m, icmp_error(other, kTarget, 3, 3)));
  Pkt not_ours = udp;
  not_ours.src = "172.24.0.11";
  EXPECT_FALSE(answers(m, icmp_error(not_ours, kTarget, 3, 3)));
  Pkt echo_request_quoted = icmp_error(udp, kTarget, 3, 3);
  echo_request_quoted.icmp_type = 8;  // not an error: an echo request from the target
  EXPECT_FALSE(answers(m, echo_request_quoted));
}

}  // namespace
}  // namespace testbed::analysis
