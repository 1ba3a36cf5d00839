// The pieces of RemoteCapture that need no lab host: counting a pcap stream that arrives
// in arbitrary pieces, and reading tcpdump's closing statistics.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <random>

#include "orchestrator/capture/capture.h"
#include "orchestrator/capture/remote_capture.h"
#include "orchestrator/util/files.h"

namespace testbed::capture {
namespace {

/// A nanosecond pcap with `n` records of sizes 0, 60, 1500, 60, … written by libpcap.
std::string make_pcap(const std::filesystem::path& dir, int n) {
  const auto path = dir / "s.pcap";
  pcap_t* p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(p, path.c_str());
  std::string payload(1500, 'x');
  for (int i = 0; i < n; ++i) {
    pcap_pkthdr h{};
    h.ts.tv_sec = 1764200000 + i;
    h.ts.tv_usec = 5;  // nanoseconds in a nanosecond dumper
    h.caplen = h.len = i == 0 ? 0 : (i % 2 ? 60 : 1500);
    pcap_dump(reinterpret_cast<u_char*>(d), &h, reinterpret_cast<const u_char*>(payload.data()));
  }
  pcap_dump_close(d);
  pcap_close(p);
  return util::read_file(path).value();
}

class PcapStream : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = util::TempDir::create("pcap-stream");
    ASSERT_TRUE(d.ok());
    dir_.emplace(std::move(*d));
    bytes_ = make_pcap(dir_->path(), 101);
  }
  std::optional<util::TempDir> dir_;
  std::string bytes_;
};

TEST_F(PcapStream, CountsRecordsWhateverTheChunking) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    PcapStreamCounter c;
    size_t off = 0;
    while (off < bytes_.size()) {
      size_t n = std::min<size_t>(bytes_.size() - off, 1 + rng() % (trial < 25 ? 7 : 4000));
      ASSERT_TRUE(c.feed(std::string_view(bytes_).substr(off, n)).ok());
      off += n;
    }
    EXPECT_EQ(c.records(), 101u);
    EXPECT_EQ(c.bytes_captured(), 50u * 60 + 50u * 1500);
    EXPECT_TRUE(c.at_boundary());
    EXPECT_DOUBLE_EQ(c.first_ts(), 1764200000 + 5e-9);
    EXPECT_DOUBLE_EQ(c.last_ts(), 1764200100 + 5e-9);
  }
}

TEST_F(PcapStream, CutStreamIsNotAtABoundary) {
  PcapStreamCounter c;
  ASSERT_TRUE(c.feed(std::string_view(bytes_).substr(0, bytes_.size() - 10)).ok());
  EXPECT_FALSE(c.at_boundary());
  PcapStreamCounter header_only;
  ASSERT_TRUE(header_only.feed(std::string_view(bytes_).substr(0, 20)).ok());
  EXPECT_FALSE(header_only.at_boundary());  // not even the file header
}

TEST_F(PcapStream, WrongMagicAndAbsurdRecordAreErrors) {
  PcapStreamCounter c;
  std::string bad = bytes_;
  bad[0] = 'X';
  auto st = c.feed(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not pcap"), std::string::npos);
  PcapStreamCounter huge;
  std::string h = bytes_.substr(0, 24 + 16);
  h[24 + 8 + 3] = '\x7f';  // caplen of record 1 (little-endian) ~2 GB
  auto st2 = huge.feed(h);
  ASSERT_FALSE(st2.ok());
  EXPECT_NE(st2.error().message.find("corrupt"), std::string::npos);
}

TEST(TcpdumpCounters, ReadsTheClosingStatistics) {
  auto c = parse_tcpdump_counters(
      "tcpdump: listening on tbx, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n"
      "1 packet captured\n5 packets received by filter\n3 packets dropped by kernel\n"
      "2 packets dropped by interface\n");
  EXPECT_TRUE(c.seen);
  EXPECT_EQ(c.captured, 1u);
  EXPECT_EQ(c.received, 5u);
  EXPECT_EQ(c.kernel_dropped, 3u);
  EXPECT_EQ(c.interface_dropped, 2u);
  EXPECT_FALSE(parse_tcpdump_counters("tcpdump: tbx: No such device exists\n").seen);
}

TEST(TcpdumpArgv, CarriesTheCaptureSettings) {
  CaptureOptions o;
  o.interface = "tbr-scan";
  o.snaplen = 65535;
  o.buffer_bytes = 4 << 20;
  o.bpf_filter = "not port 22";
  auto a = tcpdump_argv(o);
  std::string joined;
  for (const auto& s : a) joined += s + "|";
  EXPECT_EQ(joined,
            "tcpdump|-i|tbr-scan|-n|-s|65535|-B|4096|-U|--time-stamp-precision=nano|-w|-|not port "
            "22|");
}

// `lab capture --count N` on a remote lab host: tcpdump stops by itself after N packets.
TEST(TcpdumpArgv, MaxPacketsIsTcpdumpsCount) {
  CaptureOptions o;
  o.interface = "tbr-scan";
  o.max_packets = 10;
  o.bpf_filter = "icmp";
  auto a = tcpdump_argv(o);
  ASSERT_GE(a.size(), 3u);
  EXPECT_EQ(a[a.size() - 3], "-c");
  EXPECT_EQ(a[a.size() - 2], "10");
  EXPECT_EQ(a.back(), "icmp");
  o.max_packets = 0;
  for (const auto& s : tcpdump_argv(o)) EXPECT_NE(s, "-c");
}

// A filter is checked before any interface is opened (no root, no lab).
TEST(CheckFilter, CompilesForEthernetWithoutAnInterface) {
  EXPECT_TRUE(check_filter("").ok());
  EXPECT_TRUE(check_filter("icmp or arp").ok());
  EXPECT_TRUE(check_filter("ether proto 0x88b5").ok());
  auto bad = check_filter("icmp and");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("bad filter 'icmp and': ", 0), 0u) << bad.error().message;
  EXPECT_FALSE(check_filter("port 99999").ok());
}

}  // namespace
}  // namespace testbed::capture
