// `testbed lab graph TOPOLOGY [--format svg|dot]`: the lab drawn by Graphviz
// (orchestrator/report/lab_graph.h). No lab, no root needed.
#include <iostream>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/report/lab_graph.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

struct GraphArgs {
  std::string topology;
  std::string format = "svg";
  std::string output;
};

int run_graph(const GraphArgs& a) {
  auto topo = config::load_topology(a.topology);
  if (!topo) {
    util::log_error("{}", topo.error().message);
    return kExitBadInput;
  }
  std::string text = report::topology_dot(*topo);
  if (a.format == "svg") {
    auto svg = report::render_svg(text);
    if (!svg) {
      util::log_error("{}", svg.error().message);
      return kExitEnvironment;
    }
    text = *svg;
  }
  if (a.output.empty()) {
    std::cout << text;
    return kExitOk;
  }
  if (auto st = util::write_file_atomic(a.output, text); !st) {
    util::log_error("{}", st.error().message);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void add_lab_graph_subcommand(CLI::App& lab, CliContext& ctx) {
  auto args = std::make_shared<GraphArgs>();
  auto* g = lab.add_subcommand(
      "graph",
      "Draw a topology with Graphviz: networks, nodes, addresses, the capture point (the "
      "router's scan-side interface)");
  g->footer(
      "Exit codes: 0 drawn, 1 Graphviz failed, 2 bad topology, 4 Graphviz (dot) missing.\n"
      "Example: testbed lab graph topology/two-subnet.yaml > lab.svg\n"
      "The report (report.html, \"The lab\") shows the same drawing of the lab it ran on.");
  g->add_option("topology", args->topology, "Topology file, e.g. topology/two-subnet.yaml")
      ->required()
      ->check(CLI::ExistingFile);
  g->add_option("--format", args->format, "svg (default; needs Graphviz's dot) or dot")
      ->check(CLI::IsMember({"svg", "dot"}));
  g->add_option("-o,--output", args->output, "Write to FILE instead of standard output");
  g->callback([args, &ctx] { ctx.exit_code = run_graph(*args); });
}

}  // namespace testbed::cli
