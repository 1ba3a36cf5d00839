#pragma once
// What `testbed run` checks before it creates anything (runner/experiment.h), and what
// `testbed validate` checks of an experiment: its inputs (topology, image recipes, scope
// guard) and its lab hosts (libvirt answers; a remote host is checked whole).
#include <cstdint>
#include <string>
#include <vector>

#include "orchestrator/config/backend.h"
#include "orchestrator/config/experiment.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/util/result.h"

namespace testbed::runner {

/// The topology `exp` names loads, every image its lab boots has a recipe in
/// backends::default_recipe_dir() (nearest name suggested), and its command passes the
/// scope guard. The topology, or every problem as file:line:col lines.
util::Result<config::Topology> check_experiment_inputs(const config::Experiment& exp);

/// Bytes the images `names` upload to a lab host at most (cache entry sizes; an image
/// not built yet counts 1 GiB).
uint64_t image_upload_estimate(const std::vector<std::string>& names,
                               config::BackendKind backend);

/// Every lab host in `uris` can take the experiment's lab: its backend runs there
/// (backends::check_remote_lab_host), libvirt answers, and a remote host passes the whole
/// host check (host key, tools, QEMU, space for `images`). Logs what is wrong, naming
/// `experiment_file`, and returns false at the first host that is not ready.
bool lab_hosts_ready(const config::Experiment& exp, const std::vector<std::string>& uris,
                     const std::vector<std::string>& images, const std::string& experiment_file);

}  // namespace testbed::runner
