#include "orchestrator/util/ipv4.h"

#include <fmt/format.h>

namespace testbed::util {

std::optional<uint32_t> parse_ipv4(const std::string& s) {
  uint32_t out = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
    size_t start = i;
    uint32_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + static_cast<uint32_t>(s[i] - '0');
      if (v > 255 || i - start >= 3) return std::nullopt;
      ++i;
    }
    if (i - start > 1 && s[start] == '0') return std::nullopt;  // no octal look-alikes
    out = (out << 8) | v;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != s.size()) return std::nullopt;
  return out;
}

std::string format_ipv4(uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

std::string Cidr::str() const { return fmt::format("{}/{}", format_ipv4(network), prefix); }

std::optional<Cidr> parse_cidr(const std::string& s, bool strict) {
  auto slash = s.find('/');
  auto addr = parse_ipv4(s.substr(0, slash));
  if (!addr) return std::nullopt;
  int prefix = 32;
  if (slash != std::string::npos) {
    std::string p = s.substr(slash + 1);
    if (p.empty() || p.size() > 2 || p.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    prefix = std::stoi(p);
    if (prefix > 32) return std::nullopt;
  }
  Cidr c;
  c.prefix = prefix;
  c.network = *addr & c.mask();
  if (strict && c.network != *addr) return std::nullopt;
  return c;
}

}  // namespace testbed::util
