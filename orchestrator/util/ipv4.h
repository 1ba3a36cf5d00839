#pragma once
// IPv4 addresses and CIDR blocks: parsing and set relations used by validation and the
// scan-scope guard.
#include <cstdint>
#include <optional>
#include <string>

namespace testbed::util {

/// Parses dotted-quad "a.b.c.d" strictly (no leading '+', no octal, no missing parts).
std::optional<uint32_t> parse_ipv4(const std::string& s);
std::string format_ipv4(uint32_t a);

struct Cidr {
  uint32_t network = 0;  ///< host byte order, host bits zero
  int prefix = 32;
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  uint32_t first() const { return network; }
  uint32_t last() const { return network | ~mask(); }
  bool contains(uint32_t addr) const { return (addr & mask()) == network; }
  bool contains(const Cidr& o) const { return o.prefix >= prefix && contains(o.network); }
  bool overlaps(const Cidr& o) const { return contains(o.network) || o.contains(network); }
  std::string str() const;
};

/// Parses "a.b.c.d/n" or a bare address (= /32). With strict, host bits must be zero.
std::optional<Cidr> parse_cidr(const std::string& s, bool strict = false);

}  // namespace testbed::util
