#include "orchestrator/report/payload_decode.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>

namespace testbed::report {
namespace {

using nlohmann::json;

/// A bounds-checked reader over the payload: every read fails (and stays failed) once it
/// would pass the end.
class Reader {
 public:
  explicit Reader(std::string_view b, size_t pos = 0) : b_(b), p_(pos) {}
  bool ok() const { return ok_; }
  size_t left() const { return ok_ && p_ <= b_.size() ? b_.size() - p_ : 0; }
  uint32_t u8() { return need(1) ? static_cast<uint8_t>(b_[p_++]) : 0; }
  uint32_t u16() {
    uint32_t a = u8();
    return (a << 8) | u8();
  }
  uint32_t u24() {
    uint32_t a = u16();
    return (a << 8) | u8();
  }
  std::string_view bytes(size_t n) {
    if (!need(n)) return {};
    auto s = b_.substr(p_, n);
    p_ += n;
    return s;
  }

 private:
  bool need(size_t n) {
    if (ok_ && n <= b_.size() - p_) return true;
    ok_ = false;
    return false;
  }
  std::string_view b_;
  size_t p_;
  bool ok_ = true;
};

std::string tls_version(uint32_t v) {
  switch (v) {
    case 0x0300:
      return "SSL 3.0";
    case 0x0301:
      return "TLS 1.0";
    case 0x0302:
      return "TLS 1.1";
    case 0x0303:
      return "TLS 1.2";
    case 0x0304:
      return "TLS 1.3";
  }
  return fmt::format("0x{:04x}", v);
}

std::string tls_extension(uint32_t t) {
  switch (t) {
    case 0:
      return "server_name";
    case 5:
      return "status_request";
    case 10:
      return "supported_groups";
    case 11:
      return "ec_point_formats";
    case 13:
      return "signature_algorithms";
    case 15:
      return "heartbeat";
    case 16:
      return "alpn";
    case 18:
      return "signed_certificate_timestamp";
    case 21:
      return "padding";
    case 22:
      return "encrypt_then_mac";
    case 23:
      return "extended_master_secret";
    case 35:
      return "session_ticket";
    case 43:
      return "supported_versions";
    case 45:
      return "psk_key_exchange_modes";
    case 51:
      return "key_share";
    case 0xff01:
      return "renegotiation_info";
  }
  return fmt::format("0x{:04x}", t);
}

/// A ClientHello in a TLS handshake record starting within the first 64 bytes (after an
/// application's own STARTTLS prelude, e.g. MySQL's SSL request in the same segment).
std::optional<DecodedPayload> tls_client_hello(std::string_view p) {
  size_t at = std::string_view::npos;
  for (size_t i = 0; i + 9 < p.size() && i <= 64; ++i)
    if (p[i] == 0x16 && p[i + 1] == 0x03 && static_cast<uint8_t>(p[i + 2]) <= 0x04 &&
        p[i + 5] == 0x01) {
      at = i;
      break;
    }
  if (at == std::string_view::npos) return std::nullopt;
  Reader r(p, at);
  r.u8();
  json f;
  f["offset"] = at;
  f["record_version"] = tls_version(r.u16());
  const size_t record_end = at + 5 + r.u16();
  r.u8();   // handshake type 1
  r.u24();  // handshake length
  const uint32_t client_version = r.u16();
  f["client_version"] = tls_version(client_version);
  r.bytes(32);      // random
  r.bytes(r.u8());  // session id
  std::vector<std::string> suites;
  {
    Reader cs(r.bytes(r.u16()));
    while (cs.left() >= 2) suites.push_back(fmt::format("0x{:04x}", cs.u16()));
  }
  f["cipher_suites"] = suites;
  r.bytes(r.u8());  // compression methods
  std::vector<std::string> exts;
  std::string sni;
  std::vector<std::string> versions;
  if (r.ok() && r.left() >= 2) {
    Reader e(r.bytes(r.u16()));
    while (e.left() >= 4) {
      const uint32_t type = e.u16();
      Reader body(e.bytes(e.u16()));
      exts.push_back(tls_extension(type));
      if (type == 0) {  // server_name: list length, name type, name
        body.u16();
        body.u8();
        sni = printable_ascii(body.bytes(body.u16()));
      } else if (type == 43) {
        Reader v(body.bytes(body.u8()));
        while (v.left() >= 2) versions.push_back(tls_version(v.u16()));
      }
    }
  }
  f["extensions"] = exts;
  if (!sni.empty()) f["server_name"] = sni;
  if (!versions.empty()) f["supported_versions"] = versions;
  const bool cut = !r.ok() || record_end > p.size();
  f["truncated"] = cut;
  DecodedPayload d;
  d.kind = "TLS ClientHello";
  d.summary =
      fmt::format("{}, {} cipher suites ({}), {} extensions ({})", tls_version(client_version),
                  suites.size(), fmt::join(suites, " "), exts.size(), fmt::join(exts, " "));
  if (!sni.empty()) d.summary += ", SNI " + sni;
  if (!versions.empty()) d.summary += fmt::format(", versions {}", fmt::join(versions, "/"));
  if (cut) d.summary += " (truncated)";
  d.fields = std::move(f);
  return d;
}

/// "METHOD target HTTP/x.y" then header lines up to the empty line.
std::optional<DecodedPayload> http_request(std::string_view p) {
  size_t sp = p.find(' ');
  if (sp == std::string_view::npos || sp < 3 || sp > 16) return std::nullopt;
  for (size_t i = 0; i < sp; ++i)
    if (p[i] < 'A' || p[i] > 'Z') return std::nullopt;
  size_t eol = p.find("\r\n");
  std::string_view line = p.substr(0, eol);
  if (line.find(" HTTP/") == std::string_view::npos) return std::nullopt;
  DecodedPayload d;
  d.kind = "HTTP request";
  d.fields["request_line"] = printable_ascii(line);
  std::vector<std::string> headers;
  size_t pos = eol == std::string_view::npos ? p.size() : eol + 2;
  while (pos < p.size() && headers.size() < 64) {
    size_t e = p.find("\r\n", pos);
    std::string_view h =
        p.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos);
    if (h.empty()) break;
    headers.push_back(printable_ascii(h));
    if (e == std::string_view::npos) break;
    pos = e + 2;
  }
  d.fields["headers"] = headers;
  d.summary = printable_ascii(line);
  if (!headers.empty()) d.summary += fmt::format(" ({})", fmt::join(headers, "; "));
  return d;
}

std::string dns_type(uint32_t t) {
  switch (t) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 252:
      return "AXFR";
    case 255:
      return "ANY";
  }
  return std::to_string(t);
}

/// The first question of a DNS query to port 53 (UDP, or TCP with its length prefix).
std::optional<DecodedPayload> dns_query(const analysis::PacketKey& k, std::string_view p) {
  if (k.dport != 53 || (k.proto != 17 && k.proto != 6)) return std::nullopt;
  Reader r(p, k.proto == 6 ? 2 : 0);
  r.u16();  // id
  const uint32_t flags = r.u16();
  const uint32_t qd = r.u16();
  r.bytes(6);
  if (!r.ok() || (flags & 0x8000) || qd == 0) return std::nullopt;
  std::string name;
  for (int labels = 0; labels < 128; ++labels) {
    uint32_t n = r.u8();
    if (!r.ok() || n == 0 || n > 63) break;
    name += (name.empty() ? "" : ".") + printable_ascii(r.bytes(n));
  }
  const uint32_t type = r.u16(), cls = r.u16();
  if (!r.ok()) return std::nullopt;
  DecodedPayload d;
  d.kind = "DNS query";
  const std::string class_name = cls == 1 ? "IN" : cls == 3 ? "CH" : std::to_string(cls);
  d.fields = {{"name", name.empty() ? "." : name},
              {"type", dns_type(type)},
              {"class", class_name},
              {"questions", qd}};
  d.summary = fmt::format("{} {} {}", name.empty() ? "." : name, class_name, dns_type(type));
  return d;
}

}  // namespace

DecodedPayload decode_payload(const analysis::PacketKey& k, std::string_view payload) {
  if (payload.empty()) return {};
  if (auto d = dns_query(k, payload)) return *d;
  if (k.proto == 6) {
    if (auto d = tls_client_hello(payload)) return *d;
    if (auto d = http_request(payload)) return *d;
  }
  return {};
}

std::string payload_class(const analysis::PacketKey& k, std::string_view payload) {
  if (!payload.empty() || k.payload_hash != 0) {
    auto d = decode_payload(k, payload);
    return d.kind.empty() ? "payload" : d.kind;
  }
  if (k.proto == 6) {
    switch (k.tcp_flags) {
      case 0x02:
        return "SYN";
      case 0x12:
        return "SYN-ACK";
      case 0x10:
        return "ACK";
      case 0x04:
        return "RST";
      case 0x14:
        return "RST-ACK";
      case 0x01:
        return "FIN";
      case 0x00:
        return "no-flag";
    }
    return "flags " + analysis::tcp_flags_str(k.tcp_flags);
  }
  if (k.proto == 17) return "empty UDP";
  return k.proto_name();
}

std::string hex_string(std::string_view bytes) {
  std::string o;
  o.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) o += fmt::format("{:02x}", c);
  return o;
}

std::string hex_dump(std::string_view bytes) {
  std::string o;
  for (size_t off = 0; off < bytes.size(); off += 16) {
    o += fmt::format("{:04x} ", off);
    std::string text;
    for (size_t i = off; i < off + 16; ++i) {
      if (i < bytes.size()) {
        auto c = static_cast<unsigned char>(bytes[i]);
        o += fmt::format(" {:02x}", c);
        text += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
      } else {
        o += "   ";
      }
      if (i == off + 7) o += ' ';
    }
    o += "  " + text + "\n";
  }
  return o;
}

std::string printable_ascii(std::string_view s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '\\')
      o += "\\\\";
    else if (c >= 0x20 && c < 0x7f)
      o += static_cast<char>(c);
    else
      o += fmt::format("\\x{:02x}", c);
  }
  return o;
}

}  // namespace testbed::report
