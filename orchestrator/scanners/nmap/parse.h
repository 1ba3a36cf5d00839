#pragma once
// Reads an Nmap command line the way Nmap itself does: glibc's getopt_long_only with
// Nmap's option table (options.h), in its default permuting mode. So the guard sees
// what Nmap will see: short options with attached (-S10.0.0.1) or separate values,
// bundled flags (-nvS 10.0.0.1), --opt=value and --opt value, single-dash long options
// (-proxies), unambiguous abbreviations of long options (--dns, -excludef), and every
// argument that is not an option (nor an option's value) as a target, also after "--".
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/scanners/nmap/options.h"

namespace testbed::scanners::nmap {

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

/// Parses argv (argv[0] is the program, not parsed). Errors are what getopt would
/// reject (unknown, ambiguous, missing or unwanted value), with the nearest known
/// option suggested for an unknown one.
Parsed parse(const std::vector<std::string>& argv);

/// The display name of an option: "--script-args" or "-S".
std::string display(const Option& o, bool is_long);

}  // namespace testbed::scanners::nmap
