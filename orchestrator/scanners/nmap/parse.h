#pragma once
// Reads an Nmap command line the way Nmap itself does: glibc's getopt_long_only with
// Nmap's option table (options.h), in its default permuting mode (scanners/getopt.h).
#include <string>
#include <vector>

#include "orchestrator/scanners/getopt.h"
#include "orchestrator/scanners/nmap/options.h"

namespace testbed::scanners::nmap {

using scanners::display;
using scanners::Item;
using scanners::Parsed;
using scanners::ParseError;

/// Nmap's grammar for scanners::parse.
const Grammar& grammar();

/// Parses argv (argv[0] is the program, not parsed) as Nmap does.
inline Parsed parse(const std::vector<std::string>& argv) { return scanners::parse(grammar(), argv); }

}  // namespace testbed::scanners::nmap
