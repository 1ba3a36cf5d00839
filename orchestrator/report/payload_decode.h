#pragma once
// What a unique packet's payload is, where a decoder is cheap: a TLS ClientHello (version,
// cipher suites, extensions, server name), an HTTP request (request line and headers), a DNS
// question. Every string decoded from the bytes is printable ASCII (others as \xHH), and is
// still escaped by each renderer (inert.h, html.h).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/analysis/packet_key.h"

namespace testbed::report {

struct DecodedPayload {
  std::string kind;     ///< "TLS ClientHello", "HTTP request", "DNS query"; "" = not decoded
  std::string summary;  ///< one line, e.g. "TLS 1.2, 52 cipher suites, 12 extensions, SNI x"
  nlohmann::json fields = nlohmann::json::object();  ///< everything decoded, for report.json
};

/// Decodes `payload` (the captured bytes of the packet with key `k`); kind "" when none of the
/// decoders recognises it. Never reads past the bytes given; a cut message is decoded as far
/// as it goes ("truncated": true).
DecodedPayload decode_payload(const analysis::PacketKey& k, std::string_view payload);

/// The payload class a finding groups by: the decoded kind, "payload" for other bytes, or
/// for no payload the packet's shape ("SYN", "ACK", … or "flags FPU" for TCP, "empty UDP",
/// "ICMP").
std::string payload_class(const analysis::PacketKey& k, std::string_view payload);

/// Bytes as lowercase hex without separators ("16030100…").
std::string hex_string(std::string_view bytes);
/// A hex dump: 16 bytes a line, offset, hex, printable ASCII ('.' for the rest).
std::string hex_dump(std::string_view bytes);

/// `s` with every byte outside printable ASCII written as \xHH (and \ as \\).
std::string printable_ascii(std::string_view s);

}  // namespace testbed::report
