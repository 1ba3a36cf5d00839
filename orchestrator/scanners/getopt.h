#pragma once
// Reads a command line the way glibc's getopt_long (ZMap, via gengetopt) or
// getopt_long_only (Nmap) does, in its default permuting mode, with a scanner's option
// table: short options with attached (-S10.0.0.1) or separate values, bundled flags
// (-nvS 10.0.0.1), --opt=value and --opt value, single-dash long options (long_only),
// unambiguous abbreviations of long options (--dns, -excludef), and every argument that
// is not an option (nor an option's value) as an operand (a target), also after "--".
// Each kind's folder holds its table (e.g. nmap/options.cc) and what its guard does with
// each option (Role).
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace testbed::scanners {

enum class Arg { kNone, kRequired, kOptional };

/// What a guard does with an option (and its value). Each kind uses the roles it needs.
enum class Role {
  kPlain,        ///< names no host: allowed
  kRefused,      ///< refused in every spelling (`why` says why)
  kExclude,      ///< exclusions: a list of lab target addresses/blocks
  kSpoofSource,  ///< a source address: lab addresses
  kDecoys,       ///< Nmap -D: lab addresses or ME
  kFtpBounce,    ///< Nmap -b: [user:pass@]server[:port], the server a lab target
  kZombie,       ///< Nmap -sI: zombie[:port], a lab target
  kDnsServers,   ///< Nmap --dns-servers: lab addresses
  kProxies,      ///< Nmap --proxies/--proxy: scheme://host:port, hosts in the lab
  kInterface,    ///< the scanner's scan-side interface only
  kScripts,      ///< Nmap --script: no broadcast/target-adding scripts or categories
  kScriptArgs,   ///< Nmap --script-args: no newtargets, addresses in the lab
  kRouteDst,     ///< Nmap --route-dst, --ip-options: lab addresses
  kScanTypes,    ///< Nmap -s<letters>: known scan types only
  kOutput,       ///< an output file ({output}/{xml} for the result file)
  kTargets,      ///< masscan --range: lab targets (ranges allowed)
  kRouterMac,    ///< masscan --router-mac, ZMap -G: the lab router's ({router_mac})
  kBlocklist,    ///< ZMap -b: testbed's lab blocklist file only
};

struct Option {
  std::string_view name;  ///< long: without dashes ("script-args"); short: one letter
  Arg arg = Arg::kNone;
  Role role = Role::kPlain;
  std::string_view why;   ///< for kRefused, and as the option's description in messages
};

/// A scanner's command-line grammar for parse().
struct Grammar {
  std::string_view tool;                  ///< "Nmap", for messages
  std::span<const Option> long_options;   ///< in the scanner's table order
  std::string_view short_string;          ///< getopt's optstring, e.g. "46Ab:D:…"
  const Option* (*short_option)(char c);  ///< the short option `c`, or nullptr
  bool long_only = false;                 ///< getopt_long_only (Nmap) or getopt_long (ZMap)
};

struct Item {
  bool operand = false;         ///< a target (not an option)
  const Option* option = nullptr;
  bool is_long = false;
  std::string spelling;         ///< as written, e.g. "-S", "--dns", "-proxies"
  std::optional<std::string> value;
  size_t index = 0;             ///< argv index of the option (or operand)
  size_t value_index = 0;       ///< argv index of the value (== index when attached)
};

struct ParseError {
  size_t index = 0;  ///< argv index
  std::string message;
};

struct Parsed {
  std::vector<Item> items;  ///< in argv order
  std::vector<ParseError> errors;
};

/// Parses argv (argv[0] is the program, not parsed) with `g`. Errors are what getopt
/// would reject (unknown, ambiguous, missing or unwanted value), with the nearest known
/// option suggested for an unknown one.
Parsed parse(const Grammar& g, const std::vector<std::string>& argv);

/// The display name of an option: "--script-args" or "-S".
std::string display(const Option& o, bool is_long);

}  // namespace testbed::scanners
