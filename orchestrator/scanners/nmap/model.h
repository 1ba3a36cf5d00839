#pragma once
// Nmap as the analysis sees it: console tracker, result file, packet shapes.
#include "orchestrator/analysis/scanner_model.h"

namespace testbed::scanners::nmap {

const analysis::ScannerModel& model();

}  // namespace testbed::scanners::nmap
