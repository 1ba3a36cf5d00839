#pragma once
// ZMap's command-line grammar as data: its gengetopt options (src/zopt.ggo.in of ZMap
// 2.1.1, the zmap of Debian bullseye to sid; one port per scan), read with getopt_long
// (not _only): --opt=value, --opt value,
// unambiguous abbreviations of long options, short options with attached or separate
// values and bundled flags. Every argument that is not an option is a target (an address
// or CIDR block). Options missing here are refused as unknown: the safe direction.
#include <span>

#include "orchestrator/scanners/getopt.h"

namespace testbed::scanners::zmap {

/// ZMap's grammar for scanners::parse.
const Grammar& grammar();

/// The file the ZMap image ships as its blocklist: comments only. ZMap's default
/// (/etc/zmap/blacklist.conf via /etc/zmap/zmap.conf) excludes every private range, the
/// lab's 172.24.0.0/16 included; the guard keeps the scan in the lab instead.
inline constexpr std::string_view kLabBlocklist = "/etc/testbed/zmap-lab-blocklist.conf";

}  // namespace testbed::scanners::zmap
