#include "orchestrator/scanners/masscan/options.h"

#include <fmt/format.h>

#include <array>
#include <cctype>

namespace testbed::scanners::masscan {
namespace {

using A = Arg;
using R = Role;

constexpr std::string_view kFile =
    "reads targets or settings from a file the guard cannot see; list lab targets in the "
    "experiment's `targets:` or the command";

// Every alias is its own entry: masscan compares names exactly (EQUALS in main-conf.c).
constexpr std::array kLong = {
    // targets and exclusions
    Option{"range", A::kRequired, R::kTargets, "targets"},
    Option{"ranges", A::kRequired, R::kTargets, "targets"},
    Option{"ip", A::kRequired, R::kTargets, "targets"},
    Option{"ipv4", A::kRequired, R::kTargets, "targets"},
    Option{"dst-ip", A::kRequired, R::kTargets, "targets"},
    Option{"dest-ip", A::kRequired, R::kTargets, "targets"},
    Option{"destination-ip", A::kRequired, R::kTargets, "targets"},
    Option{"target-ip", A::kRequired, R::kTargets, "targets"},
    Option{"exclude", A::kRequired, R::kExclude, "exclusions"},
    Option{"exclude-range", A::kRequired, R::kExclude, "exclusions"},
    Option{"exclude-ranges", A::kRequired, R::kExclude, "exclusions"},
    Option{"exclude-ip", A::kRequired, R::kExclude, "exclusions"},
    Option{"exclude-ipv4", A::kRequired, R::kExclude, "exclusions"},
    Option{"excludefile", A::kRequired, R::kRefused, kFile},
    Option{"includefile", A::kRequired, R::kRefused, kFile},
    Option{"conf", A::kRequired, R::kRefused, kFile},
    Option{"config", A::kRequired, R::kRefused, kFile},
    Option{"resume", A::kRequired, R::kRefused, kFile},
    Option{"readscan", A::kRequired, R::kRefused, "reads an earlier scan instead of scanning"},
    Option{"readrange", A::kNone, R::kRefused, "lists ranges instead of scanning"},
    Option{"readranges", A::kNone, R::kRefused, "lists ranges instead of scanning"},
    // the adapter: interface, source address, MACs
    Option{"adapter", A::kRequired, R::kInterface, "adapter"},
    Option{"if", A::kRequired, R::kInterface, "adapter"},
    Option{"interface", A::kRequired, R::kInterface, "adapter"},
    Option{"adapter-ip", A::kRequired, R::kSpoofSource, "source address"},
    Option{"source-ip", A::kRequired, R::kSpoofSource, "source address"},
    Option{"source-address", A::kRequired, R::kSpoofSource, "source address"},
    Option{"spoof-ip", A::kRequired, R::kSpoofSource, "source address"},
    Option{"spoof-address", A::kRequired, R::kSpoofSource, "source address"},
    Option{"src-ip", A::kRequired, R::kSpoofSource, "source address"},
    Option{"router-mac", A::kRequired, R::kRouterMac, "router MAC"},
    Option{"router", A::kRequired, R::kRouterMac, "router MAC"},
    Option{"dest-mac", A::kRequired, R::kRouterMac, "router MAC"},
    Option{"destination-mac", A::kRequired, R::kRouterMac, "router MAC"},
    Option{"dst-mac", A::kRequired, R::kRouterMac, "router MAC"},
    Option{"target-mac", A::kRequired, R::kRouterMac, "router MAC"},
    Option{"router-mac-ipv4", A::kRequired, R::kRouterMac, "router MAC"},
    Option{"router-ip", A::kRequired, R::kRefused,
           "makes masscan ARP for a router address of its own; give --router-mac "
           "{router_mac}, the lab router's"},
    Option{"router-mac-ipv6", A::kRequired, R::kRefused, "the lab is IPv4 only"},
    Option{"router-ipv6", A::kRequired, R::kRefused, "the lab is IPv4 only"},
    Option{"adapter-mac", A::kRequired, R::kRefused,
           "sends from another MAC address than the scanner's; the lab's frames must be "
           "the scanner's own"},
    Option{"spoof-mac", A::kRequired, R::kRefused, "sends from another MAC address"},
    Option{"source-mac", A::kRequired, R::kRefused, "sends from another MAC address"},
    Option{"src-mac", A::kRequired, R::kRefused, "sends from another MAC address"},
    Option{"adapter-vlan", A::kRequired, R::kRefused, "tags frames for another VLAN"},
    Option{"vlan", A::kRequired, R::kRefused, "tags frames for another VLAN"},
    Option{"adapter-port", A::kRequired},
    Option{"source-port", A::kRequired},
    Option{"src-port", A::kRequired},
    // what to send
    Option{"ports", A::kRequired},
    Option{"port", A::kRequired},
    Option{"dst-port", A::kRequired},
    Option{"dest-port", A::kRequired},
    Option{"destination-port", A::kRequired},
    Option{"target-port", A::kRequired},
    Option{"tcp-ports", A::kRequired},
    Option{"tcp-port", A::kRequired},
    Option{"udp-ports", A::kRequired},
    Option{"udp-port", A::kRequired},
    Option{"top-ports", A::kRequired},
    Option{"exclude-ports", A::kRequired},
    Option{"exclude-port", A::kRequired},
    Option{"rate", A::kRequired},
    Option{"max-rate", A::kRequired},
    Option{"retries", A::kRequired},
    Option{"retry", A::kRequired},
    Option{"max-retries", A::kRequired},
    Option{"max-retry", A::kRequired},
    Option{"wait", A::kRequired},
    Option{"seed", A::kRequired},
    Option{"ttl", A::kRequired},
    Option{"randomize-hosts", A::kNone},
    Option{"ping", A::kNone},
    Option{"ping-sweep", A::kNone},
    Option{"badsum", A::kNone},
    Option{"shard", A::kRequired},
    Option{"shards", A::kRequired},
    Option{"banners", A::kNone, R::kRefused,
           "banner grabbing runs masscan's own TCP stack, which needs a source address "
           "the scanner's kernel does not answer for; testbed models masscan's port scan only"},
    Option{"banner", A::kNone, R::kRefused, "banner grabbing: see --banners"},
    Option{"arpscan", A::kNone, R::kRefused, "ARP-scans the scan network instead of the targets"},
    Option{"arp", A::kNone, R::kRefused, "ARP-scans the scan network instead of the targets"},
    Option{"pcap", A::kRequired, R::kRefused, "writes a second capture on the scanner"},
    Option{"pcap-filename", A::kRequired, R::kRefused, "writes a second capture on the scanner"},
    Option{"offline", A::kNone, R::kRefused, "sends nothing"},
    Option{"echo", A::kNone, R::kRefused, "prints the settings instead of scanning"},
    Option{"infinite", A::kNone, R::kRefused, "scans forever"},
    // output and console
    Option{"output-filename", A::kRequired, R::kOutput, "output file"},
    Option{"output-file", A::kRequired, R::kOutput, "output file"},
    Option{"output-format", A::kRequired},
    Option{"open", A::kNone},
    Option{"open-only", A::kNone},
    Option{"output-append", A::kRequired, R::kRefused, "appends to an earlier result file"},
    Option{"append-output", A::kNone, R::kRefused, "appends to an earlier result file"},
    Option{"rotate", A::kRequired, R::kRefused, "splits the result file"},
    Option{"interactive", A::kNone},
    Option{"nointeractive", A::kNone},
    Option{"status", A::kNone},
    Option{"nostatus", A::kNone, R::kRefused,
           "hides the status line testbed reads to see masscan finish and wake it if it "
           "lingers (with it masscan 1.3.2 waits for its receive thread and may never exit)"},
    Option{"packet-trace", A::kNone},
    Option{"trace-packet", A::kNone},
    Option{"reason", A::kNone},
    Option{"send-eth", A::kNone},
    Option{"nobacktrace", A::kNone},
};

bool is_flag(const Option& o) { return o.arg == A::kNone; }

const Option kPorts{"p", A::kRequired};
const Option kAdapter{"e", A::kRequired, R::kInterface, "adapter"};
const Option kSource{"S", A::kRequired, R::kSpoofSource, "source address"};
const Option kSourcePort{"g", A::kRequired};
const Option kTargetFile{"iL", A::kRequired, R::kRefused, kFile};
const Option kRandom{"iR", A::kNone, R::kRefused,
                     "scans the whole Internet (0.0.0.0/0); testbed only scans its own lab"};
const Option kConfig{"c", A::kRequired, R::kRefused, kFile};
const Option kFlag{"-", A::kNone};  // -n, -Pn, -sS, -v…, -d…, -6: no host named
const Option kResult{"o", A::kRequired, R::kOutput, "output file"};
const Option kOtherOutput{"o", A::kRequired, R::kRefused,
                          "testbed reads masscan's -oX (XML) or -oL (list) result file"};

}  // namespace

const Option* long_option(std::string_view name) {
  for (const auto& o : kLong)
    if (o.name == name) return &o;
  return nullptr;
}

Parsed parse(const std::vector<std::string>& argv) {
  Parsed out;
  const size_t n = argv.size();
  auto error = [&](size_t i, std::string msg) { out.errors.push_back({i, std::move(msg)}); };
  // An option whose value is attached (rest of argv[i] from `from`) or the next argument.
  auto with_value = [&](size_t& i, const Option* o, std::string spelling, size_t from) {
    Item it;
    it.option = o;
    it.spelling = std::move(spelling);
    it.index = it.value_index = i;
    if (from < argv[i].size()) {
      it.value = argv[i].substr(from);
    } else if (i + 1 < n) {
      it.value = argv[++i];
      it.value_index = i;
    } else {
      error(i, fmt::format("'{}' needs a value", argv[i]));
      return;
    }
    out.items.push_back(std::move(it));
  };
  for (size_t i = 1; i < n; ++i) {
    const std::string& a = argv[i];
    if (a.size() >= 2 && a[0] == '-' && a[1] == '-') {
      std::string body = a.substr(2);
      size_t sep = body.find('=');
      if (sep == std::string::npos) sep = body.find(':');
      std::string name = body.substr(0, sep);
      const Option* o = long_option(name);
      if (!o) {
        error(i, fmt::format("'{}': '--{}' is not a masscan option the guard knows (testbed "
                             "allows the options listed in scanners/masscan/options.cc)",
                             a, name));
        continue;
      }
      Item it;
      it.option = o;
      it.is_long = true;
      it.spelling = "--" + name;
      it.index = it.value_index = i;
      if (sep != std::string::npos) {
        it.value = body.substr(sep + 1);
      } else if (!is_flag(*o)) {
        if (i + 1 >= n) {
          error(i, fmt::format("'{}': --{} needs a value", a, name));
          continue;
        }
        it.value = argv[++i];  // whatever it looks like, as masscan does
        it.value_index = i;
      }
      out.items.push_back(std::move(it));
      continue;
    }
    if (a.size() >= 2 && a[0] == '-') {
      switch (a[1]) {
        case 'p': with_value(i, &kPorts, "-p", 2); break;
        case 'e': with_value(i, &kAdapter, "-e", 2); break;
        case 'S': with_value(i, &kSource, "-S", 2); break;
        case 'g': with_value(i, &kSourcePort, "-g", 2); break;
        case 'c': with_value(i, &kConfig, "-c", 2); break;
        case 'i':
          // masscan: "-iL"/"-iR" exactly are Nmap's; any other -i… is the adapter.
          if (a.size() == 3 && !std::isdigit(static_cast<unsigned char>(a[2]))) {
            if (a[2] == 'L') {
              with_value(i, &kTargetFile, "-iL", 3);
            } else if (a[2] == 'R') {
              out.items.push_back({false, &kRandom, false, "-iR", std::nullopt, i, i});
            } else {
              error(i, fmt::format("'{}' is not a masscan option", a));
            }
          } else {
            with_value(i, &kAdapter, "-i", 2);
          }
          break;
        case 'o':
          // The format letter, then always the next argument as the file.
          if (a.size() < 3) {
            error(i, fmt::format("'{}': masscan needs an output format letter (-oX, -oL)", a));
          } else {
            const Option* o = (a[2] == 'X' || a[2] == 'L') ? &kResult : &kOtherOutput;
            with_value(i, o, a.substr(0, 3), a.size());  // never attached: masscan ignores the rest
          }
          break;
        case 'n': case 'P': case 's': case 'v': case 'd': case '6':
          out.items.push_back({false, &kFlag, false, a, std::nullopt, i, i});
          break;
        default:
          error(i, fmt::format("'{}' is not a masscan option the guard knows", a));
      }
      continue;
    }
    Item it;
    it.operand = true;
    it.spelling = a;
    it.index = it.value_index = i;
    out.items.push_back(std::move(it));
  }
  return out;
}

}  // namespace testbed::scanners::masscan
