#pragma once
// Nmap's command-line grammar as data: its long options (nmap.cc `long_options[]`) and its
// short-option string, each with what the scope guard does with it. Taken from Nmap 7.80's
// nmap.cc; the options added later (7.90: --discovery-ignore-rst, --unique) were read off
// Debian's 7.93, 7.95 and 7.991 binaries (the option names lie together in .rodata: the
// same list in all three; the short-option string is 7.80's). Options of a later version
// that are missing here are refused as unknown: the safe direction.
// tests/scanners/nmap_crosscheck_test.cc runs the real Nmap of each scanner image.
#include <optional>
#include <span>
#include <string_view>

namespace testbed::scanners::nmap {

enum class Arg { kNone, kRequired, kOptional };

/// What the guard does with an option (and its value).
enum class Role {
  kPlain,        ///< names no host: allowed
  kRefused,      ///< refused in every spelling (`why` says why)
  kExclude,      ///< --exclude: a list of lab target addresses/blocks
  kSpoofSource,  ///< -S: one lab address
  kDecoys,       ///< -D: lab addresses or ME
  kFtpBounce,    ///< -b: [user:pass@]server[:port], the server a lab target
  kZombie,       ///< -sI: zombie[:port], a lab target
  kDnsServers,   ///< --dns-servers: lab addresses
  kProxies,      ///< --proxies/--proxy: scheme://host:port, hosts in the lab
  kInterface,    ///< -e: the scanner's scan-side interface only
  kScripts,      ///< --script: no broadcast/target-adding scripts or categories
  kScriptArgs,   ///< --script-args: no newtargets, addresses in the lab
  kRouteDst,     ///< --route-dst: lab addresses
  kScanTypes,    ///< -s<letters>: known scan types only
  kOutput,       ///< -oX/-oN/…: a file name ({xml} for -oX)
};

struct Option {
  std::string_view name;  ///< long: without dashes ("script-args"); short: one letter
  Arg arg = Arg::kNone;
  Role role = Role::kPlain;
  std::string_view why;   ///< for kRefused, and as the option's description in messages
};

/// Every long option, in Nmap's table order.
std::span<const Option> long_options();
/// The short option `c` (from "46Ab:D:d::e:Ffg:hIi:M:m:nO::o:P::p:qRrS:s::T:Vv::").
const Option* short_option(char c);
/// Nmap's short-option string, as given to getopt_long_only.
std::string_view short_option_string();

}  // namespace testbed::scanners::nmap
