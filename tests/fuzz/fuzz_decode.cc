// libFuzzer target: one captured frame through the packet decoder, the packet-shape phase
// classifier and the packet key — everything that reads packet bytes.
// Input: byte 0 picks the link type (and how much longer the frame was on the wire),
// the rest is the frame. libFuzzer's buffer ends exactly at the frame's end, so ASan
// catches any read past it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "orchestrator/analysis/decode.h"
#include "orchestrator/analysis/packet_key.h"
#include "orchestrator/analysis/phases.h"
#include "orchestrator/scanners/nmap/shapes.h"

namespace {
using namespace testbed::analysis;

// Every DLT decode_frame knows, plus one it does not (USB, 189).
constexpr int kLinkTypes[] = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 189};
constexpr size_t kLinkTypeCount = sizeof kLinkTypes / sizeof kLinkTypes[0];

void check(bool ok) {
  if (!ok) std::abort();  // an invariant of decode.h broken: libFuzzer reports the input
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1u << 20) return 0;
  const int lt = kLinkTypes[data[0] % kLinkTypeCount];
  const uint8_t* frame = data + 1;
  const uint32_t cap = uint32_t(size - 1);
  const uint32_t wire = cap + (data[0] >> 4) * 100u;  // 0: whole frame, else snaplen-cut
  PacketInfo p;
  decode_frame(lt, frame, cap, wire, &p);
  check(p.snaplen_cut == (cap < wire));
  check(p.payload_caplen <= cap);
  if (p.payload_caplen) {
    check(p.payload >= frame && p.payload + p.payload_caplen <= frame + cap);
    check(p.payload_caplen <= p.payload_len);
  }
  if (p.status != DecodeStatus::kOk) check(!p.has_transport);
  (void)p.src.str();
  (void)p.dst.str();
  (void)tcp_flags_str(p.tcp_flags);
  (void)decode_status_name(p.status);

  // What analyze_capture does with a decoded frame.
  testbed::scanners::nmap::ShapeClassifier classifier;
  (void)classifier.classify(p, true);
  (void)classifier.classify(p, false);
  const uint64_t hash = p.payload_caplen ? payload_hash(p.payload, p.payload_caplen) : 0;
  PayloadStore payloads;
  if (hash) {
    payloads.add(hash, p.payload, p.payload_caplen);
    (void)payloads.preview(hash);
  }
  if (p.ip_version == 0) return 0;  // make_packet_key's precondition
  PacketKeySet keys;
  keys.insert(make_packet_key(p, hash, 0));
  keys.insert(make_packet_key(p, hash,
                              kKeyTtl | kKeyIpId | kKeyWindow | kKeyTcpOptions | kKeyIcmpTypeCode));
  return 0;
}
