#pragma once
// What changed between two results directories besides the traffic: the provenance their
// manifests record — image recipe hashes and package versions (the image manifests),
// `nmap --version`, kernel, libvirt, backend, topology and experiment hashes, testbed's
// version and revision — so a drift reads "scanner image (7.93): nmap-common 7.93+dfsg1-1
// → 7.93+dfsg1-2" and not only "packets differ", and a drift with identical provenance is
// known as such.
#include <string>
#include <vector>

#include "orchestrator/report/compare.h"
#include "orchestrator/report/results.h"

namespace testbed::report {

/// One line per difference, "what: before → after" (A before, B after), in a stable order;
/// empty when A's and B's provenance are the same. Compares, per scanner version in both,
/// the first complete run of each side.
std::vector<std::string> provenance_changes(const ResultsDir& a, const ResultsDir& b);

/// Fills d.provenance with provenance_changes(a, b).
void explain_provenance(DriftReport& d, const ResultsDir& a, const ResultsDir& b);

/// The same as an HTML fragment for the report's baseline section ("" when not compared).
std::string provenance_html(const DriftReport& d);

}  // namespace testbed::report
