// The committed real Nmap capture (tests/analysis/data/README.md) and an independent
// cross-check of Table 1 against tshark's own dissection.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/analysis/nmap_input.h"
#include "orchestrator/analysis/analyze.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/analysis/pcap_builder.h"

namespace testbed::analysis {
namespace {

const std::string kData = std::string(TESTBED_SOURCE_DIR) + "/tests/analysis/data/nmap793-loopback/";

CaptureInput real_input() {
  CaptureInput in;
  in.label = "7.93";
  in.pcap = kData + "capture.pcap";
  in.result_file = kData + "nmap.xml";
  in.console_log = kData + "nmap.log";
  in.kind = &scanners::nmap::model();
  return in;
}

TEST(RealCapture, Nmap793LoopbackTable1) {
  PayloadStore ps;
  auto c = analyze_capture(real_input(), AnalysisOptions{}, ps);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->scanner.str(), "127.0.0.1");
  EXPECT_EQ(c->link_type_name, "EN10MB");
  EXPECT_EQ(c->decode.frames, 986u);
  EXPECT_EQ(c->decode.ok, 986u);
  // Figures checked against tshark (see the cross-check below and data/README.md).
  EXPECT_EQ(c->sent.packets, 552u);
  EXPECT_EQ(c->received.packets, 434u);
  EXPECT_EQ(c->sent.bytes, 46814u);
  EXPECT_EQ(c->received.bytes, 47871u);
  EXPECT_EQ(c->sent.by_proto, (std::array<uint64_t, 4>{10, 536, 6, 0}));
  EXPECT_EQ(c->received.by_proto, (std::array<uint64_t, 4>{16, 418, 0, 0}));
  EXPECT_EQ(c->duration_source, "nmap-xml");
  EXPECT_DOUBLE_EQ(c->duration, 19.28);
  // -p 1-100,2121,8080: 102 distinct ports in the SYN scan.
  EXPECT_EQ(c->port_usage.size(), 102u);
  // The log-derived timeline and the probe-shape classifier agree on most sent packets.
  ASSERT_TRUE(c->agreement.available);
  EXPECT_EQ(c->agreement.compared, 552u);
  EXPECT_GE(double(c->agreement.agreed) / double(c->agreement.compared), 0.9);
  EXPECT_EQ(c->sent_by_phase[int(Phase::kPortScan)].packets, 104u);  // 102 SYNs + 2 RSTs to open ports
  EXPECT_GT(c->sent_by_phase[int(Phase::kOs)].packets, 0u);
  EXPECT_GT(c->sent_by_phase[int(Phase::kScript)].packets, 0u);
}

struct TsharkCounts {
  uint64_t sent = 0, recv = 0, sent_bytes = 0, recv_bytes = 0;
  std::array<uint64_t, 4> sent_proto{}, recv_proto{};
};

// Table 1 from tshark's dissection: first (outer) IP header of each frame only.
std::optional<TsharkCounts> tshark_counts(const std::string& file, const std::string& scanner) {
  auto r = util::run_process({"tshark", "-n", "-r", file, "-T", "fields", "-E", "occurrence=f", "-E", "separator=,",
                              "-e", "frame.len", "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
                              "-e", "ip.proto", "-e", "ipv6.nxt"});
  if (!r.ok() || r->exit_code != 0) {
    ADD_FAILURE() << "tshark failed: " << (r.ok() ? r->err : r.error().message);
    return std::nullopt;
  }
  TsharkCounts t;
  std::istringstream in(r->out);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string x;
    while (std::getline(ss, x, ',')) f.push_back(x);
    f.resize(7);
    std::string src = f[1].empty() ? f[3] : f[1];
    std::string dst = f[2].empty() ? f[4] : f[2];
    int proto = !f[5].empty() ? std::stoi(f[5]) : !f[6].empty() ? std::stoi(f[6]) : -1;
    if (proto < 0) continue;
    int cls = (proto == 1 || proto == 58) ? 0 : proto == 6 ? 1 : proto == 17 ? 2 : 3;
    uint64_t len = std::stoull(f[0]);
    if (src == scanner) { ++t.sent; t.sent_bytes += len; ++t.sent_proto[cls]; }
    if (dst == scanner) { ++t.recv; t.recv_bytes += len; ++t.recv_proto[cls]; }
  }
  return t;
}

void expect_matches_tshark(const std::string& file) {
  PayloadStore ps;
  auto c = analyze_capture(with_nmap(CaptureInput{"x", file}), AnalysisOptions{}, ps);
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto t = tshark_counts(file, c->scanner.str());
  ASSERT_TRUE(t.has_value());
  EXPECT_GT(t->sent, 0u);
  EXPECT_EQ(c->sent.packets, t->sent) << file;
  EXPECT_EQ(c->received.packets, t->recv) << file;
  EXPECT_EQ(c->sent.bytes, t->sent_bytes) << file;
  EXPECT_EQ(c->received.bytes, t->recv_bytes) << file;
  EXPECT_EQ(c->sent.by_proto, t->sent_proto) << file;
  EXPECT_EQ(c->received.by_proto, t->recv_proto) << file;
}

TEST(TsharkCrossCheck, RealCapture) {
  if (!util::have_program("tshark")) GTEST_SKIP() << "tshark not installed";
  expect_matches_tshark(kData + "capture.pcap");
}

TEST(TsharkCrossCheck, SyntheticMixOnSll2AndIpv6) {
  if (!util::have_program("tshark")) GTEST_SKIP() << "tshark not installed";
  auto dir = util::TempDir::create("tshark-xcheck");
  ASSERT_TRUE(dir.ok());
  for (int dlt : {DLT_LINUX_SLL2, DLT_EN10MB}) {
    std::string file = (dir->path() / ("mix" + std::to_string(dlt) + ".pcap")).string();
    {
      testing::PcapWriter w(file, dlt);
      for (int i = 0; i < 300; ++i) {
        testing::Pkt p;
        bool v6 = i % 3 == 0;
        p.src = v6 ? "fd00::10" : "172.24.0.10";
        p.dst = v6 ? "fd00:1::" + std::to_string(i % 7 + 1) : "172.24.1." + std::to_string(i % 7 + 1);
        p.proto = std::array<uint8_t, 5>{6, 17, 1, 47, 6}[i % 5];
        if (v6 && p.proto == 1) p.proto = 58;
        p.dport = uint16_t(1 + i);
        p.payload = std::string(i % 11, 'a');
        p.ts = 1700000000.0 + i * 0.001;
        if (i % 4 == 0) std::swap(p.src, p.dst);  // replies
        w.add(p);
      }
    }
    // Auto-detection picks the IPv4 scanner (more ports); tshark agrees on its counts.
    expect_matches_tshark(file);
  }
}

}  // namespace
}  // namespace testbed::analysis
