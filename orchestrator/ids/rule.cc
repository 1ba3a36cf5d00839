#include "orchestrator/ids/rule.h"

#include <fmt/format.h>

#include <cctype>

#include "orchestrator/analysis/decode.h"

namespace testbed::ids {
namespace {

bool plain(unsigned char c) {
  return c >= 0x20 && c <= 0x7e && c != '"' && c != ';' && c != '\\' && c != '|';
}

/// msg and metadata text: Suricata reads `\"`, `\;` and `\\` in msg; anything else that is
/// not printable ASCII becomes '?', so the rule file stays ASCII.
std::string msg_escape(std::string_view s) {
  std::string o;
  for (unsigned char c : s) {
    if (c == '"' || c == ';' || c == '\\') o += '\\';
    o += (c >= 0x20 && c <= 0x7e) ? static_cast<char>(c) : '?';
  }
  return o;
}

/// metadata values: Suricata splits them at ',' and ends the option at ';'. Anything but
/// letters, digits and . / : - _ becomes '_'.
std::string meta_value(std::string_view s) {
  std::string o;
  for (unsigned char c : s)
    o += (std::isalnum(c) || c == '.' || c == '/' || c == ':' || c == '-' || c == '_')
             ? static_cast<char>(c)
             : '_';
  return o.empty() ? "_" : o;
}

/// Suricata's `flags:` letters (F S R P A U C E; C = CWR, E = ECE); "0" for none.
std::string suricata_flags(uint8_t f) {
  static constexpr std::pair<uint8_t, char> kBits[] = {
      {analysis::kFin, 'F'}, {analysis::kSyn, 'S'}, {analysis::kRst, 'R'}, {analysis::kPsh, 'P'},
      {analysis::kAck, 'A'}, {analysis::kUrg, 'U'}, {analysis::kCwr, 'C'}, {analysis::kEce, 'E'}};
  std::string s;
  for (auto [bit, letter] : kBits)
    if (f & bit) s += letter;
  return s.empty() ? "0" : s;
}

}  // namespace

std::string content_escape(std::string_view bytes) {
  std::string o;
  bool in_hex = false;
  for (unsigned char c : bytes) {
    if (plain(c)) {
      if (in_hex) o += '|';
      in_hex = false;
      o += static_cast<char>(c);
    } else {
      o += in_hex ? " " : "|";
      in_hex = true;
      o += fmt::format("{:02X}", c);
    }
  }
  if (in_hex) o += '|';
  return o;
}

std::string rule_proto(uint8_t proto) {
  switch (proto) {
    case 6: return "tcp";
    case 17: return "udp";
    case 1:
    case 58: return "icmp";
    default: return "ip";
  }
}

std::string rule_msg(const RuleSpec& r) {
  std::string what = rule_proto(r.proto);
  for (char& c : what) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (r.proto == 6 || r.proto == 17)
    what += fmt::format(" {}:{}", r.dst.empty() ? "any" : r.dst, r.dport);
  else
    what += " " + (r.dst.empty() ? std::string("any") : r.dst);
  if (r.proto == 6) what += " " + suricata_flags(r.tcp_flags);
  if (r.ip_len) what += fmt::format(" len {}", r.ip_len);
  return fmt::format("testbed: Nmap {} {} unique packet ({})", r.version, r.phase, what);
}

std::string rule_text(const RuleSpec& r) {
  const bool ports = r.proto == 6 || r.proto == 17;
  const std::string proto = rule_proto(r.proto);
  std::string dst = r.dst.empty() ? "any" : r.dst;
  if (r.family == 6 && !r.dst.empty()) dst = "[" + r.dst + "]";
  std::string o = fmt::format("alert {} any any -> {} {} (msg:\"{}\"; ", proto, dst,
                              ports ? std::to_string(r.dport) : "any", msg_escape(rule_msg(r)));
  // `ip` rules for other protocols: ip_proto pins the protocol number.
  if (proto == "ip") o += fmt::format("ip_proto:{}; ", r.proto);
  if (r.proto == 6) o += "flags:" + suricata_flags(r.tcp_flags) + "; ";
  if (r.icmp_type) o += fmt::format("itype:{}; ", *r.icmp_type);
  if (r.icmp_code) o += fmt::format("icode:{}; ", *r.icmp_code);
  if (proto != "ip" && r.dsize_max > r.dsize)
    o += fmt::format("dsize:{}<>{}; ", r.dsize > 0 ? r.dsize - 1 : 0, r.dsize_max + 1);
  else if (proto != "ip")
    o += fmt::format("dsize:{}; ", r.dsize);
  if (r.family == 4 && r.ip_len)
    o += fmt::format("ipv4.hdr; content:\"|{:02X} {:02X}|\"; offset:2; depth:2; ", r.ip_len >> 8,
                     r.ip_len & 0xff);
  if (!r.content.empty()) {
    // A sticky buffer above (ipv4.hdr) stays in force: pkt_data returns to the payload.
    if (r.family == 4 && r.ip_len) o += "pkt_data; ";
    o += fmt::format("content:\"{}\"; ", content_escape(r.content));
    if (r.anchored) o += fmt::format("offset:{}; depth:{}; ", r.offset, r.content.size());
  }
  o += fmt::format("metadata: testbed_version {}, testbed_phase {}, testbed_run {}, "
                   "testbed_frame {}, testbed_key {}; ",
                   meta_value(r.version), meta_value(r.phase), meta_value(r.run), r.frame,
                   meta_value(r.key));
  return o + fmt::format("sid:{}; rev:1;)", r.sid);
}

}  // namespace testbed::ids
