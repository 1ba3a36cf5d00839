#include "orchestrator/scanners/zmap/options.h"

#include <array>

namespace testbed::scanners::zmap {
namespace {

using A = Arg;
using R = Role;

constexpr std::string_view kFile =
    "reads targets or settings from a file the guard cannot see; list lab targets in the "
    "experiment's `targets:` or the command";

// gengetopt's table: long name, argument, and the short letter in kShort below.
constexpr std::array kLong = {
    Option{"target-port", A::kRequired},
    Option{"output-file", A::kRequired, R::kOutput, "output file"},
    Option{"blacklist-file", A::kRequired, R::kBlocklist, "blocklist"},
    Option{"whitelist-file", A::kRequired, R::kRefused, kFile},
    Option{"rate", A::kRequired},
    Option{"bandwidth", A::kRequired},
    Option{"max-targets", A::kRequired},
    Option{"max-runtime", A::kRequired},
    Option{"max-results", A::kRequired},
    Option{"probes", A::kRequired},
    Option{"cooldown-time", A::kRequired},
    Option{"seed", A::kRequired},
    Option{"retries", A::kRequired},
    Option{"dryrun", A::kNone},
    Option{"shards", A::kRequired},
    Option{"shard", A::kRequired},
    Option{"source-port", A::kRequired},
    Option{"source-ip", A::kRequired, R::kSpoofSource, "source address"},
    Option{"gateway-mac", A::kRequired, R::kRouterMac, "gateway MAC"},
    Option{"source-mac", A::kRequired, R::kRefused,
           "sends from another MAC address than the scanner's"},
    Option{"interface", A::kRequired, R::kInterface, "interface"},
    Option{"vpn", A::kNone, R::kRefused,
           "hands IP packets to the kernel's routing instead of frames to the lab router"},
    Option{"probe-module", A::kRequired},
    Option{"probe-args", A::kRequired, R::kRefused,
           "probe arguments may read payload files the guard cannot see"},
    Option{"list-probe-modules", A::kNone},
    Option{"output-fields", A::kRequired},
    Option{"output-module", A::kRequired},
    Option{"output-args", A::kRequired},
    Option{"output-filter", A::kRequired},
    Option{"list-output-modules", A::kNone},
    Option{"list-output-fields", A::kNone},
    Option{"verbosity", A::kRequired},
    Option{"log-file", A::kRequired},
    Option{"log-directory", A::kRequired},
    Option{"metadata-file", A::kRequired},
    Option{"status-updates-file", A::kRequired},
    Option{"quiet", A::kNone},
    Option{"disable-syslog", A::kNone},
    Option{"notes", A::kRequired},
    Option{"user-metadata", A::kRequired},
    Option{"config", A::kRequired, R::kRefused, kFile},
    Option{"max-sendto-failures", A::kRequired},
    Option{"min-hitrate", A::kRequired},
    Option{"sender-threads", A::kRequired},
    Option{"cores", A::kRequired},
    Option{"ignore-invalid-hosts", A::kNone},
    Option{"help", A::kNone},
    Option{"version", A::kNone},
};

constexpr std::string_view kShort = "p:o:b:w:r:B:n:t:N:P:c:e:ds:S:G:i:XM:f:O:v:l:L:m:u:qC:T:hV";

// The short letters, each the short form of the long option named beside it.
struct Letter {
  char c;
  std::string_view long_name;
};
constexpr std::array kLetters = {
    Letter{'p', "target-port"},    Letter{'o', "output-file"},   Letter{'b', "blacklist-file"},
    Letter{'w', "whitelist-file"}, Letter{'r', "rate"},
    Letter{'B', "bandwidth"},      Letter{'n', "max-targets"},   Letter{'t', "max-runtime"},
    Letter{'N', "max-results"},    Letter{'P', "probes"},        Letter{'c', "cooldown-time"},
    Letter{'e', "seed"},           Letter{'d', "dryrun"},        Letter{'s', "source-port"},
    Letter{'S', "source-ip"},      Letter{'G', "gateway-mac"},   Letter{'i', "interface"},
    Letter{'X', "vpn"},        Letter{'M', "probe-module"},  Letter{'f', "output-fields"},
    Letter{'O', "output-module"},  Letter{'v', "verbosity"},     Letter{'l', "log-file"},
    Letter{'L', "log-directory"},  Letter{'m', "metadata-file"}, Letter{'u', "status-updates-file"},
    Letter{'q', "quiet"},          Letter{'C', "config"},        Letter{'T', "sender-threads"},
    Letter{'h', "help"},           Letter{'V', "version"},
};

// One Option per letter: the long option's arg/role/why under the one-letter name.
struct ShortTable {
  std::array<Option, kLetters.size()> options;
  constexpr ShortTable() : options() {
    for (size_t i = 0; i < kLetters.size(); ++i) {
      for (const auto& o : kLong)
        if (o.name == kLetters[i].long_name) options[i] = o;
      options[i].name = std::string_view(&kLetters[i].c, 1);
    }
  }
};
constexpr ShortTable kShortTable;

const Option* short_option(char c) {
  for (const auto& o : kShortTable.options)
    if (o.name[0] == c) return &o;
  return nullptr;
}

}  // namespace

const Grammar& grammar() {
  static const Grammar g{"ZMap", kLong, kShort, &short_option, /*long_only=*/false};
  return g;
}

}  // namespace testbed::scanners::zmap
