#pragma once
// What an experiment or topology refers to outside itself: every image its lab boots must
// have a recipe (images/NAME.yaml). `testbed validate` and `testbed run` check it before
// anything is built or created, so a typo (`scanner-nmap-7.59`) is bad input, not a
// failed build half-way through.
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/config/experiment.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/util/result.h"

namespace testbed::config {

/// The image recipe names in `recipe_dir` (*.yaml file stems), sorted.
std::vector<std::string> recipe_names(const std::filesystem::path& recipe_dir);

/// Every image the lab of `exp` on `topo` boots (the topology's node images, replaced by
/// `node_images`, the scanner node's by every `scanners:` image; with exp null, the
/// topology's node images alone) that has no recipe in `recipe_dir`: one
/// "file:line:col: … (did you mean '…'?)" line each, nearest recipe name suggested.
util::Status check_image_references(const Experiment* exp, const Topology& topo,
                                    const std::filesystem::path& recipe_dir);

}  // namespace testbed::config
