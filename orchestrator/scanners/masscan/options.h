#pragma once
// masscan's command-line grammar (src/main-conf.c of masscan 1.3.2, Debian bookworm and
// trixie): not getopt. `--name=value`, `--name:value` or `--name value` (the next argument,
// whatever it looks like, unless the option is a flag); long names match exactly, no
// abbreviations; a few Nmap-like short options (-p80, -p 80, -S ip, -e/-i adapter, -oX file,
// -iL file, -c file); every other argument that starts with a digit, ':' or '[' is a range
// to scan. The table lists the options the guard allows or refuses by name; any other
// option is refused as unknown (the safe direction).
#include <string>
#include <vector>

#include "orchestrator/scanners/getopt.h"

namespace testbed::scanners::masscan {

/// The long option `name` (any of masscan's aliases), or nullptr.
const Option* long_option(std::string_view name);

/// How masscan reads argv (argv[0] is the program, not parsed), as items like getopt's:
/// options with their values and operands (ranges). Errors: what masscan rejects, and
/// options the guard does not know.
Parsed parse(const std::vector<std::string>& argv);

}  // namespace testbed::scanners::masscan
