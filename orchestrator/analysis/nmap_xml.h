#pragma once
// Nmap's -oX report: the few facts the analysis reports beside the traffic.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::analysis {

/// What one Nmap XML report says about its run.
struct NmapRunInfo {
  std::string version;      ///< <nmaprun version="7.80">
  std::string args;         ///< the command line Nmap recorded
  double start = 0;         ///< <nmaprun start>, epoch seconds
  double end = 0;           ///< <finished time>, epoch seconds (whole seconds)
  double elapsed = 0;       ///< <finished elapsed>: Nmap's own duration, seconds
  bool finished = false;    ///< the report has <runstats><finished> (Nmap ended normally)
  int hosts_up = 0, hosts_down = 0, hosts_total = 0;
  /// Open ports as "ADDR PORT/PROTO SERVICE[ PRODUCT VERSION]", in report order.
  std::vector<std::string> open_ports;
};

/// Parses an Nmap -oX file. An interrupted scan (no <finished>) is not an error:
/// `finished` is false and elapsed is 0.
util::Result<NmapRunInfo> read_nmap_xml(const std::filesystem::path& path);
/// Same from the report's text; `name` stands for the file in messages.
util::Result<NmapRunInfo> parse_nmap_xml(std::string_view text, const std::string& name);

}  // namespace testbed::analysis
