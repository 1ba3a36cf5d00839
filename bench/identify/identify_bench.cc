// Identify benchmark (not a timed test). Writes a capture of --packets frames (default
// 100,000) by repeating the frames of a real Nmap 7.93 -A scan, then prints `name: value`
// lines: the best of five wall times of identify (trait extraction + matching with the
// shipped model) and of analyze (the analysis `testbed analyze` runs) on that file, their
// packets per second and the ratio identify/analyze. Target: identify under 1 s.
#include <pcap/pcap.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/identify/identify.h"

namespace fs = std::filesystem;
namespace id = testbed::identify;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Copies the frames of `in` into `out` again and again until `n` are written.
bool make_capture(const fs::path& in, const fs::path& out, uint64_t n) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* dead = nullptr;
  pcap_dumper_t* d = nullptr;
  uint64_t written = 0;
  double shift = 0;
  while (written < n) {
    pcap_t* p = pcap_open_offline(in.c_str(), err);
    if (!p) { std::fprintf(stderr, "%s\n", err); return false; }
    if (!dead) {
      dead = pcap_open_dead(pcap_datalink(p), 262144);
      d = pcap_dump_open(dead, out.c_str());
      if (!d) { std::fprintf(stderr, "%s\n", pcap_geterr(dead)); return false; }
    }
    pcap_pkthdr* h;
    const u_char* data;
    double last = 0;
    while (written < n && pcap_next_ex(p, &h, &data) == 1) {
      pcap_pkthdr c = *h;
      double t = double(h->ts.tv_sec) + h->ts.tv_usec / 1e6 + shift;
      c.ts.tv_sec = long(t);
      c.ts.tv_usec = long((t - double(long(t))) * 1e6);
      last = t;
      pcap_dump(reinterpret_cast<u_char*>(d), &c, data);
      ++written;
    }
    shift = last + 1 - shift;
    pcap_close(p);
  }
  pcap_dump_close(d);
  pcap_close(dead);
  return true;
}

template <typename F>
double best_of(int n, F f) {
  double best = 1e9;
  for (int i = 0; i < n; ++i) {
    double t0 = now();
    if (!f()) return -1;
    best = std::min(best, now() - t0);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path workdir = "identify-bench-data";
  uint64_t packets = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--workdir") workdir = argv[i + 1];
    else if (a == "--packets") packets = std::stoull(argv[i + 1]);
  }
  fs::create_directories(workdir);
  const fs::path file = workdir / fmt::format("nmap793-x{}.pcap", packets);
  const fs::path src = fs::path(TESTBED_SOURCE_DIR) / "tests/analysis/data/nmap793-loopback/capture.pcap";
  if (!fs::exists(file) && !make_capture(src, file, packets)) return 1;
  auto model = id::default_model();
  if (!model) { std::fprintf(stderr, "%s\n", model.error().message.c_str()); return 1; }
  std::string answer;
  double t_id = best_of(5, [&] {
    auto t = id::extract_traits(file);
    if (!t) { std::fprintf(stderr, "%s\n", t.error().message.c_str()); return false; }
    answer = id::identify(*model, *t, file.string()).summary();
    return true;
  });
  double t_an = best_of(5, [&] {
    testbed::analysis::CaptureInput in;
    in.label = "bench";
    in.pcap = file;
    auto r = testbed::analysis::analyze({in}, {});
    if (!r) { std::fprintf(stderr, "%s\n", r.error().message.c_str()); return false; }
    return true;
  });
  if (t_id < 0 || t_an < 0) return 1;
  fmt::print("identify_capture_packets: {}\n", packets);
  fmt::print("identify_answer: {}\n", answer);
  fmt::print("identify_seconds: {:.3f}\n", t_id);
  fmt::print("identify_packets_per_second: {:.0f}\n", double(packets) / t_id);
  fmt::print("analyze_seconds: {:.3f}\n", t_an);
  fmt::print("identify_to_analyze_ratio: {:.2f}\n", t_id / t_an);
  fmt::print("identify_under_1s: {}\n", t_id < 1.0 ? "yes" : "no");
  return 0;
}
