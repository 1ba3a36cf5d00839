// Payload traits of TCP segments: TLS ClientHello structure, HTTP request shape, any other
// payload by its masked bytes.
#include <algorithm>
#include <cctype>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xxhash.h>

#include "orchestrator/identify/traits.h"

namespace testbed::identify {
namespace {

uint16_t be16(const unsigned char* p) { return uint16_t(p[0] << 8 | p[1]); }

std::string hash8(std::string_view s) {
  return fmt::format("{:08x}", uint32_t(XXH3_64bits(s.data(), s.size())));
}

// A printable preview of the first bytes (for people reading evidence).
std::string preview(std::string_view s, size_t n = 24) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < n; ++i) {
    unsigned char c = s[i];
    out += (c >= 0x20 && c < 0x7f && c != '|' && c != '"') ? char(c) : '.';
  }
  return out;
}

// GREASE values (RFC 8701) are random per connection: folded into one name.
bool grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

// TLS record with a ClientHello: version, cipher suites and extension types in order
// (never the random, session id or key shares). Returns false when it is not one.
bool tls_client_hello(std::string_view s, std::string* token) {
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  if (n < 44 || p[0] != 0x16 || p[1] != 0x03 || p[5] != 0x01) return false;
  size_t i = 9;
  const uint16_t client_version = be16(p + i);
  i += 2 + 32;                       // version, random
  if (i >= n) return false;
  i += 1 + p[i];                     // session id
  if (i + 2 > n) return false;
  const size_t cs_len = be16(p + i);
  i += 2;
  std::string ciphers;
  size_t count = 0;
  for (size_t j = 0; j + 1 < cs_len && i + j + 1 < n; j += 2, ++count) {
    uint16_t c = be16(p + i + j);
    ciphers += grease(c) ? "GREASE," : fmt::format("{:04x},", c);
  }
  const bool cut = i + cs_len > n;
  i += cs_len;
  std::string exts;
  if (!cut && i < n) {
    i += 1 + p[i];                   // compression methods
    if (i + 2 <= n) {
      const size_t ext_end = std::min(n, i + 2 + be16(p + i));
      for (i += 2; i + 4 <= ext_end; i += 4 + be16(p + i + 2)) {
        uint16_t t = be16(p + i);
        exts += grease(t) ? "GREASE," : fmt::format("{},", t);
      }
    }
  }
  *token = fmt::format("tls-hello v={:04x} ciphers={}#{} ext={}{}", client_version, count,
                       hash8(ciphers), exts.empty() ? "-" : exts, cut ? " cut" : "");
  return true;
}

// HTTP request: method and path, User-Agent, the set of header names. Not their order: NSE
// builds its headers from a Lua table, whose iteration order changes from run to run
// (Lua seeds its string hashes per process), so one release's request shows several
// orders; which headers it sends is the release's.
bool http_request(std::string_view s, const std::function<void(std::string_view, const std::string&)>& add) {
  static constexpr std::string_view kMethods[] = {"GET ", "POST ", "HEAD ", "OPTIONS ", "PUT ",
                                                  "DELETE ", "TRACE ", "PROPFIND ", "CONNECT "};
  bool is = false;
  for (auto m : kMethods) is = is || s.substr(0, m.size()) == m;
  if (!is) return false;
  const std::string masked = mask_ipv4_literals(s);
  std::string_view v = masked;
  size_t eol = v.find("\r\n");
  std::string_view line = v.substr(0, eol);
  add("http", "http " + preview(line, 96));
  if (eol == std::string_view::npos) return true;
  std::vector<std::string> names;
  for (size_t at = eol + 2; at < v.size();) {
    size_t e = v.find("\r\n", at);
    std::string_view h = v.substr(at, e == std::string_view::npos ? v.size() - at : e - at);
    if (h.empty()) break;
    size_t colon = h.find(':');
    std::string name(h.substr(0, colon));
    for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    names.push_back(name);
    if (name == "user-agent" && colon != std::string_view::npos)
      add("http", "http-ua " + preview(h.substr(colon + 1), 120));
    if (e == std::string_view::npos) break;
    at = e + 2;
  }
  std::sort(names.begin(), names.end());
  std::string set;
  for (auto& n : names) set += n + ",";
  add("http", "http-headers " + preview(set, 200));
  return true;
}

}  // namespace

std::string mask_ipv4_literals(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  for (size_t i = 0; i < b.size();) {
    // a run of digits and dots with exactly three dots and 1-3 digits per part
    size_t j = i, dots = 0, digits = 0;
    bool ok = std::isdigit(static_cast<unsigned char>(b[i])) && (i == 0 || !std::isdigit(static_cast<unsigned char>(b[i - 1])));
    while (ok && j < b.size() && (std::isdigit(static_cast<unsigned char>(b[j])) || b[j] == '.')) {
      if (b[j] == '.') {
        if (digits == 0) break;
        ++dots, digits = 0;
      } else if (++digits > 3) {
        break;
      }
      ++j;
    }
    if (ok && dots == 3 && digits > 0) {
      out += "IP";
      i = j;
    } else {
      out += b[i++];
    }
  }
  return out;
}

void tcp_payload_traits(std::string_view payload,
                        const std::function<void(std::string_view, const std::string&)>& add) {
  std::string token;
  if (tls_client_hello(payload, &token)) return add("tls", token);
  if (http_request(payload, add)) return;
  const std::string masked = mask_ipv4_literals(payload);
  add("data", fmt::format("data \"{}\"#{}", preview(masked), hash8(masked)));
}

}  // namespace testbed::identify
