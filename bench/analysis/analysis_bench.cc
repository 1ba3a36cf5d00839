// Analysis benchmark (not a timed test). Prints `name: value` lines:
//   analyze throughput on a >= 1,000,000-packet capture with an Nmap-like scan mix, its ratio
//   to a bare libpcap read loop (pcap_next_ex), the project's capture reader alone against
//   the same loop, speed-up over `tshark -q -z io,phs` and over a dpkt script
//   doing the Table 1 counts, the unique-set + similarity step on 3 x 200,000 sent packets,
//   and peak RSS of analysing a 10,000,000-packet capture (in a child process).
#include <pcap/pcap.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/analysis/capture_file.h"
#include "orchestrator/scanners/nmap/model.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"
#include "tests/analysis/pcap_builder.h"

namespace ta = testbed::analysis;
namespace tt = testbed::analysis::testing;
namespace fs = std::filesystem;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

const char* kScanner = "172.24.0.10";

// Writes `n` packets of an Nmap -A-like scan of 172.24.1.1-254: per host discovery probes
// and answers, a 1000-port SYN scan (every 50th port open: SYN/ACK + scanner RST, else RST),
// connect + HTTP request with a random token + response for open ports, OS probes.
// Successive rounds scan the next 1000 ports (like -p- split in chunks), so distinct keys
// grow with the capture, as in a real large scan.
uint64_t generate(const std::string& file, uint64_t n) {
  tt::PcapWriter w(file, DLT_EN10MB, 262144);
  if (!w.ok()) return 0;
  std::mt19937 rng(42);
  uint64_t written = 0;
  double ts = 1795700000.0;
  auto add = [&](tt::Pkt p, bool reply) {
    if (written >= n) return;
    if (reply) {
      std::swap(p.src, p.dst);
      std::swap(p.sport, p.dport);
    }
    ts += 0.00001;
    p.ts = ts;
    w.add(p);
    ++written;
  };
  for (uint32_t round = 0; written < n; ++round) {
    uint16_t base = uint16_t((round * 1000) % 64000);
    for (int h = 1; h <= 254 && written < n; ++h) {
      std::string host = "172.24.1." + std::to_string(h);
      tt::Pkt p;
      p.src = kScanner;
      p.dst = host;
      // discovery
      tt::Pkt echo = p; echo.proto = 1; echo.icmp_type = 8;
      add(echo, false);
      tt::Pkt er = echo; er.icmp_type = 0; er.ttl = 64;
      add(er, true);
      tt::Pkt tsq = echo; tsq.icmp_type = 13; tsq.payload = std::string(12, '\0');
      add(tsq, false);
      tt::Pkt s443 = p; s443.dport = 443;
      add(s443, false);
      tt::Pkt a80 = p; a80.dport = 80; a80.flags = ta::kAck; a80.tcp_options = {};
      add(a80, false);
      tt::Pkt a80r = a80; a80r.flags = ta::kRst; a80r.ttl = 64;
      add(a80r, true);
      // port scan
      for (uint16_t i = 1; i <= 1000; ++i) {
        tt::Pkt syn = p; syn.dport = uint16_t(base + i); syn.sport = 61000;
        add(syn, false);
        bool open = i % 50 == 0;
        tt::Pkt ans = syn; ans.ttl = 64; ans.tcp_options = {};
        ans.flags = open ? (ta::kSyn | ta::kAck) : (ta::kRst | ta::kAck);
        add(ans, true);
        if (open) {
          tt::Pkt rst = syn; rst.flags = ta::kRst; rst.tcp_options = {};
          add(rst, false);
          // service: kernel connection with an HTTP request carrying a random token
          tt::Pkt c = syn; c.sport = uint16_t(32768 + rng() % 28000); c.ttl = 64; c.window = 64240;
          c.tcp_options = {2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
          add(c, false);
          tt::Pkt ca = c; ca.flags = ta::kSyn | ta::kAck;
          add(ca, true);
          tt::Pkt d = c; d.flags = ta::kPsh | ta::kAck; d.tcp_options = {}; d.window = 502;
          d.payload = fmt::format("GET /nmaplowercheck{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
                                  1600000000 + rng() % 99999999, host);
          add(d, false);
          tt::Pkt resp = d; resp.payload = std::string(300, 'r');
          add(resp, true);
          tt::Pkt fin = d; fin.flags = ta::kFin | ta::kAck; fin.payload.clear();
          add(fin, false);
        }
      }
      // OS detection: SEQ probes, ECN, T2-T7, U1, IE
      for (uint16_t win : {1, 63, 4, 4, 16, 512}) {
        tt::Pkt q = p; q.dport = uint16_t(base + 50); q.window = win;
        q.tcp_options = {3, 3, 10, 1, 2, 4, 5, 0xb4, 4, 2, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
        add(q, false);
      }
      tt::Pkt ecn = p; ecn.dport = uint16_t(base + 50); ecn.flags = ta::kSyn | ta::kEce | ta::kCwr; ecn.window = 3;
      add(ecn, false);
      for (uint8_t f : {uint8_t(0), uint8_t(ta::kSyn | ta::kFin | ta::kPsh | ta::kUrg), uint8_t(ta::kAck),
                        uint8_t(ta::kSyn), uint8_t(ta::kAck), uint8_t(ta::kFin | ta::kPsh | ta::kUrg)}) {
        tt::Pkt t = p; t.dport = 1; t.flags = f; t.window = 128;
        add(t, false);
      }
      tt::Pkt u1 = p; u1.proto = 17; u1.dport = 40125; u1.payload = std::string(300, 'C');
      add(u1, false);
      tt::Pkt ie = echo; ie.icmp_code = 9; ie.payload = std::string(120, '\0');
      add(ie, false);
    }
  }
  w.close();
  return written;
}

double bare_read(const std::string& file, uint64_t* count) {
  char err[PCAP_ERRBUF_SIZE];
  double t0 = now();
  pcap_t* p = pcap_open_offline(file.c_str(), err);
  if (!p) return -1;
  pcap_pkthdr* h;
  const u_char* d;
  uint64_t n = 0;
  while (pcap_next_ex(p, &h, &d) == 1) ++n;
  pcap_close(p);
  *count = n;
  return now() - t0;
}

// The project's reader (analysis/capture_file.h) alone over the same file.
double reader_read(const std::string& file, uint64_t* count) {
  double t0 = now();
  auto f = ta::CaptureFile::open(file);
  if (!f) return -1;
  ta::Frame fr;
  uint64_t n = 0;
  while (f->next(&fr)) ++n;
  *count = n;
  return now() - t0;
}

double time_analyze(const std::string& file, ta::AnalysisResult* out) {
  double t0 = now();
  auto r = ta::analyze({ta::CaptureInput{"bench", file, {}, {}, {}, &testbed::scanners::nmap::model()}}, ta::AnalysisOptions{});
  double t = now() - t0;
  if (!r) {
    fmt::print(stderr, "analyze failed: {}\n", r.error().message);
    return -1;
  }
  if (out) *out = std::move(*r);
  return t;
}

// 3 versions x 200,000 sent keys: 95% bare probes (99% shared), 5% payload probes with tokens.
double unique_step() {
  std::mt19937 rng(7);
  ta::PayloadStore ps(2048, 256u << 20);
  std::vector<ta::PacketKeySet> sets(3);
  for (int v = 0; v < 3; ++v) {
    for (uint32_t i = 0; i < 200000; ++i) {
      ta::PacketKey k;
      k.family = 4;
      k.src[0] = 172; k.src[1] = 24; k.src[3] = 10;
      k.dst[0] = 172; k.dst[1] = 24; k.dst[2] = 1; k.dst[3] = uint8_t(1 + i % 254);
      k.proto = 6;
      bool payload = i % 20 == 0;
      bool version_specific = i % 100 == 1;
      k.dport = uint16_t(1 + (i / 254) % 65000 + (version_specific ? 1000 * v : 0));
      k.tcp_flags = payload ? (ta::kPsh | ta::kAck) : ta::kSyn;
      k.length = 44;
      if (payload) {
        std::string s = fmt::format("GET /nmaplowercheck{} HTTP/1.1\r\nHost: 172.24.1.{}\r\n\r\n", rng() % 100000000,
                                    k.dst[3]);
        k.payload_hash = ta::payload_hash(reinterpret_cast<const uint8_t*>(s.data()), s.size());
        k.length = uint32_t(40 + s.size());
        ps.add(k.payload_hash, reinterpret_cast<const uint8_t*>(s.data()), s.size());
      }
      sets[v].insert(k);
    }
  }
  std::vector<const ta::PacketKeySet*> ptrs = {&sets[0], &sets[1], &sets[2]};
  double t0 = now();
  size_t common = 0;
  auto r = ta::compute_unique_sets(ptrs, ps, ta::SimilarityOptions{}, &common);
  double t = now() - t0;
  fmt::print("analysis.unique_3x200k.common: {}\n", common);
  fmt::print("analysis.unique_3x200k.unique_v1: {}\n", r[0].unique.size());
  fmt::print("analysis.unique_3x200k.removed_by_similarity_v1: {}\n", r[0].removed_total());
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::string workdir = "bench-analysis-data", dpkt_script;
  uint64_t n1 = 1000000, n10 = 10000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--workdir") workdir = argv[i + 1];
    else if (a == "--dpkt-script") dpkt_script = argv[i + 1];
    else if (a == "--packets") n1 = std::stoull(argv[i + 1]);
    else if (a == "--rss-packets") n10 = std::stoull(argv[i + 1]);
  }
  testbed::util::set_log_level(testbed::util::LogLevel::kWarn);
  fs::create_directories(workdir);
  std::string f1 = workdir + "/scan-1m.pcap", f10 = workdir + "/scan-10m.pcap";

  double t0 = now();
  uint64_t written = generate(f1, n1);
  fmt::print("analysis.capture_packets: {}\n", written);
  fmt::print("analysis.capture_bytes: {}\n", fs::file_size(f1));
  fmt::print("analysis.generate_s: {:.2f}\n", now() - t0);

  uint64_t counted = 0;
  double bare = 1e9;
  for (int i = 0; i < 3; ++i) bare = std::min(bare, bare_read(f1, &counted));
  uint64_t reader_counted = 0;
  double reader = 1e9;
  for (int i = 0; i < 3; ++i) reader = std::min(reader, reader_read(f1, &reader_counted));
  double an = 1e9;
  ta::AnalysisResult res;
  for (int i = 0; i < 3; ++i) an = std::min(an, time_analyze(f1, i == 0 ? &res : nullptr));
  if (an < 0) return 1;
  const auto& c = res.captures.at(0);
  fmt::print("analysis.sent_packets: {}\n", c.sent.packets);
  fmt::print("analysis.received_packets: {}\n", c.received.packets);
  fmt::print("analysis.bare_read_pps: {:.0f}\n", counted / bare);
  fmt::print("analysis.analyze_pps: {:.0f}\n", written / an);
  fmt::print("analysis.analyze_s: {:.3f}\n", an);
  fmt::print("analysis.ratio_vs_bare_read: {:.2f} (goal >= 0.5)\n", bare / an);
  fmt::print("analysis.reader_pps: {:.0f}{}\n", reader_counted / reader,
             reader_counted == counted ? "" : " (COUNT DIFFERS from the bare loop)");
  fmt::print("analysis.reader_ratio_vs_bare_read: {:.2f} (the reader alone; > 1 is faster)\n", bare / reader);

  if (testbed::util::have_program("tshark")) {
    double ts0 = now();
    auto r = testbed::util::run_process({"tshark", "-q", "-z", "io,phs", "-r", f1});
    double t = now() - ts0;
    if (r.ok() && r->exit_code == 0) {
      fmt::print("analysis.tshark_phs_s: {:.2f}\n", t);
      fmt::print("analysis.speedup_vs_tshark: {:.1f} (goal >= 50)\n", t / an);
    } else {
      fmt::print("analysis.tshark_phs_s: failed\n");
    }
  } else {
    fmt::print("analysis.tshark_phs_s: skipped (tshark not installed)\n");
  }

  std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  if (!dpkt_script.empty()) {
    double tp0 = now();
    auto r = testbed::util::run_process({python, dpkt_script, f1, kScanner});
    double t = now() - tp0;
    if (r.ok() && r->exit_code == 0) {
      auto j = nlohmann::json::parse(r->out, nullptr, false);
      bool match = !j.is_discarded() && j["sent"]["packets"] == c.sent.packets &&
                   j["received"]["packets"] == c.received.packets && j["sent"]["bytes"] == c.sent.bytes &&
                   j["received"]["bytes"] == c.received.bytes && j["sent"]["tcp"] == c.sent.by_proto[1];
      fmt::print("analysis.dpkt_s: {:.2f}\n", t);
      fmt::print("analysis.dpkt_counts_match: {}\n", match ? "yes" : "NO");
      fmt::print("analysis.speedup_vs_dpkt: {:.1f} (goal >= 100)\n", t / an);
    } else {
      fmt::print("analysis.dpkt_s: failed ({})\n", r.ok() ? r->err : r.error().message);
    }
  }

  fmt::print("analysis.unique_3x200k_s: {:.3f} (goal < 2)\n", unique_step());
  std::fflush(stdout);

  // Peak RSS on 10M packets, measured in a child so the parent's memory does not count.
  if (n10 > 0) {
    double g0 = now();
    uint64_t w10 = generate(f10, n10);
    fmt::print("analysis.rss_capture_packets: {}\n", w10);
    fmt::print("analysis.rss_generate_s: {:.1f}\n", now() - g0);
    std::fflush(stdout);
    double a0 = now();
    pid_t pid = fork();
    if (pid == 0) {
      auto r = ta::analyze({ta::CaptureInput{"bench10m", f10, {}, {}, {}, &testbed::scanners::nmap::model()}}, ta::AnalysisOptions{});
      if (r) fmt::print("analysis.rss_distinct_sent_keys: {}\n",
                        r->captures[0].sent_keys[int(ta::Phase::kPortScan)].size());
      std::fflush(stdout);
      _exit(r ? 0 : 1);
    }
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    double t = now() - a0;
    fmt::print("analysis.rss_10m_analyze_s: {:.1f}\n", t);
    fmt::print("analysis.rss_10m_peak_mib: {:.0f} (goal < 1024)\n", ru.ru_maxrss / 1024.0);
    fs::remove(f10);
  }
  return 0;
}
