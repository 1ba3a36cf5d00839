#pragma once
// Nmap's -oX report: the few facts the analysis reports beside the traffic.
#include <string>
#include <string_view>

#include "orchestrator/analysis/scanner_model.h"
#include "orchestrator/util/result.h"

namespace testbed::scanners::nmap {

/// Parses an Nmap -oX report; `name` stands for the file in messages. An interrupted scan
/// (no <finished>) is not an error: `finished` is false and elapsed is 0.
util::Result<analysis::ScanResult> parse_xml(std::string_view text, const std::string& name);

}  // namespace testbed::scanners::nmap
