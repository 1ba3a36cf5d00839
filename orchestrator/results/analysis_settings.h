#pragma once
// The one conversion from an experiment's `analysis:` settings (config::AnalysisSettings,
// parsed by config only) to the analysis module's options.
#include "orchestrator/analysis/analyze.h"
#include "orchestrator/config/experiment.h"
#include "orchestrator/util/result.h"

namespace testbed::results {

/// key_fields (tcp_options -> the tcp-options key bit), scanner_ip, similarity overrides by
/// protocol (icmpv6 is the ICMP class's rule: ICMP and ICMPv6 share one class). Fails only on
/// settings config would have refused (an unknown key field, a bad address).
util::Result<analysis::AnalysisOptions> analysis_options(const config::AnalysisSettings& s);

}  // namespace testbed::results
