#pragma once
// Test helper: a small results directory (runner.h layout) with captures the test writes
// itself through libpcap's dump API (pcap_open_dead + pcap_dump), phases.json and
// manifest.json — an Nmap-like scan of two targets, with per-version differences the tests
// know exactly.
#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace testbed::report::testing {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v & 0xff));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, uint16_t(v >> 16));
  put16(b, uint16_t(v & 0xffff));
}

struct Pkt {
  std::string src = "172.24.0.10", dst = "172.24.1.10";
  uint8_t proto = 6;  // 6 TCP, 1 ICMP
  uint16_t sport = 40000, dport = 80;
  uint8_t flags = 0x02;
  std::string payload;
  double ts = 1700000000.0;
};

/// Ethernet + IPv4 + TCP/ICMP frame.
inline Bytes frame(const Pkt& p) {
  Bytes l4;
  if (p.proto == 6) {
    put16(l4, p.sport);
    put16(l4, p.dport);
    put32(l4, 0x01020304);
    put32(l4, 0);
    l4.push_back(0x60);
    l4.push_back(p.flags);
    put16(l4, 1024);
    put16(l4, 0);
    put16(l4, 0);
    l4.push_back(2);
    l4.push_back(4);
    put16(l4, 1460);  // MSS
  } else {
    l4.push_back(8);
    l4.push_back(0);
    put16(l4, 0);
    put32(l4, 0x00010002);
  }
  l4.insert(l4.end(), p.payload.begin(), p.payload.end());
  Bytes b = {0x52, 0x54, 0, 0, 0, 1, 0x52, 0x54, 0, 0, 0, 2, 0x08, 0x00};
  b.push_back(0x45);
  b.push_back(0);
  put16(b, uint16_t(20 + l4.size()));
  put16(b, 0x1234);
  put16(b, 0);
  b.push_back(50);
  b.push_back(p.proto);
  put16(b, 0);
  in_addr s{}, d{};
  inet_pton(AF_INET, p.src.c_str(), &s);
  inet_pton(AF_INET, p.dst.c_str(), &d);
  const auto* sb = reinterpret_cast<const uint8_t*>(&s);
  const auto* db = reinterpret_cast<const uint8_t*>(&d);
  b.insert(b.end(), sb, sb + 4);
  b.insert(b.end(), db, db + 4);
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

/// Writes `pkts` as an Ethernet pcap; returns the byte total.
inline uint64_t write_pcap(const fs::path& path, const std::vector<Pkt>& pkts) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  uint64_t bytes = 0;
  for (const Pkt& p : pkts) {
    Bytes f = frame(p);
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(p.ts);
    h.ts.tv_usec = static_cast<suseconds_t>((p.ts - static_cast<double>(h.ts.tv_sec)) * 1e6);
    h.caplen = h.len = static_cast<uint32_t>(f.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
    bytes += f.size();
  }
  pcap_dump_close(d);
  pcap_close(dead);
  return bytes;
}

inline void write_text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << s;
}

/// What one scan run does differently.
struct ScanSpec {
  std::string version = "7.80";
  int rep = 1;
  std::vector<uint16_t> extra_ports;  ///< port-scan phase: more SYNs to 172.24.1.10
  std::string extra_payload;          ///< service phase: one more request with this payload
  bool extra_discovery = false;       ///< discovery: one more ICMP echo (to .99)
  std::string kind;                   ///< manifest scanner_kind ("" = none recorded: Nmap)
};

constexpr double kT0 = 1700000000.0;

/// The packets of one Nmap-like scan: discovery (ICMP echo to both targets), port scan (SYN to
/// 20 ports of each target, SYN-ACK back from 22 and 80, RST from the rest), service (HTTP
/// request to port 80 and its answer).
inline std::vector<Pkt> scan_packets(const ScanSpec& s) {
  std::vector<Pkt> v;
  double t = kT0 + 0.1;
  for (std::string dst : {"172.24.1.10", "172.24.1.11"}) {
    Pkt p;
    p.dst = dst;
    p.proto = 1;
    p.ts = t;
    t += 0.01;
    v.push_back(p);
    Pkt r;
    r.src = dst;
    r.dst = "172.24.0.10";
    r.proto = 1;
    r.ts = t;
    t += 0.01;
    v.push_back(r);
  }
  if (s.extra_discovery) {
    Pkt p;
    p.dst = "172.24.1.99";
    p.proto = 1;
    p.ts = t;
    v.push_back(p);
  }
  t = kT0 + 1.1;
  std::vector<uint16_t> ports = {21,  22,  23,  25,   53,   80,   110,  139,  143,  443,
                                 445, 993, 995, 1723, 3306, 3389, 5900, 8080, 8443, 9999};
  for (std::string dst : {"172.24.1.10", "172.24.1.11"}) {
    std::vector<uint16_t> ps = ports;
    if (dst == std::string("172.24.1.10"))
      ps.insert(ps.end(), s.extra_ports.begin(), s.extra_ports.end());
    for (uint16_t port : ps) {
      Pkt p;
      p.dst = dst;
      p.dport = port;
      p.ts = t;
      t += 0.001;
      v.push_back(p);
      Pkt r;
      r.src = dst;
      r.dst = "172.24.0.10";
      r.sport = port;
      r.dport = 40000;
      r.flags = (port == 22 || port == 80) ? 0x12 : 0x14;
      r.ts = t;
      t += 0.001;
      v.push_back(r);
    }
  }
  t = kT0 + 3.1;
  Pkt get;
  get.dport = 80;
  get.sport = 41000;
  get.flags = 0x18;
  get.payload = "GET / HTTP/1.0\r\n\r\n";
  get.ts = t;
  v.push_back(get);
  Pkt ans;
  ans.src = "172.24.1.10";
  ans.dst = "172.24.0.10";
  ans.sport = 80;
  ans.dport = 41000;
  ans.flags = 0x18;
  ans.payload = "HTTP/1.1 200 OK\r\nServer: Apache\r\n\r\n";
  ans.ts = t + 0.01;
  v.push_back(ans);
  if (!s.extra_payload.empty()) {
    Pkt x;
    x.dport = 8081;
    x.sport = 41001;
    x.flags = 0x18;
    x.payload = s.extra_payload;
    x.ts = t + 0.2;
    v.push_back(x);
  }
  return v;
}

inline std::string phases_json() {
  nlohmann::json j = {
      {"format", "testbed-phases"},
      {"version", 1},
      {"clock", "unix-epoch-seconds"},
      {"source", "test"},
      {"start", kT0},
      {"end", kT0 + 5},
      {"intervals",
       {{{"phase", "discovery"}, {"start", kT0}, {"end", kT0 + 1}, {"label", "Ping Scan"}},
        {{"phase", "port-scan"},
         {"start", kT0 + 1},
         {"end", kT0 + 3},
         {"label", "SYN Stealth Scan"}},
        {{"phase", "service"}, {"start", kT0 + 3}, {"end", kT0 + 5}, {"label", "Service scan"}}}}};
  return j.dump(2);
}

/// Writes one complete run directory <dir>/<version>/<rep>/.
inline void write_run(const fs::path& results, const ScanSpec& s) {
  fs::path d = results / s.version / std::to_string(s.rep);
  fs::create_directories(d);
  auto pkts = scan_packets(s);
  uint64_t bytes = write_pcap(d / "capture.pcap", pkts);
  write_text(d / "phases.json", phases_json());
  nlohmann::json m = {
      {"status", "complete"},
      {"run", {{"label", s.version}, {"repetition", s.rep}}},
      {"capture",
       {{"interface", "vnet0"},
        {"snaplen", 262144},
        {"packets", pkts.size()},
        {"bytes", bytes},
        {"kernel_dropped", 0},
        {"interface_dropped", 0}}},
      {"scan", {{"started", kT0}, {"finished", kT0 + 5}, {"exit_status", 0}}},
      {"scanner_version",
       "\nNmap version " + s.version + " ( https://nmap.org )\nPlatform: x86_64-pc-linux-gnu\n"},
      {"scanner_command", {"nmap", "-T4", "-A", "-v", "-oX", "/root/x.xml", "172.24.1.0/24"}},
      {"images",
       {{"scanner", {{"name", "scanner-nmap-" + s.version}, {"key", "0123456789abcdef"}}}}},
      {"lab", {{"scanner_address", "172.24.0.10"}}},
      {"testbed", {{"version", "0.1.0"}, {"git_revision", "cafef00d"}}},
      {"host", {{"kernel", "6.1.0-test"}}},
      {"experiment", {{"name", "unit"}, {"sha256", "abc123"}}}};
  if (!s.kind.empty()) m["scanner_kind"] = s.kind;
  write_text(d / "manifest.json", m.dump(2));
}

inline void write_plan(const fs::path& results, const std::vector<std::string>& versions,
                       int reps) {
  nlohmann::json plan = {
      {"experiment", "unit"}, {"repetitions", reps}, {"scanners", nlohmann::json::array()}};
  for (const auto& v : versions)
    plan["scanners"].push_back({{"label", v}, {"image", "scanner-nmap-" + v}});
  write_text(results / "plan.json", plan.dump(2));
  write_text(results / "experiment.yaml",
             "name: unit\ntopology: ../topology/does-not-exist.yaml\nanalysis:\n  key_fields: []\n"
             "  similarity:\n    tcp: {max_length_diff: 32, min_common_block: 16}\n");
}

/// The report tests' results directory (report, golden, findings tests): plan 7.80, 7.93,
/// 7.95 × 2; 7.80 and 7.93 with two complete runs each; 7.93 probes 31337 and 8888 (and
/// `more_ports`) more and sends one more request carrying `payload`; 7.80/2 pings one more
/// address (run-to-run noise). 7.95's runs are the caller's.
inline void write_report_fixture(const fs::path& r, const std::string& payload,
                                 const std::vector<uint16_t>& more_ports = {}) {
  write_plan(r, {"7.80", "7.93", "7.95"}, 2);
  write_run(r, {"7.80", 1});
  ScanSpec n{"7.80", 2};
  n.extra_discovery = true;
  write_run(r, n);
  for (int rep : {1, 2}) {
    ScanSpec s{"7.93", rep};
    s.extra_ports = {31337, 8888};
    s.extra_ports.insert(s.extra_ports.end(), more_ports.begin(), more_ports.end());
    s.extra_payload = payload;
    write_run(r, s);
  }
}

inline std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace testbed::report::testing
