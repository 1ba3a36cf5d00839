// libFuzzer target: a whole capture file (pcap or pcapng) through analyze_capture — libpcap's
// file reader, scanner detection, decoding, phase attribution and the Table 1/2 counters.
// libpcap reads files, so each input is written to a temporary file first (one name per
// process, removed after each input).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/scanners/nmap/model.h"

namespace {

const std::string& capture_path() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp && *tmp ? tmp : "/tmp") + "/testbed-fuzz-pcap." +
           std::to_string(getpid()) + ".pcap";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace testbed::analysis;
  FILE* f = std::fopen(capture_path().c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  CaptureInput in;
  in.label = "fuzz";
  in.pcap = capture_path();
  in.kind = &testbed::scanners::nmap::model();  // its packet-shape classifier too
  PayloadStore payloads(256, 1u << 20);
  auto c = analyze_capture(in, AnalysisOptions{}, payloads);
  // Removed every time: libFuzzer ends with _Exit(), which runs no destructors.
  std::remove(capture_path().c_str());
  if (c) {
    std::vector<const CaptureAnalysis*> one = {&*c};
    (void)unique_table(one, true, payloads, SimilarityOptions{});
  }
  return 0;
}
