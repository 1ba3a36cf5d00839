#pragma once
// Small text helpers shared by the renderers (render_*.cc); not part of report's interface.
#include <string>
#include <vector>

#include "orchestrator/analysis/packet_key.h"
#include "orchestrator/report/results.h"

namespace testbed::report {

/// The first non-blank line of `s` (a scanner's --version output), "" if none.
std::string first_line(const std::string& s);

/// The destination port of a TCP/UDP key, "" for other protocols.
std::string port_str(const analysis::PacketKey& k);

/// Where the nodes ran, from the runs' lab provenance, and what that means for the tables:
/// "" when every run says nothing (older manifests).
std::string lab_backend_note(const std::vector<RunRecord>& runs);

/// A run's note in the runs tables: why it failed ("stage: error"), or for a complete run the
/// attempts the retry policy discarded ("retried after attempt 1: zmap killed by signal 6
/// (SIGABRT): …"), and the lab host that ran it when the runs were spread over several
/// ("ran on qemu+ssh://root@lab1/system"); "" when there is nothing to say.
std::string run_note(const RunRecord& r);

/// Whether the runs come from more than one scanner kind (experiments/scanners.yaml): the
/// report then speaks of scanners, not of Nmap versions.
bool across_tools(const std::vector<RunRecord>& runs);
/// The report's title ("Nmap traffic by version", or "Scanner traffic: nmap, masscan, zmap"
/// across tools) and its classifier question ("Which version…" / "Which scanner…").
std::string report_title(const std::vector<RunRecord>& runs);
std::string classifier_question(const std::vector<RunRecord>& runs);

}  // namespace testbed::report
