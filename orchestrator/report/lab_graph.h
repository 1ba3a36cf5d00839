#pragma once
// A drawing of a lab topology, laid out by Graphviz: the networks (name, role, subnet), the
// nodes (name, role, image) joined to them by their addresses, the host on mgmt, and the
// capture point — the router's scan-side interface, where testbed records every packet.
// `testbed lab graph` prints it; the report embeds it (the results directory's topology.yaml).
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/config/topology.h"
#include "orchestrator/util/result.h"

namespace testbed::report {

/// The topology as a Graphviz DOT graph (undirected), deterministic for golden files.
/// `scanner_images`: the images the scanner node runs, one per version (the report's plan);
/// empty: the topology's own image.
std::string topology_dot(const config::Topology& topo,
                         const std::vector<std::string>& scanner_images = {});

/// DOT rendered to an SVG document by `dot -Tsvg` (Graphviz); fails when dot is missing
/// or refuses the graph.
util::Result<std::string> render_svg(const std::string& dot);

/// The report's "The lab" section: the drawing of `results_dir`/topology.yaml as inline
/// SVG scaled to its column, the scanner labelled with every version's image (plan.json); a
/// note when it cannot be drawn; "" when the results directory has no topology copy.
std::string lab_graph_html(const std::filesystem::path& results_dir);

}  // namespace testbed::report
