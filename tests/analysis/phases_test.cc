#include "orchestrator/analysis/phases.h"

#include <gtest/gtest.h>

#include "tests/analysis/nmap_input.h"
#include "orchestrator/util/files.h"
#include "tests/analysis/pcap_builder.h"

namespace testbed::analysis {
namespace {
using testing::Pkt;

const std::string kData = std::string(TESTBED_SOURCE_DIR) + "/tests/analysis/data/nmap793-loopback/";

TEST(NmapLogPhaseTracker, TypicalMinusAOutput) {
  NmapLogPhaseTracker t;
  EXPECT_EQ(t.current_phase(), "");
  t.on_line(100.0, "Starting Nmap 7.80 ( https://nmap.org ) at 2026-11-26 21:50 UTC");
  t.on_line(100.1, "NSE: Loaded 151 scripts for scanning.");
  t.on_line(100.2, "Initiating Ping Scan at 21:50");
  EXPECT_EQ(t.current_phase(), "discovery");
  t.on_line(101.0, "Completed Ping Scan at 21:50, 0.80s elapsed (256 total hosts)");
  EXPECT_EQ(t.current_phase(), "other");
  t.on_line(101.1, "Initiating Parallel DNS resolution of 2 hosts. at 21:50");
  t.on_line(101.2, "Completed Parallel DNS resolution of 2 hosts. at 21:50, 0.01s elapsed");
  t.on_line(101.3, "Initiating SYN Stealth Scan at 21:50\r");
  t.on_line(103.0, "Completed SYN Stealth Scan at 21:50, 1.70s elapsed (2000 total ports)");
  t.on_line(103.1, "Initiating Service scan at 21:50");
  t.on_line(110.0, "Completed Service scan at 21:50, 6.90s elapsed (4 services on 2 hosts)");
  t.on_line(110.1, "Initiating OS detection (try #1) against 2 hosts");
  t.on_line(112.0, "Retrying OS detection (try #2) against 172.24.1.10");
  t.on_line(113.0, "Initiating Traceroute at 21:50");
  t.on_line(113.5, "Completed Traceroute at 21:50, 0.50s elapsed");
  t.on_line(113.6, "NSE: Script scanning 2 hosts.");
  EXPECT_EQ(t.current_phase(), "script");
  t.on_line(113.7, "Initiating NSE at 21:50");
  t.on_line(120.0, "Completed NSE at 21:51, 6.30s elapsed");
  t.on_line(121.0, "Nmap done: 256 IP addresses (2 hosts up) scanned in 21.00 seconds");
  PhaseTimeline tl = t.timeline();
  EXPECT_DOUBLE_EQ(tl.start, 100.0);
  EXPECT_DOUBLE_EQ(tl.end, 121.0);
  std::vector<std::pair<Phase, std::string>> got;
  for (const auto& iv : tl.intervals) got.emplace_back(iv.phase, iv.label);
  std::vector<std::pair<Phase, std::string>> want = {
      {Phase::kDiscovery, "Ping Scan"},
      {Phase::kDiscovery, "Parallel DNS resolution of 2 hosts"},
      {Phase::kPortScan, "SYN Stealth Scan"},
      {Phase::kService, "Service scan"},
      {Phase::kOs, "OS detection (try #1) against 2 hosts"},
      {Phase::kTraceroute, "Traceroute"},
      {Phase::kScript, "Script scanning"},
      {Phase::kScript, "NSE"},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(tl.phase_at(100.5), Phase::kDiscovery);
  EXPECT_EQ(tl.phase_at(102.0), Phase::kPortScan);
  EXPECT_EQ(tl.phase_at(111.0), Phase::kOs);
  EXPECT_EQ(tl.phase_at(112.5), Phase::kOs);      // the retry continues the OS interval
  EXPECT_EQ(tl.phase_at(113.2), Phase::kTraceroute);
  EXPECT_EQ(tl.phase_at(115.0), Phase::kScript);
  EXPECT_EQ(tl.phase_at(120.5), Phase::kOther);   // after the last Completed
  EXPECT_EQ(tl.phase_at(99.0), Phase::kOther);
}

// Nmap 7.01 (source build, 3 targets): hosts finishing the port scan at different times
// each get a per-host "Completed … against HOST … (N hosts left)" line; the port scan goes
// on for the remaining hosts until its own "Completed … elapsed" line. Ending the phase at
// the first per-host line put the last host's probes (218 packets) in "other".
TEST(NmapLogPhaseTracker, PerHostCompletionDoesNotEndThePhase) {
  NmapLogPhaseTracker t;
  t.on_line(830.80, "Initiating SYN Stealth Scan at 17:20");
  t.on_line(871.40, "Completed SYN Stealth Scan against 172.24.1.11 in 40.60s (2 hosts left)");
  EXPECT_EQ(t.current_phase(), "port-scan");
  t.on_line(875.00, "Completed SYN Stealth Scan against 172.24.1.10 in 44.20s (1 host left)");
  EXPECT_EQ(t.current_phase(), "port-scan");
  t.on_line(876.80, "Completed SYN Stealth Scan at 17:21, 46.00s elapsed (3000 total ports)");
  EXPECT_EQ(t.current_phase(), "other");
  PhaseTimeline tl = t.timeline();
  ASSERT_EQ(tl.intervals.size(), 1u);
  EXPECT_DOUBLE_EQ(tl.intervals[0].end, 876.80);
  EXPECT_EQ(tl.phase_at(873.0), Phase::kPortScan);
  EXPECT_EQ(tl.phase_at(876.0), Phase::kPortScan);
}

// Seen with Nmap 7.80 in the lab: the traceroute probes left 0.5 ms before the runner
// stamped "Initiating Traceroute"; they belong to traceroute, not to the gap before it.
TEST(PhaseTimeline, PacketsJustBeforeADelayedAnnouncementBelongToIt) {
  PhaseTimeline tl;
  tl.intervals = {{Phase::kOs, 10.0, 35.6900, "OS detection"},
                  {Phase::kTraceroute, 35.6909, 35.7011, "Traceroute"},
                  {Phase::kScript, 35.90, 36.5, "NSE"}};
  EXPECT_EQ(tl.phase_at(35.6904), Phase::kTraceroute);
  EXPECT_EQ(tl.phase_at(35.6900), Phase::kOs);           // still inside the OS interval
  EXPECT_EQ(tl.phase_at(35.80), Phase::kOther);          // a gap 100 ms before the next start
  EXPECT_EQ(tl.phase_at(35.90 - kAnnouncementLag / 2), Phase::kScript);
  EXPECT_EQ(tl.phase_at(9.0), Phase::kOther);
}

TEST(NmapLogPhaseTracker, RealNmap793Log) {
  auto tl = timeline_from_nmap_log(kData + "nmap.log");
  ASSERT_TRUE(tl.ok()) << tl.error().message;
  std::vector<Phase> phases;
  for (const auto& iv : tl->intervals)
    if (phases.empty() || phases.back() != iv.phase) phases.push_back(iv.phase);
  // Loopback: no host discovery; NSE pre-scan, DNS, SYN scan, versions, OS, scripts, post-scan.
  std::vector<Phase> want = {Phase::kScript, Phase::kDiscovery, Phase::kPortScan, Phase::kService,
                             Phase::kOs, Phase::kScript};
  EXPECT_EQ(phases, want);
}

TEST(PhaseTimeline, WriteReadRoundTripAndErrors) {
  auto dir = util::TempDir::create("phases-test");
  ASSERT_TRUE(dir.ok());
  PhaseTimeline tl;
  tl.start = 1700000000.25;
  tl.end = 1700000030.5;
  tl.source = "test";
  tl.intervals = {{Phase::kDiscovery, 1700000000.25, 1700000001.0, "Ping Scan"},
                  {Phase::kPortScan, 1700000001.0, 1700000010.0, "SYN Stealth Scan"}};
  auto path = dir->path() / "phases.json";
  ASSERT_TRUE(write_phase_timeline(path, tl).ok());
  auto back = read_phase_timeline(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_DOUBLE_EQ(back->start, tl.start);
  ASSERT_EQ(back->intervals.size(), 2u);
  EXPECT_EQ(back->intervals[1].phase, Phase::kPortScan);
  EXPECT_EQ(back->intervals[1].label, "SYN Stealth Scan");
  EXPECT_DOUBLE_EQ(back->intervals[1].end, 1700000010.0);

  auto bad = [&](const std::string& text) -> std::string {
    EXPECT_TRUE(util::write_file_atomic(path, text).ok());
    auto r = read_phase_timeline(path);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_NE(bad("not json").find("phases.json"), std::string::npos);
  EXPECT_NE(bad(R"({"format":"testbed-phases","version":1,"intervals":[{"phase":"warp","start":1,"end":2}]})")
                .find("warp"), std::string::npos);
  EXPECT_NE(bad(R"({"format":"testbed-phases","version":1,"intervals":[{"phase":"os","start":3,"end":2}]})")
                .find("before"), std::string::npos);
  bad(R"({"format":"testbed-phases","version":2,"intervals":[]})");
  bad(R"({"format":"other","version":1,"intervals":[]})");
}

TEST(NmapXml, RealReport) {
  auto x = read_nmap_xml(kData + "nmap.xml");
  ASSERT_TRUE(x.ok()) << x.error().message;
  EXPECT_EQ(x->version, "7.93");
  EXPECT_TRUE(x->finished);
  EXPECT_DOUBLE_EQ(x->elapsed, 19.28);
  EXPECT_EQ(x->hosts_up, 1);
  ASSERT_EQ(x->open_ports.size(), 2u);
  EXPECT_EQ(x->open_ports[0].rfind("127.0.0.2 2121/tcp", 0), 0u);
  EXPECT_NE(x->args.find("-A"), std::string::npos);
  EXPECT_FALSE(read_nmap_xml(kData + "nmap.log").ok());
}

// A PacketInfo's payload points into its frame: each call keeps its frame alive until the
// next call, which is all `classify(info(p), …)` needs (ASan caught the frame freed early).
PacketInfo info(const Pkt& p) {
  static testing::Bytes f;
  f = testing::frame(DLT_RAW, testing::ip_packet(p), testing::is_v6(p.src));
  PacketInfo d;
  decode_frame(DLT_RAW, f.data(), uint32_t(f.size()), uint32_t(f.size()), &d);
  return d;
}

TEST(PhaseClassifier, NmapProbeShapes) {
  PhaseClassifier c;
  // Host discovery: echo, timestamp, SYN to 443, ACK to 80.
  Pkt echo; echo.proto = 1; echo.icmp_type = 8;
  EXPECT_EQ(c.classify(info(echo), true), Phase::kDiscovery);
  Pkt ts = echo; ts.icmp_type = 13;
  EXPECT_EQ(c.classify(info(ts), true), Phase::kDiscovery);
  Pkt syn443; syn443.dport = 443;
  EXPECT_EQ(c.classify(info(syn443), true), Phase::kDiscovery);
  Pkt ack80; ack80.flags = kAck; ack80.tcp_options = {};
  EXPECT_EQ(c.classify(info(ack80), true), Phase::kDiscovery);
  // Port scan: bare SYN, window 1024, MSS only.
  Pkt syn; syn.dport = 22;
  EXPECT_EQ(c.classify(info(syn), true), Phase::kPortScan);
  EXPECT_EQ(c.classify(info(syn443), true), Phase::kPortScan);  // the 2nd SYN to 443 is the port scan's
  // The target's answer belongs to the same phase.
  Pkt rst; rst.src = syn.dst; rst.dst = syn.src; rst.sport = 22; rst.dport = 40000; rst.flags = kRst | kAck;
  EXPECT_EQ(c.classify(info(rst), false), Phase::kPortScan);
  // Version detection: a kernel connect() and its data.
  Pkt conn; conn.dport = 80; conn.sport = 51000; conn.window = 64240; conn.ttl = 64;
  conn.tcp_options = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
  EXPECT_EQ(c.classify(info(conn), true), Phase::kService);
  Pkt data = conn; data.flags = kPsh | kAck; data.tcp_options = {}; data.payload = "GET / HTTP/1.0\r\n\r\n";
  EXPECT_EQ(c.classify(info(data), true), Phase::kService);
  // OS detection probes.
  Pkt seq; seq.window = 63; seq.tcp_options = {3, 3, 10, 1, 2, 4, 5, 0xb4, 4, 2};
  EXPECT_EQ(c.classify(info(seq), true), Phase::kOs);
  Pkt ecn; ecn.flags = kSyn | kEce | kCwr; ecn.window = 3;
  EXPECT_EQ(c.classify(info(ecn), true), Phase::kOs);
  Pkt t2; t2.flags = 0; t2.window = 128;
  EXPECT_EQ(c.classify(info(t2), true), Phase::kOs);
  Pkt u1; u1.proto = 17; u1.dport = 31000; u1.payload = std::string(300, 'C');
  EXPECT_EQ(c.classify(info(u1), true), Phase::kOs);
  Pkt ie; ie.proto = 1; ie.icmp_type = 8; ie.icmp_code = 9; ie.payload = std::string(120, '\0');
  EXPECT_EQ(c.classify(info(ie), true), Phase::kOs);
  // Traceroute: small TTL.
  Pkt tr = syn; tr.ttl = 2;
  EXPECT_EQ(c.classify(info(tr), true), Phase::kTraceroute);
  // After OS detection, new connections are NSE's.
  Pkt conn2 = conn; conn2.sport = 52000;
  EXPECT_EQ(c.classify(info(conn2), true), Phase::kScript);
  // IPv6 echo is discovery.
  Pkt e6; e6.src = "fd00::10"; e6.dst = "fd00:1::10"; e6.proto = 58; e6.icmp_type = 128;
  EXPECT_EQ(c.classify(info(e6), true), Phase::kDiscovery);
}

TEST(PhaseGroups, Mapping) {
  EXPECT_EQ(phase_group(Phase::kDiscovery), PhaseGroup::kHorizontal);
  EXPECT_EQ(phase_group(Phase::kPortScan), PhaseGroup::kStrobe);
  for (Phase p : {Phase::kService, Phase::kOs, Phase::kScript, Phase::kTraceroute})
    EXPECT_EQ(phase_group(p), PhaseGroup::kServices);
  EXPECT_EQ(phase_group(Phase::kOther), PhaseGroup::kOther);
  for (Phase p : kAllPhases) EXPECT_EQ(parse_phase(phase_name(p)), p);
}

}  // namespace
}  // namespace testbed::analysis
