#include "orchestrator/remote/quote.h"

#include <cassert>

namespace testbed::remote {

std::string shell_quote(std::string_view s) {
  assert(s.find('\0') == std::string_view::npos);
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  for (char c : s) {
    // Inside single quotes nothing is special except the closing quote itself: end the
    // quoted run, add an escaped quote, reopen.
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string shell_join(const std::vector<std::string>& argv) {
  assert(!argv.empty());
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += shell_quote(a);
  }
  return out;
}

}  // namespace testbed::remote
