#pragma once
// The traffic changelog (docs/nmap-traffic-changelog.md): for each release of a kind against
// the one before, the traits that appeared (in every run of the new release, in no run of
// the old) and disappeared (the reverse) — beyond the noise floor by construction, since a
// trait that shows in only some runs of any release of the kind (run-to-run variation) is
// never listed — by family, each with its evidence packet (run and frame number).
#include <string>
#include <vector>

#include "orchestrator/identify/model.h"

namespace testbed::identify {

std::string changelog_markdown(const std::vector<LabelledRun>& runs, const std::string& kind);

}  // namespace testbed::identify
