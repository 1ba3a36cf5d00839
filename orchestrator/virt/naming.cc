#include "orchestrator/virt/naming.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "orchestrator/util/hash.h"

namespace testbed::virt {

util::Status check_lab_name(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 24 && name[0] >= 'a' && name[0] <= 'z' &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
            });
  if (!ok) return util::fail("lab name '{}' must match [a-z][a-z0-9-]{{0,23}}", name);
  return {};
}

std::string lab_tag(const std::string& lab) { return util::sha256_hex(lab).substr(0, 4); }

std::string domain_name(const std::string& lab, const std::string& node) {
  return "tb-" + lab + "-" + node;
}
std::string network_name(const std::string& lab, const std::string& net) {
  return "tb-" + lab + "-" + net;
}

std::string bridge_name(const std::string& lab, const std::string& net) {
  return ("tb" + lab_tag(lab) + "-" + net).substr(0, 15);
}

std::vector<std::vector<std::string>> veth_names(const std::string& lab,
                                                 const std::vector<std::string>& nodes,
                                                 const std::vector<size_t>& counts) {
  const std::string prefix = "tb" + lab_tag(lab) + "-";  // 7 chars
  std::vector<std::vector<std::string>> out(nodes.size());
  std::set<std::string> seen;
  bool collide = false;
  for (size_t k = 0; k < nodes.size(); ++k) {
    for (size_t i = 0; i < counts[k]; ++i) {
      std::string idx = std::to_string(i);
      std::string abbrev = nodes[k];
      abbrev.erase(std::remove(abbrev.begin(), abbrev.end(), '-'), abbrev.end());
      size_t room = 15 - prefix.size() - idx.size();
      if (abbrev.size() > room) {
        // Keep the tail digits of names like target12: they tell copies apart.
        size_t digits = 0;
        while (digits < abbrev.size() &&
               std::isdigit(static_cast<unsigned char>(abbrev[abbrev.size() - 1 - digits])))
          ++digits;
        digits = std::min(digits, room - 1);
        abbrev = abbrev.substr(0, room - digits) + abbrev.substr(abbrev.size() - digits);
      }
      std::string name = prefix + abbrev + idx;
      if (!seen.insert(name).second) collide = true;
      out[k].push_back(name);
    }
  }
  if (collide)
    for (size_t k = 0; k < nodes.size(); ++k)
      for (size_t i = 0; i < counts[k]; ++i) out[k][i] = fmt::format("{}n{}i{}", prefix, k, i);
  return out;
}

}  // namespace testbed::virt
