#include "orchestrator/analysis/decode.h"

#include <gtest/gtest.h>

#include "orchestrator/analysis/packet_key.h"
#include "tests/analysis/pcap_builder.h"

namespace testbed::analysis {
namespace {
using testing::Bytes;
using testing::Pkt;

PacketInfo decode(int dlt, const Bytes& f, uint32_t cap = UINT32_MAX) {
  PacketInfo p;
  uint32_t c = std::min<uint32_t>(cap, uint32_t(f.size()));
  decode_frame(dlt, f.data(), c, uint32_t(f.size()), &p);
  return p;
}

TEST(Decode, EthernetIpv4TcpFields) {
  Pkt p;
  p.payload = "hello";
  p.flags = kSyn | kAck;
  Bytes f = testing::frame(DLT_EN10MB, testing::ip_packet(p), false);
  PacketInfo d = decode(DLT_EN10MB, f);
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.wire_len, f.size());
  EXPECT_EQ(d.ip_version, 4);
  EXPECT_EQ(d.src.str(), "172.24.0.10");
  EXPECT_EQ(d.dst.str(), "172.24.1.10");
  EXPECT_EQ(d.proto_class, ProtoClass::kTcp);
  EXPECT_EQ(d.sport, 40000);
  EXPECT_EQ(d.dport, 80);
  EXPECT_EQ(d.tcp_flags, kSyn | kAck);
  EXPECT_EQ(tcp_flags_str(d.tcp_flags), "SA");
  EXPECT_EQ(d.tcp_window, 1024);
  EXPECT_EQ(d.tcp_opt_len, 4);
  EXPECT_EQ(d.ttl, 45);
  EXPECT_EQ(d.ip_len, 20u + 24u + 5u);
  ASSERT_EQ(d.payload_caplen, 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(d.payload), 5), "hello");
}

TEST(Decode, EthernetPaddingIsNotPayload) {
  Pkt p;  // 44-byte SYN: Ethernet pads to 60 bytes
  Bytes f = testing::frame(DLT_EN10MB, testing::ip_packet(p), false);
  f.resize(60, 0);
  PacketInfo d = decode(DLT_EN10MB, f);
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.payload_len, 0u);
  EXPECT_EQ(d.payload_caplen, 0u);
  EXPECT_EQ(d.wire_len, 60u);
}

TEST(Decode, VlanTag) {
  Pkt p;
  Bytes ip = testing::ip_packet(p);
  Bytes f = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x81, 0x00, 0x00, 0x05, 0x08, 0x00};
  f.insert(f.end(), ip.begin(), ip.end());
  PacketInfo d = decode(DLT_EN10MB, f);
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.dport, 80);
}

TEST(Decode, LinkTypesSllSll2Raw) {
  Pkt p;
  p.proto = 17;
  p.dport = 53;
  p.payload = "q";
  for (int dlt : {DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4}) {
    Bytes f = testing::frame(dlt, testing::ip_packet(p), false);
    PacketInfo d = decode(dlt, f);
    EXPECT_EQ(d.status, DecodeStatus::kOk) << dlt;
    EXPECT_EQ(d.proto_class, ProtoClass::kUdp) << dlt;
    EXPECT_EQ(d.dport, 53) << dlt;
    EXPECT_EQ(d.payload_len, 1u) << dlt;
  }
}

TEST(Decode, Ipv6WithHopByHopHeader) {
  Pkt p;
  p.src = "fd00::10";
  p.dst = "fd00:1::10";
  p.hop_by_hop = true;
  p.dport = 443;
  PacketInfo d = decode(DLT_EN10MB, testing::frame(DLT_EN10MB, testing::ip_packet(p), true));
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.ip_version, 6);
  EXPECT_EQ(d.ip_proto, 6);
  EXPECT_EQ(d.dport, 443);
  EXPECT_EQ(d.src.str(), "fd00::10");
  EXPECT_EQ(d.ip_len, 40u + 8u + 24u);
}

TEST(Decode, Icmpv6) {
  Pkt p;
  p.src = "fd00::10";
  p.dst = "fd00:1::10";
  p.proto = 58;
  p.icmp_type = 128;
  PacketInfo d = decode(DLT_RAW, testing::frame(DLT_RAW, testing::ip_packet(p), true));
  EXPECT_EQ(d.status, DecodeStatus::kOk);
  EXPECT_EQ(d.proto_class, ProtoClass::kIcmp);
  EXPECT_EQ(d.icmp_type, 128);
}

TEST(Decode, TruncatedAndMalformedNeverCrash) {
  Pkt p;
  p.payload = std::string(100, 'x');
  Bytes f = testing::frame(DLT_EN10MB, testing::ip_packet(p), false);
  // Every possible cut of the frame decodes to some status without reading past it.
  for (uint32_t cap = 0; cap <= f.size(); ++cap) {
    Bytes cut(f.begin(), f.begin() + cap);  // exact-size buffer: ASan would catch overreads
    PacketInfo d;
    decode_frame(DLT_EN10MB, cut.data(), cap, uint32_t(f.size()), &d);
    if (cap < 14 + 20 + 24) EXPECT_EQ(d.status, DecodeStatus::kTruncated) << cap;
    else EXPECT_EQ(d.status, DecodeStatus::kOk) << cap;
    EXPECT_EQ(d.snaplen_cut, cap < f.size());
  }
  // Snaplen-cut payload: the headers' length, only the captured bytes.
  PacketInfo d = decode(DLT_EN10MB, f, 14 + 20 + 24 + 10);
  EXPECT_EQ(d.payload_len, 100u);
  EXPECT_EQ(d.payload_caplen, 10u);
  // IHL < 5.
  Bytes bad = f;
  bad[14] = 0x43;
  EXPECT_EQ(decode(DLT_EN10MB, bad).status, DecodeStatus::kMalformed);
  // TCP data offset < 5.
  bad = f;
  bad[14 + 20 + 12] = 0x40;
  EXPECT_EQ(decode(DLT_EN10MB, bad).status, DecodeStatus::kMalformed);
  // Not IP (ARP).
  Bytes arp = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x06, 0, 1};
  EXPECT_EQ(decode(DLT_EN10MB, arp).status, DecodeStatus::kNotIp);
  EXPECT_EQ(decode(147, f).status, DecodeStatus::kUnsupportedLink);
  // Random garbage on every link type.
  uint32_t seed = 1;
  for (int round = 0; round < 2000; ++round) {
    Bytes g(seed % 90);
    for (auto& b : g) b = uint8_t((seed = seed * 1103515245 + 12345) >> 16);
    for (int dlt : {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_NULL}) {
      PacketInfo x;
      decode_frame(dlt, g.data(), uint32_t(g.size()), uint32_t(g.size()), &x);
      EXPECT_LE(x.payload_caplen, g.size());
    }
  }
}

TEST(Decode, IpAddrParse) {
  EXPECT_EQ(IpAddr::parse("10.0.0.1").family, 4);
  EXPECT_EQ(IpAddr::parse("fd00::1").family, 6);
  EXPECT_EQ(IpAddr::parse("nope").family, 0);
  EXPECT_EQ(IpAddr::parse("fd00::1").str(), "fd00::1");
}

TEST(PacketKey, StudyKeyIgnoresSourcePortSeqAck) {
  Pkt a, b;
  b.sport = 50000;
  PacketInfo da = decode(DLT_RAW, testing::frame(DLT_RAW, testing::ip_packet(a), false));
  PacketInfo db = decode(DLT_RAW, testing::frame(DLT_RAW, testing::ip_packet(b), false));
  EXPECT_EQ(make_packet_key(da, 0, 0), make_packet_key(db, 0, 0));
  Pkt c = a;
  c.ttl = 50;
  PacketInfo dc = decode(DLT_RAW, testing::frame(DLT_RAW, testing::ip_packet(c), false));
  EXPECT_EQ(make_packet_key(da, 0, 0), make_packet_key(dc, 0, 0));
  EXPECT_FALSE(make_packet_key(da, 0, kKeyTtl) == make_packet_key(dc, 0, kKeyTtl));
}

TEST(PacketKey, ParseKeyFields) {
  auto f = parse_key_fields("ttl, window,tcp-options");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, uint32_t(kKeyTtl | kKeyWindow | kKeyTcpOptions));
  EXPECT_EQ(key_fields_str(*f), "ttl,window,tcp-options");
  auto bad = parse_key_fields("ttl,colour");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("colour"), std::string::npos);
}

}  // namespace
}  // namespace testbed::analysis
