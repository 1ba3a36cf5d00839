#include "orchestrator/report/lab_graph.h"

#include <fmt/format.h>

#include "orchestrator/report/html.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::report {
namespace {

std::string quoted(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '\n') {  // a line break in a label
      o += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') o += '\\';
    o += c;
  }
  return o + "\"";
}

const char* network_colour(config::NetworkRole r) {
  switch (r) {
    case config::NetworkRole::kMgmt:
      return "#eeeeee";
    case config::NetworkRole::kScan:
      return "#fde0c5";
    case config::NetworkRole::kTargets:
      return "#d5ecd4";
  }
  return "#ffffff";
}

const char* node_colour(config::NodeRole r) {
  switch (r) {
    case config::NodeRole::kRouter:
      return "#cfe2f3";
    case config::NodeRole::kScanner:
      return "#f9cb9c";
    case config::NodeRole::kTarget:
      return "#b6d7a8";
  }
  return "#ffffff";
}

}  // namespace

std::string topology_dot(const config::Topology& topo) {
  std::string o = fmt::format("graph {} {{\n", quoted(topo.name));
  o += fmt::format(
      "  graph [rankdir=LR, fontname=\"Helvetica\", labelloc=t, label={}];\n"
      "  node [fontname=\"Helvetica\", fontsize=11];\n"
      "  edge [fontname=\"Helvetica\", fontsize=10];\n",
      quoted("lab " + topo.name));
  for (const auto& n : topo.networks) {
    o += fmt::format("  {} [shape=ellipse, style=filled, fillcolor=\"{}\", label={}];\n",
                     quoted("net:" + n.name), network_colour(n.role),
                     quoted(n.name == config::to_string(n.role)
                                ? fmt::format("{}\n{}", n.name, n.cidr.str())
                                : fmt::format("{} ({})\n{}", n.name, config::to_string(n.role),
                                              n.cidr.str())));
    if (n.host_address)
      o += fmt::format(
          "  {} [shape=box, style=dashed, label={}];\n  {} -- {} [style=dashed, label={}];\n",
          quoted("host:" + n.name), quoted("this host"), quoted("net:" + n.name),
          quoted("host:" + n.name), quoted(util::format_ipv4(*n.host_address)));
  }
  const auto* scan = topo.network_by_role(config::NetworkRole::kScan);
  for (const auto& node : topo.nodes) {
    o += fmt::format("  {} [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", label={}];\n",
                     quoted("node:" + node.name), node_colour(node.role),
                     quoted(fmt::format("{}\n{}, image {}", node.name,
                                        config::to_string(node.role), node.image)));
    for (const auto& i : node.interfaces) {
      const config::TopologyNetwork* net = topo.network(i.network);
      const auto role = net ? net->role : config::NetworkRole::kMgmt;
      std::string attrs = "label=" + quoted(util::format_ipv4(i.address));
      // The capture point: the router's interface on the scan network.
      if (node.role == config::NodeRole::kRouter && scan && i.network == scan->name)
        attrs = "label=" + quoted(util::format_ipv4(i.address) + "\ncapture (every packet)") +
                ", color=\"#c0392b\", fontcolor=\"#c0392b\", penwidth=3";
      // Management links are drawn light and left out of the layout, which follows the
      // traffic from left to right: scanner, scan network, router, targets network, targets.
      if (role == config::NetworkRole::kMgmt)
        attrs += ", style=dashed, color=\"#aaaaaa\", fontcolor=\"#888888\", constraint=false";
      const bool node_first =
          role == config::NetworkRole::kMgmt ||
          (role == config::NetworkRole::kScan && node.role == config::NodeRole::kScanner) ||
          (role == config::NetworkRole::kTargets && node.role == config::NodeRole::kRouter);
      std::string a = quoted("node:" + node.name), b = quoted("net:" + i.network);
      o += fmt::format("  {} -- {} [{}];\n", node_first ? a : b, node_first ? b : a, attrs);
    }
  }
  return o + "}\n";
}

util::Result<std::string> render_svg(const std::string& dot) {
  util::ProcessOptions o;
  o.stdin_data = dot;
  o.timeout = std::chrono::seconds(30);
  auto r = util::run_process({"dot", "-Tsvg"}, o);
  if (!r) return util::fail("cannot run Graphviz's dot ({}); install graphviz", r.error().message);
  if (r->exit_code != 0)
    return util::fail("dot -Tsvg exited with status {}: {}", r->exit_code, r->err);
  return r->out;
}

std::string lab_graph_html(const std::filesystem::path& results_dir) {
  const auto file = results_dir / "topology.yaml";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return "";
  std::string h = "<h2 id=\"lab\">The lab</h2>";
  auto topo = config::load_topology(file.string());
  auto svg = topo ? render_svg(topology_dot(*topo)) : util::Result<std::string>(topo.error());
  if (!svg) return h + "<p class=\"note\">No drawing: " + escape(svg.error().message) + "</p>";
  size_t start = svg->find("<svg");  // without the XML declaration and DOCTYPE
  if (start == std::string::npos) return h;
  return h + "<div style=\"overflow-x:auto\">" + svg->substr(start) + "</div>";
}

}  // namespace testbed::report
