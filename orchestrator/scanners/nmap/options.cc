#include "orchestrator/scanners/nmap/options.h"

#include "orchestrator/scanners/nmap/parse.h"

#include <array>

namespace testbed::scanners::nmap {
namespace {

using A = Arg;
using R = Role;

constexpr std::string_view kTargetFile =
    "reads its targets from a file the guard cannot see; list lab targets in the "
    "experiment's `targets:` instead";

// Nmap's long_options[] (7.80 order; the two later additions where 7.93 has them).
constexpr std::array kLong = {
    Option{"version", A::kNone},
    Option{"verbose", A::kNone},
    Option{"datadir", A::kRequired, R::kRefused,
           "replaces Nmap's data files, script database included, so the script and "
           "category checks would no longer hold"},
    Option{"servicedb", A::kRequired},
    Option{"versiondb", A::kRequired},
    Option{"debug", A::kOptional},
    Option{"help", A::kNone},
    Option{"iflist", A::kNone},
    Option{"release-memory", A::kNone},
    Option{"nogcc", A::kNone},
    Option{"max-os-tries", A::kRequired},
    Option{"max-parallelism", A::kRequired},
    Option{"min-parallelism", A::kRequired},
    Option{"timing", A::kRequired},
    Option{"max-rtt-timeout", A::kRequired},
    Option{"min-rtt-timeout", A::kRequired},
    Option{"initial-rtt-timeout", A::kRequired},
    Option{"excludefile", A::kRequired, R::kRefused,
           "reads exclusions from a file the guard cannot see (it may name hosts to "
           "resolve); use --exclude with lab addresses"},
    Option{"exclude", A::kRequired, R::kExclude, "exclusions"},
    Option{"max-hostgroup", A::kRequired},
    Option{"min-hostgroup", A::kRequired},
    Option{"open", A::kNone},
    Option{"scanflags", A::kRequired},
    Option{"defeat-rst-ratelimit", A::kNone},
    Option{"defeat-icmp-ratelimit", A::kNone},
    Option{"host-timeout", A::kRequired},
    Option{"scan-delay", A::kRequired},
    Option{"max-scan-delay", A::kRequired},
    Option{"max-retries", A::kRequired},
    Option{"oA", A::kRequired, R::kOutput, "output files"},
    Option{"oN", A::kRequired, R::kOutput, "normal output"},
    Option{"oM", A::kRequired, R::kOutput, "grepable output"},
    Option{"oG", A::kRequired, R::kOutput, "grepable output"},
    Option{"oS", A::kRequired, R::kOutput, "script-kiddie output"},
    Option{"oH", A::kRequired, R::kOutput, "hex output"},
    Option{"oX", A::kRequired, R::kOutput, "XML output"},
    Option{"iL", A::kRequired, R::kRefused, kTargetFile},
    Option{"iR", A::kRequired, R::kRefused,
           "scans random Internet addresses; testbed only scans its own lab"},
    Option{"sI", A::kRequired, R::kZombie, "idle-scan zombie"},
    Option{"source-port", A::kRequired},
    Option{"randomize-hosts", A::kNone},
    Option{"nsock-engine", A::kRequired},
    Option{"proxies", A::kRequired, R::kProxies, "proxy chain"},
    Option{"proxy", A::kRequired, R::kProxies, "proxy chain"},
    Option{"discovery-ignore-rst", A::kNone},  // since 7.90
    Option{"osscan-limit", A::kNone},
    Option{"osscan-guess", A::kNone},
    Option{"fuzzy", A::kNone},
    Option{"packet-trace", A::kNone},
    Option{"version-trace", A::kNone},
    Option{"data", A::kRequired},
    Option{"data-string", A::kRequired},
    Option{"data-length", A::kRequired},
    Option{"send-eth", A::kNone},
    Option{"send-ip", A::kNone},
    Option{"stylesheet", A::kRequired},
    Option{"no-stylesheet", A::kNone},
    Option{"webxml", A::kNone},
    Option{"rH", A::kNone},
    Option{"vv", A::kNone},
    Option{"ff", A::kNone},
    Option{"privileged", A::kNone},
    Option{"unprivileged", A::kNone},
    Option{"mtu", A::kRequired},
    Option{"append-output", A::kNone},
    Option{"noninteractive", A::kNone},
    Option{"spoof-mac", A::kRequired},
    Option{"thc", A::kNone},
    Option{"badsum", A::kNone},
    Option{"ttl", A::kRequired},
    Option{"traceroute", A::kNone},
    Option{"reason", A::kNone},
    Option{"allports", A::kNone},
    Option{"version-intensity", A::kRequired},
    Option{"version-light", A::kNone},
    Option{"version-all", A::kNone},
    Option{"system-dns", A::kNone},
    Option{"resolve-all", A::kNone},
    Option{"unique", A::kNone},  // since 7.90
    Option{"log-errors", A::kNone},
    Option{"deprecated-xml-osclass", A::kNone},
    Option{"yoloscan", A::kNone},  // spelled as an int array in nmap.cc
    Option{"dns-servers", A::kRequired, R::kDnsServers, "DNS servers"},
    Option{"port-ratio", A::kRequired},
    Option{"exclude-ports", A::kRequired},
    Option{"top-ports", A::kRequired},
    Option{"script", A::kRequired, R::kScripts, "NSE scripts"},
    Option{"script-trace", A::kNone},
    Option{"script-updatedb", A::kNone},
    Option{"script-args", A::kRequired, R::kScriptArgs, "NSE script arguments"},
    Option{"script-args-file", A::kRequired, R::kRefused,
           "reads NSE arguments from a file the guard cannot see (it may hold newtargets "
           "or outside hosts); give them with --script-args"},
    Option{"script-help", A::kRequired},
    Option{"script-timeout", A::kRequired},
    Option{"ip-options", A::kRequired, R::kRouteDst, "IP options (source routes name hosts)"},
    Option{"min-rate", A::kRequired},
    Option{"max-rate", A::kRequired},
    Option{"adler32", A::kNone},
    Option{"stats-every", A::kRequired},
    Option{"disable-arp-ping", A::kNone},
    Option{"route-dst", A::kRequired, R::kRouteDst, "route lookups"},
    Option{"resume", A::kRequired, R::kRefused,
           "continues an earlier scan from its log file, with that file's targets and "
           "options, which the guard cannot see"},
};

constexpr std::string_view kShort = "46Ab:D:d::e:Ffg:hIi:M:m:nO::o:P::p:qRrS:s::T:Vv::";

// The short options, with the guard's role of each.
constexpr std::array kShortOptions = {
    Option{"4", A::kNone},
    Option{"6", A::kNone, R::kRefused,
           "scans over IPv6; the lab is IPv4 only and IPv6 link-local traffic reaches every "
           "host on a segment"},
    Option{"A", A::kNone},
    Option{"b", A::kRequired, R::kFtpBounce, "FTP bounce relay"},
    Option{"D", A::kRequired, R::kDecoys, "decoys"},
    Option{"d", A::kOptional},
    Option{"e", A::kRequired, R::kInterface, "interface"},
    Option{"F", A::kNone},
    Option{"f", A::kNone},
    Option{"g", A::kRequired},
    Option{"h", A::kNone},
    Option{"I", A::kNone},
    Option{"i", A::kRequired, R::kRefused, kTargetFile},
    Option{"M", A::kRequired},
    Option{"m", A::kRequired, R::kOutput, "grepable output"},
    Option{"n", A::kNone},
    Option{"O", A::kOptional},
    Option{"o", A::kRequired, R::kOutput, "normal output"},
    Option{"P", A::kOptional},
    Option{"p", A::kRequired},
    Option{"q", A::kNone},
    Option{"R", A::kNone},
    Option{"r", A::kNone},
    Option{"S", A::kRequired, R::kSpoofSource, "spoofed source address"},
    Option{"s", A::kOptional, R::kScanTypes, "scan type"},
    Option{"T", A::kRequired},
    Option{"V", A::kNone},
    Option{"v", A::kOptional},
};

}  // namespace

std::span<const Option> long_options() { return kLong; }

std::string_view short_option_string() { return kShort; }

const Option* short_option(char c) {
  for (const auto& o : kShortOptions)
    if (o.name.size() == 1 && o.name[0] == c) return &o;
  return nullptr;
}

const Grammar& grammar() {
  static const Grammar g{"Nmap", kLong, kShort, &short_option, /*long_only=*/true};
  return g;
}

}  // namespace testbed::scanners::nmap
