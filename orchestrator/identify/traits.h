#pragma once
// Traits: what a scanner's sent packets show that does not depend on the lab — probe
// shapes (TCP flags, window, options with MSS/WS values, TTL class), the set of ports its
// SYN probe goes to, IP ID and TTL behaviour, ICMP and UDP probes, and the structure of its
// payloads (a TLS ClientHello's version, cipher list and extension types; an HTTP
// request's method, path, User-Agent and header order; other payloads by their bytes with
// every IPv4 literal masked). Never an address. Each trait is a `token` within a `family`
// (the class of probe it belongs to); the model reasons about both (model.h, match.h).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "orchestrator/analysis/decode.h"
#include "orchestrator/util/result.h"

namespace testbed::identify {

/// Families whose traits depend only on the scanner and its command line, not on the
/// services the targets run: their absence from a capture where the family shows is
/// evidence (match.h). Payload families (tls, http, data) appear only where a service
/// draws them, so only their presence counts.
bool family_is_probe(std::string_view family);

/// One trait seen in a capture: where first, how often, and for payload traits the
/// service ports that drew it (its context: match.h weighs a payload trait only against
/// versions that were offered one of these services in training).
struct Occurrence {
  uint64_t first_frame = 0;  ///< 1-based frame number (Wireshark's)
  uint64_t count = 0;
  std::vector<uint16_t> ports;  ///< sorted, at most kMaxContextPorts; empty for probe traits
};

inline constexpr size_t kMaxContextPorts = 64;

/// "family|token", the key of a trait.
std::string trait_key(std::string_view family, std::string_view token);
/// The family and token of a key.
std::pair<std::string_view, std::string_view> split_key(std::string_view key);

/// The traits of one capture's scanner.
struct CaptureTraits {
  analysis::IpAddr scanner;
  bool scanner_auto = true;
  uint64_t frames = 0, sent = 0;
  std::unordered_map<std::string, Occurrence> keys;  ///< trait_key -> occurrence
  bool has_family(std::string_view family) const;
};

/// Reads `pcap` twice (find the scanner, then its traits). The scanner: `scanner` when
/// given, else the source that sends to the most distinct (destination, port) pairs (ties:
/// more packets). Fails on a file that is not a capture and when no scanner is found (no
/// packet from the given address, or no IP packet at all).
util::Result<CaptureTraits> extract_traits(const std::filesystem::path& pcap,
                                           std::optional<analysis::IpAddr> scanner = {});

/// Payload traits of one TCP segment (payload_traits.cc): (family, token) pairs added by
/// `add`. Exposed for tests.
void tcp_payload_traits(std::string_view payload,
                        const std::function<void(std::string_view family, const std::string& token)>& add);

/// `bytes` with every dotted IPv4 literal replaced by "IP" (payloads naming targets).
std::string mask_ipv4_literals(std::string_view bytes);

}  // namespace testbed::identify
