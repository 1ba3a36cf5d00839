// Inputs that once broke the analysis' parsers (found by the fuzz targets in tests/fuzz;
// each input is also in tests/fuzz/corpus/). They must give an error naming the file, or
// a result, and never throw. Also compiled into analysis_asan_test (ASan + UBSan).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestrator/analysis/decode.h"
#include "tests/analysis/nmap_input.h"
#include "orchestrator/analysis/phases.h"

namespace testbed::analysis {
namespace {

TEST(ParserHardening, PhasesJsonWithNonStringFormatIsAnError) {
  // Was: nlohmann's json::value() threw type_error.302 out of read_phase_timeline.
  for (const char* text : {R"({"format": 1, "version": 1, "intervals": []})",
                           R"({"format": null, "version": 1, "intervals": []})",
                           R"({"format": ["testbed-phases"], "version": 1, "intervals": []})"}) {
    auto tl = parse_phase_timeline(text, "p.json");
    ASSERT_FALSE(tl.ok()) << text;
    EXPECT_EQ(tl.error().message, "p.json: \"format\" must be \"testbed-phases\"");
  }
  // Every other field of the wrong type.
  for (
      const char* text :
      {R"({"format": "testbed-phases", "version": "1", "intervals": []})",
       R"({"format": "testbed-phases", "version": 1, "start": "x", "intervals": []})",
       R"({"format": "testbed-phases", "version": 1, "intervals": {}})",
       R"({"format": "testbed-phases", "version": 1, "intervals": [7]})",
       R"({"format": "testbed-phases", "version": 1, "intervals": [{"phase": 3}]})",
       R"({"format": "testbed-phases", "version": 1, "intervals": [{"phase": "os", "start": 1}]})",
       R"({"format": "testbed-phases", "version": 1, "intervals": [{"phase": "os", "start": 1, "end": 1e999}]})"}) {
    auto tl = parse_phase_timeline(text, "p.json");
    ASSERT_FALSE(tl.ok()) << text;
    EXPECT_EQ(tl.error().message.rfind("p.json: ", 0), 0u) << tl.error().message;
  }
}

TEST(ParserHardening, NonUtf8NmapOutputSurvivesPhasesJson) {
  // Was: phase_timeline_json threw type_error.316 on a label taken from a log line that is
  // not UTF-8, so the runner could not write phases.json.
  auto tl =
      parse_nmap_log("100.0 Initiating SYN \xff\xfe Scan at 22:21\n101.0 Completed SYN\n", "n.log");
  ASSERT_TRUE(tl.ok()) << tl.error().message;
  ASSERT_EQ(tl->intervals.size(), 1u);
  std::string json = phase_timeline_json(*tl);
  EXPECT_NE(json.find("SYN \xef\xbf\xbd\xef\xbf\xbd Scan"), std::string::npos) << json;  // U+FFFD
  auto back = parse_phase_timeline(json, "p.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->intervals[0].phase, Phase::kPortScan);
}

TEST(ParserHardening, NmapLogErrorsNameFileAndLine) {
  auto tl = parse_nmap_log("100.0 Starting Nmap\n\nnan Initiating Ping Scan\n", "n.log");
  ASSERT_FALSE(tl.ok());
  EXPECT_EQ(tl.error().message, "n.log:3: expected \"<epoch seconds> <nmap output line>\"");
  EXPECT_TRUE(parse_nmap_log("", "n.log").ok());  // an empty log is an empty timeline
  EXPECT_TRUE(parse_nmap_log(std::string("100 a\0b\n", 8), "n.log").ok());
}

TEST(ParserHardening, NmapXmlErrors) {
  auto bad = parse_nmap_xml("<nmaprun><host>", "x.xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("x.xml"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("at byte"), std::string::npos) << bad.error().message;
  auto other = parse_nmap_xml("<html/>", "x.xml");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message, "x.xml: no <nmaprun> element; not an Nmap XML report");
  EXPECT_FALSE(parse_nmap_xml("", "x.xml").ok());
  // Attributes of the wrong type read as 0, not as an error or a crash.
  auto odd =
      parse_nmap_xml(R"(<nmaprun start="soon"><runstats><finished time="x" elapsed="-1e999"/>)"
                     R"(<hosts up="many"/></runstats></nmaprun>)",
                     "x.xml");
  ASSERT_TRUE(odd.ok()) << odd.error().message;
  EXPECT_EQ(odd->hosts_up, 0);
  EXPECT_TRUE(odd->finished);
  EXPECT_FALSE(read_nmap_xml("/nonexistent/nmap.xml").ok());
}

TEST(ParserHardening, NmapXmlStringsAreValidUtf8) {
  // Was: `testbed analyze --json` aborted (nlohmann type_error.316) when a service banner
  // Nmap copied into the report was not UTF-8.
  auto x = parse_nmap_xml(
      "<nmaprun version=\"7.93\xff\"><host><address addr=\"10.0.0.1\" addrtype=\"ipv4\"/><ports>"
      "<port protocol=\"tcp\" portid=\"22\"><state state=\"open\"/><service name=\"ssh\" "
      "product=\"Open\xc3\x28SSH \xe2\x82\xac \xf0\x9f\x98\x80 \xc0\xaf \xed\xa0\x80\" "
      "version=\"\xe2\x82\"/></port></ports></host></nmaprun>",
      "x.xml");
  ASSERT_TRUE(x.ok()) << x.error().message;
  EXPECT_EQ(x->version, "7.93\xef\xbf\xbd");
  ASSERT_EQ(x->open_ports.size(), 1u);
  // Valid 2-, 3- and 4-byte sequences stay; a bad continuation, an overlong '/', a UTF-16
  // surrogate and a cut sequence become U+FFFD per byte.
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(x->open_ports[0], "10.0.0.1 22/tcp ssh Open" + r +
                                  "(SSH \xe2\x82\xac \xf0\x9f\x98\x80 " + r + r + " " + r + r + r +
                                  " " + r + r);
  nlohmann::json j = x->open_ports;
  EXPECT_NO_THROW((void)j.dump());
}

TEST(ParserHardening, MalformedOptionsAreFlaggedNotFatal) {
  // IPv4 with a 4-byte option area; TCP with an 8-byte option area.
  auto packet = [](std::vector<uint8_t> ip_opts, std::vector<uint8_t> tcp_opts) {
    // IPv4 172.24.0.10 -> 172.24.1.10, TTL 64, TCP; IHL from the options.
    std::vector<uint8_t> p = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0};
    p[0] = uint8_t(0x40 | (5 + ip_opts.size() / 4));
    for (uint8_t b : {172, 24, 0, 10, 172, 24, 1, 10}) p.push_back(b);
    p.insert(p.end(), ip_opts.begin(), ip_opts.end());
    // TCP SYN 40000 -> 80, window 1024; data offset from the options.
    std::vector<uint8_t> tcp = {0x9c, 0x40, 0,    80,   0, 0, 0, 1, 0, 0,
                                0,    0,    0x50, 0x02, 4, 0, 0, 0, 0, 0};
    tcp[12] = uint8_t((5 + tcp_opts.size() / 4) << 4);
    tcp.insert(tcp.end(), tcp_opts.begin(), tcp_opts.end());
    p.insert(p.end(), tcp.begin(), tcp.end());
    p[3] = uint8_t(p.size());
    PacketInfo d;
    decode_frame(12 /* DLT_RAW */, p.data(), uint32_t(p.size()), uint32_t(p.size()), &d);
    return d;
  };
  PacketInfo good = packet({1, 1, 1, 0}, {2, 4, 5, 0xb4, 1, 1, 1, 0});
  EXPECT_EQ(good.status, DecodeStatus::kOk);
  EXPECT_FALSE(good.bad_options);
  for (auto [ip, tcp] : std::vector<std::pair<std::vector<uint8_t>, std::vector<uint8_t>>>{
           {{1, 1, 1, 0}, {2, 0, 5, 0xb4, 0, 0, 0, 0}},   // TCP option length 0
           {{1, 1, 1, 0}, {2, 1, 5, 0xb4, 0, 0, 0, 0}},   // TCP option length 1
           {{1, 1, 1, 0}, {1, 1, 1, 1, 1, 1, 1, 8}},      // kind 8 without its length byte
           {{1, 1, 1, 0}, {3, 40, 7, 1, 1, 1, 1, 1}},     // runs past the header
           {{0x44, 12, 5, 0}, {1, 1, 1, 1, 1, 1, 1, 0}},  // IPv4 option past the IP header
           {{7, 0, 0, 0}, {1, 1, 1, 1, 1, 1, 1, 0}}}) {   // IPv4 option length 0
    PacketInfo d = packet(ip, tcp);
    EXPECT_EQ(d.status, DecodeStatus::kOk);
    EXPECT_TRUE(d.bad_options);
    EXPECT_EQ(d.dport, 80);
  }
}

}  // namespace
}  // namespace testbed::analysis
