#include "orchestrator/scanners/nmap/guard.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "orchestrator/scanners/nmap/parse.h"

namespace testbed::scanners::nmap {
namespace {

std::vector<std::string> split(const std::string& s, const std::string& seps) {
  return split_list(s, seps);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Dotted quads anywhere in a string (a.b.c.d with 1-3 digits each).
std::vector<std::string> dotted_quads(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])) || (i > 0 && (std::isdigit(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '.'))) {
      ++i;
      continue;
    }
    size_t j = i;
    int parts = 0;
    while (true) {
      size_t k = j;
      while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
      if (k == j) break;
      ++parts;
      j = k;
      if (parts < 4 && j + 1 < s.size() && s[j] == '.' && std::isdigit(static_cast<unsigned char>(s[j + 1])))
        ++j;
      else
        break;
    }
    if (parts == 4) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool looks_ipv6(const std::string& s) {
  // Two or more colons with hex digits between: an IPv6 literal (a:b::c, fe80::1, [::1]).
  return std::count(s.begin(), s.end(), ':') >= 2 &&
         s.find_first_not_of("0123456789abcdefABCDEF:.[]%/") == std::string::npos;
}

// Broadcast/multicast and target-adding NSE scripts whose names do not start with
// broadcast- or targets- (the `broadcast` category of script.db, Nmap 7.80 and 7.93).
const std::vector<std::string> kBroadcastScripts = {
    "eap-info", "ipv6-multicast-mld-list", "knx-gateway-discover", "llmnr-resolve",
    "lltd-discovery", "mrinfo", "mtrace"};
// Categories that hold broadcast or targets-* scripts (script.db of 7.80 and 7.93), or
// that exist to contact third parties. Allowed: default (what -A/-sC run), version,
// exploit, fuzzer, and scripts by name.
const std::vector<std::string> kRefusedCategories = {
    "all", "broadcast", "external", "discovery", "safe", "intrusive",
    "vuln", "dos", "malware", "auth", "brute"};
const std::vector<std::string> kScanTypes = {"P", "n", "A", "C", "F", "L", "M", "N", "O",
                                             "R", "S", "T", "U", "V", "W", "X", "Y", "Z"};

std::string check_scripts(const std::string& value) {
  for (const auto& raw : split(value, ", \t()")) {
    std::string t = lower(raw);
    if (t == "and" || t == "or" || t == "not") continue;
    if (!t.empty() && t[0] == '+') t = t.substr(1);
    if (t.find('/') != std::string::npos || t.find('\\') != std::string::npos)
      return fmt::format("'{}' is a script file path; the guard cannot see what it does "
                         "(name scripts of the scanner image instead)",
                         raw);
    if (t.find_first_of("*?[") != std::string::npos)
      return fmt::format("'{}' is a pattern; it may match broadcast or targets-* scripts "
                         "(name the scripts)",
                         raw);
    if (t.size() > 4 && t.substr(t.size() - 4) == ".nse") t.resize(t.size() - 4);
    if (std::find(kRefusedCategories.begin(), kRefusedCategories.end(), t) !=
        kRefusedCategories.end())
      return fmt::format("script category '{}' includes broadcast, multicast or "
                         "target-adding scripts, which reach beyond the named targets "
                         "(allowed categories: default, version, exploit, fuzzer)",
                         raw);
    if (t.rfind("broadcast-", 0) == 0 || t.rfind("targets-", 0) == 0 ||
        std::find(kBroadcastScripts.begin(), kBroadcastScripts.end(), t) !=
            kBroadcastScripts.end())
      return fmt::format("script '{}' broadcasts, multicasts or adds targets of its own", raw);
  }
  return "";
}

std::string check_addresses_in(const std::string& value, const LabScope& scope) {
  for (const auto& q : dotted_quads(value))
    if (auto st = check_lab_address(q, scope); !st) return st.error().message;
  for (const auto& tok : split(value, ",; =\t\"'")) {
    if (looks_ipv6(tok)) return fmt::format("'{}' looks like an IPv6 address; the lab is IPv4", tok);
    if (auto p = tok.find("://"); p != std::string::npos) {
      std::string host = tok.substr(p + 3);
      host = host.substr(0, host.find_first_of(":/"));
      if (auto st = check_lab_address(host, scope); !st)
        return fmt::format("URL '{}': {}", tok, st.error().message);
    }
  }
  return "";
}

// The problem with one option's value ("" when fine).
std::string check_value(const Item& it, const LabScope& scope) {
  const Option& o = *it.option;
  const std::string v = it.value.value_or("");
  switch (o.role) {
    case Role::kPlain:
    case Role::kOutput:
    case Role::kTargets:     // masscan's and ZMap's roles: not in Nmap's table
    case Role::kRouterMac:
    case Role::kBlocklist:
      return "";
    case Role::kRefused:
      return std::string(o.why);
    case Role::kExclude:
      if (split(v, ",").empty()) return "no exclusions given";
      for (const auto& e : split(v, ","))
        if (auto st = check_target(e, scope); !st) return st.error().message;
      return "";
    case Role::kSpoofSource:
      if (auto st = check_lab_address(v, scope); !st) return st.error().message;
      return "";
    case Role::kDecoys:
      for (const auto& d : split(v, ",")) {
        if (d == "ME") continue;
        if (d.rfind("RND", 0) == 0)
          return fmt::format("'{}' makes random decoy addresses, outside the lab", d);
        if (auto st = check_lab_address(d, scope); !st) return st.error().message;
      }
      return "";
    case Role::kFtpBounce: {
      std::string server = v.substr(v.rfind('@') == std::string::npos ? 0 : v.rfind('@') + 1);
      server = server.substr(0, server.find(':'));
      if (auto st = check_target(server, scope); !st) return "FTP relay " + st.error().message;
      return "";
    }
    case Role::kZombie: {
      std::string zombie = v.substr(0, v.find(':'));
      if (auto st = check_target(zombie, scope); !st) return "zombie " + st.error().message;
      return "";
    }
    case Role::kDnsServers:
      if (split(v, ",").empty()) return "no DNS server given";
      for (const auto& s : split(v, ","))
        if (auto st = check_lab_address(s, scope); !st) return st.error().message;
      return "";
    case Role::kProxies:
      for (const auto& url : split(v, ",")) {
        auto p = url.find("://");
        if (p == std::string::npos)
          return fmt::format("proxy '{}' is not proto://host:port", url);
        std::string host = url.substr(p + 3);
        host = host.substr(0, host.find_first_of(":/"));
        if (auto st = check_lab_address(host, scope); !st) return "proxy " + st.error().message;
      }
      return "";
    case Role::kInterface:
      if (std::find(scope.scan_interfaces.begin(), scope.scan_interfaces.end(), v) ==
          scope.scan_interfaces.end())
        return fmt::format("interface '{}' is not the scanner's scan-side interface ({}); "
                           "scanning from any other bypasses the router and its capture",
                           v, fmt::join(scope.scan_interfaces, ", "));
      return "";
    case Role::kScripts:
      return check_scripts(v);
    case Role::kScriptArgs:
      if (lower(v).find("newtargets") != std::string::npos)
        return "'newtargets' lets scripts add targets the guard never sees";
      return check_addresses_in(v, scope);
    case Role::kRouteDst:
      if (o.name == "ip-options" && v.find('\\') != std::string::npos)
        return "IP options in hex may hold source-route addresses the guard cannot read; "
               "use the letter forms (R, T, U, L/S with lab addresses)";
      return check_addresses_in(v, scope);
    case Role::kScanTypes: {
      if (v.empty()) return "-s needs scan type letters (e.g. -sS, -sV)";
      for (char c : v)
        if (std::find(kScanTypes.begin(), kScanTypes.end(), std::string(1, c)) ==
            kScanTypes.end())
          return fmt::format("'{}' is not an Nmap scan type (known: {})", c,
                             fmt::join(kScanTypes, ""));
      return "";
    }
  }
  return "";
}

// How Nmap reads an item, for messages: "-S 10.9.9.9 (spoofed source address)".
std::string reading(const Item& it) {
  std::string s = display(*it.option, it.is_long);
  if (it.value) s += " " + *it.value;
  std::string what(it.option->role == Role::kRefused ? "" : it.option->why);
  if (!what.empty()) s += " (" + what + ")";
  return s;
}

}  // namespace

std::vector<Refusal> check(const std::vector<std::string>& command, const LabScope& scope) {
  std::vector<Refusal> out;
  Parsed p = parse(command);
  for (const auto& e : p.errors) out.push_back({e.index, e.message});
  bool has_xml = false, has_targets = false;
  for (const auto& it : p.items) {
    const std::string& arg = command[it.index];
    if (it.operand) {
      if (arg == "{targets}") {
        has_targets = true;
        for (auto& why : expansion_problems(scope)) out.push_back({it.index, std::move(why)});
      } else if (arg.find('{') != std::string::npos) {
        out.push_back({it.index, fmt::format("Nmap would take '{}' as a target: {{xml}} goes "
                                             "after -oX, and the only placeholders are "
                                             "{{xml}} and {{targets}}",
                                             arg)});
      } else if (auto st = check_target(arg, scope); !st) {
        out.push_back({it.index, "a target: " + st.error().message});
      }
      continue;
    }
    const std::string v = it.value.value_or("");
    if (v.find('{') != std::string::npos) {
      if ((v == "{xml}" || v == "{output}") && it.option->name == "oX") {
        has_xml = true;
        continue;
      }
      out.push_back({it.value_index,
                     fmt::format("read by Nmap as {}: a placeholder belongs as the value of "
                                 "-oX ({{xml}}) or where targets go ({{targets}})",
                                 reading(it))});
      continue;
    }
    if (auto why = check_value(it, scope); !why.empty()) {
      out.push_back({it.value && it.option->role != Role::kRefused ? it.value_index : it.index,
                     fmt::format("read by Nmap as {}: {}", reading(it), why)});
    }
  }
  if (!has_xml)
    out.push_back({0, "the command needs \"-oX\", \"{xml}\" (the report reads Nmap's XML)"});
  if (!has_targets)
    out.push_back({0, "the command needs an argument \"{targets}\" (the lab's targets)"});
  std::stable_sort(out.begin(), out.end(),
                   [](const Refusal& a, const Refusal& b) { return a.index < b.index; });
  return out;
}

std::vector<std::string> targets(const std::vector<std::string>& command) {
  std::vector<std::string> out;
  for (const auto& it : parse(command).items)
    if (it.operand && command[it.index] != "{targets}") out.push_back(command[it.index]);
  return out;
}

}  // namespace testbed::scanners::nmap
