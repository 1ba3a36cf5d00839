// Rule text without Suricata: content escaping, the rule's options, the distinguishing window.
#include <gtest/gtest.h>

#include "orchestrator/ids/rule.h"
#include "orchestrator/ids/select.h"

namespace testbed::ids {
namespace {

TEST(ContentEscape, QuotesSemicolonsPipesBackslashesAndNonUtf8BecomeHex) {
  // " ; | \ are Suricata's content metacharacters; 0xff 0xfe is not UTF-8; é is UTF-8 but
  // not ASCII; CR LF are control bytes. Runs of such bytes share one |…| block.
  const std::string payload = std::string("a\"b;c|d\\e") + "\xff\xfe" + "f\xc3\xa9g\r\n";
  EXPECT_EQ(content_escape(payload), "a|22|b|3B|c|7C|d|5C|e|FF FE|f|C3 A9|g|0D 0A|");
  EXPECT_EQ(content_escape("GET / HTTP/1.0"), "GET / HTTP/1.0");
  EXPECT_EQ(content_escape(std::string("\0\0", 2)), "|00 00|");
  EXPECT_EQ(content_escape(""), "");
}

TEST(RuleText, TcpRuleHasEveryMatchAndItsProvenance) {
  RuleSpec r;
  r.sid = 1000007;
  r.version = "7.80";
  r.phase = "script";
  r.run = "7.80/1";
  r.frame = 42;
  r.key = "6/172.24.0.10/172.24.1.10/80/PA/len90/00ff";
  r.dst = "172.24.1.10";
  r.dport = 80;
  r.tcp_flags = 0x18;
  r.ip_len = 90;
  r.dsize = 38;
  r.content = "User-Agent: x;\"y\"";
  r.offset = 4;
  EXPECT_EQ(rule_text(r),
            "alert tcp any any -> 172.24.1.10 80 (msg:\"testbed: Nmap 7.80 script unique packet "
            "(TCP 172.24.1.10:80 PA len 90)\"; flags:PA; dsize:38; ipv4.hdr; content:\"|00 5A|\"; "
            "offset:2; depth:2; pkt_data; content:\"User-Agent: x|3B 22|y|22|\"; offset:4; "
            "depth:17; metadata: testbed_version 7.80, testbed_phase script, testbed_run 7.80/1, "
            "testbed_frame 42, testbed_key 6/172.24.0.10/172.24.1.10/80/PA/len90/00ff; "
            "sid:1000007; rev:1;)");
}

TEST(RuleText, MsgAndMetadataCannotBreakTheRule) {
  RuleSpec r;
  r.proto = 1;
  r.version = "x\";y,z";
  r.phase = "discovery";
  r.icmp_type = 8;
  r.icmp_code = 0;
  const std::string t = rule_text(r);
  EXPECT_NE(t.find("alert icmp any any -> any any"), std::string::npos) << t;
  EXPECT_NE(t.find("Nmap x\\\"\\;y,z discovery"), std::string::npos) << t;
  EXPECT_NE(t.find("testbed_version x__y_z,"), std::string::npos) << t;
  EXPECT_NE(t.find("itype:8; icode:0;"), std::string::npos) << t;
  EXPECT_EQ(t.find("flags:"), std::string::npos) << "no TCP flags on ICMP";
}

TEST(DistinguishingWindow, StartsWhereTheNearestRivalDiffers) {
  const std::string mine = "GET /nmaplowercheck1234 HTTP/1.1\r\n";
  const std::string rival = "GET /nmaplowercheck9999 HTTP/1.1\r\n";
  const std::string other = "POST /";
  auto [off, len] = distinguishing_window(mine, {&other, &rival});
  EXPECT_EQ(off, 19u);
  EXPECT_EQ(len, mine.size() - 19);
  auto [o2, l2] = distinguishing_window(mine, {});
  EXPECT_EQ(o2, 0u);
  EXPECT_EQ(l2, mine.size());
  // A payload that is a rival's prefix: its last bytes (here all of it).
  const std::string longer = mine + "Host: x\r\n";
  auto [o3, l3] = distinguishing_window(mine, {&longer});
  EXPECT_EQ(o3, 0u);
  EXPECT_EQ(l3, mine.size());
  // Never more than kMaxContent bytes.
  auto [o4, l4] = distinguishing_window(std::string(500, 'A'), {});
  EXPECT_EQ(l4, kMaxContent);
}

}  // namespace
}  // namespace testbed::ids

namespace testbed::ids {
namespace {

TEST(ContentWindow, ARunToRunTokenMovesTheContentToTheBytesEveryRunSent) {
  // Two runs of one version: a random token right where the rival (another version) differs.
  const std::string mine = "GET /a8f3k2 HTTP/1.1\r\nUser-Agent: Nmap NSE\r\nX-Probe: v7\r\n\r\n";
  const std::string kin = "GET /zz91q0 HTTP/1.1\r\nUser-Agent: Nmap NSE\r\nX-Probe: v7\r\n\r\n";
  const std::string rival = "GET / HTTP/1.0\r\n\r\n";
  auto w = content_window(mine, {&rival}, {&kin});
  EXPECT_FALSE(w.anchored);
  EXPECT_EQ(mine.substr(w.offset, w.length), " HTTP/1.1\r\nUser-Agent: Nmap NSE\r\nX-Probe: v7\r\n\r\n");
  // The same bytes in every run: the distinguishing window, anchored.
  auto same = content_window(mine, {&rival}, {&mine});
  EXPECT_TRUE(same.anchored);
  EXPECT_EQ(same.offset, 5u);
}

}  // namespace
}  // namespace testbed::ids
