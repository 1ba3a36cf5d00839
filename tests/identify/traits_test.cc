// Traits of a real capture (tests/analysis/data/nmap793-loopback: Nmap 7.93 -A on
// loopback) and of crafted payloads; bad captures.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "orchestrator/identify/traits.h"
#include "orchestrator/util/files.h"

namespace testbed::identify {
namespace {

const std::filesystem::path kLoopback =
    std::filesystem::path(TESTBED_SOURCE_DIR) / "tests/analysis/data/nmap793-loopback/capture.pcap";

bool has_token_prefix(const CaptureTraits& t, std::string_view family, std::string_view prefix) {
  for (auto& [k, o] : t.keys) {
    auto [f, tok] = split_key(k);
    if (f == family && tok.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

TEST(Traits, RealNmapCaptureShowsItsProbes) {
  auto t = extract_traits(kLoopback);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->scanner.str(), "127.0.0.1");
  EXPECT_TRUE(t->scanner_auto);
  EXPECT_EQ(t->frames, 986u);
  EXPECT_EQ(t->sent, 552u);  // the README's Table 1 for this capture
  // -p 1-100,2121,8080: the SYN probe's port set.
  size_t ports = 0;
  for (auto& [k, o] : t->keys) ports += split_key(k).first == "ports";
  EXPECT_EQ(ports, 102u);
  EXPECT_TRUE(t->keys.count(trait_key("ports", "port 2121")));
  EXPECT_TRUE(t->keys.count(trait_key("syn", "syn w=1024 o=M1460 ttl=64")));
  // Nmap draws its raw probes' TTL (37-59 here) and IP ID at random.
  EXPECT_TRUE(t->keys.count(trait_key("ipid", "ipid varies")));
  EXPECT_TRUE(has_token_prefix(*t, "ttl", "ttl range="));
  // NSE's HTTP requests carry its User-Agent; OS detection its T2 probe (no flags).
  EXPECT_TRUE(has_token_prefix(*t, "http", "http-ua  Mozilla/5.0 (compatible; Nmap Scripting Engine"));
  EXPECT_TRUE(has_token_prefix(*t, "tcp:none", "tcp none w=128"));
  // No address anywhere in a trait.
  for (auto& [k, o] : t->keys) EXPECT_EQ(k.find("127.0.0"), std::string::npos) << k;
  const auto& first = t->keys.at(trait_key("ports", "port 2121"));
  EXPECT_GT(first.first_frame, 0u);
  EXPECT_TRUE(first.ports.empty());  // a probe trait has no service context
  // A payload trait keeps the service ports that drew it: NSE's HTTP requests went to
  // the scanned web ports (80 and 8080 in -p 1-100,2121,8080), nowhere else.
  for (auto& [k, o] : t->keys) {
    if (!split_key(k).second.starts_with("http-ua ")) continue;
    ASSERT_FALSE(o.ports.empty()) << k;
    for (uint16_t p : o.ports) EXPECT_TRUE(p <= 100 || p == 2121 || p == 8080) << k << " port " << p;
    EXPECT_TRUE(std::is_sorted(o.ports.begin(), o.ports.end()));
  }
}

TEST(Traits, GivenScannerThatSendsNothingIsAnError) {
  auto t = extract_traits(kLoopback, analysis::IpAddr::parse("198.51.100.7"));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("no scanner found"), std::string::npos) << t.error().message;
  EXPECT_NE(t.error().message.find("198.51.100.7"), std::string::npos);
}

TEST(Traits, NotACaptureIsAnError) {
  auto dir = util::TempDir::create("identify-traits");
  ASSERT_TRUE(dir.ok());
  auto f = dir->path() / "x.pcap";
  std::ofstream(f) << "hello\n";
  auto t = extract_traits(f);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("is it a pcap/pcapng file?"), std::string::npos) << t.error().message;
}

TEST(Traits, MasksIpv4LiteralsOnly) {
  EXPECT_EQ(mask_ipv4_literals("Host: 172.24.1.10\r\n"), "Host: IP\r\n");
  EXPECT_EQ(mask_ipv4_literals("v1.2.3 and 1.2.3.4:80"), "v1.2.3 and IP:80");
  EXPECT_EQ(mask_ipv4_literals("1234.1.1.1"), "1234.1.1.1");
}

std::vector<std::pair<std::string, std::string>> payload(std::string_view p) {
  std::vector<std::pair<std::string, std::string>> out;
  tcp_payload_traits(p, [&](std::string_view f, const std::string& t) { out.emplace_back(f, t); });
  return out;
}

TEST(Traits, TlsClientHelloByStructureNotRandom) {
  // Record, handshake header, version 0303, 32 random bytes, empty session id, two cipher
  // suites (a GREASE one and 0x1301), null compression, extensions 0 (sni) and 43.
  auto hello = [](unsigned char random_byte) {
    std::string h = {0x16, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x03};
    h += std::string(32, char(random_byte));
    h += std::string{0x00, 0x00, 0x04, 0x1a, 0x1a, 0x13, 0x01, 0x01, 0x00};
    h += std::string{0x00, 0x0c, 0x00, 0x00, 0x00, 0x04, 0x00, 0x02, 0x61, 0x62, 0x00, 0x2b, 0x00, 0x00};
    return h;
  };
  auto a = payload(hello(1)), b = payload(hello(2));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].first, "tls");
  EXPECT_EQ(a, b);  // the random does not matter
  EXPECT_NE(a[0].second.find("v=0303 ciphers=2#"), std::string::npos) << a[0].second;
  EXPECT_NE(a[0].second.find("ext=0,43,"), std::string::npos) << a[0].second;
}

TEST(Traits, HttpRequestShape) {
  auto t = payload("GET /robots.txt HTTP/1.1\r\nHost: 10.0.0.1\r\nUser-Agent: Foo/1\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], std::make_pair(std::string("http"), std::string("http GET /robots.txt HTTP/1.1")));
  EXPECT_EQ(t[1], std::make_pair(std::string("http"), std::string("http-ua  Foo/1")));
  // The set of header names, not their order (NSE's order changes from run to run).
  EXPECT_EQ(t[2], std::make_pair(std::string("http"), std::string("http-headers connection,host,user-agent,")));
  auto reordered = payload("GET /robots.txt HTTP/1.1\r\nConnection: close\r\nUser-Agent: Foo/1\r\nHost: 10.0.0.1\r\n\r\n");
  ASSERT_EQ(reordered.size(), 3u);
  EXPECT_EQ(reordered[2], t[2]);
  auto d = payload("\x03\x00\x00\x0b");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].first, "data");
}

}  // namespace
}  // namespace testbed::identify
