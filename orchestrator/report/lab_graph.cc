#include "orchestrator/report/lab_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "orchestrator/report/html.h"
#include "orchestrator/results/layout.h"
#include "orchestrator/results/manifest.h"
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

/// Graphviz's <svg width="1209pt" height="…pt" viewBox=…>, scaled to its column: width 100%
/// of the column but never above its own size, height from the viewBox's aspect ratio.
std::string fit_to_column(std::string svg) {
  const size_t end = svg.find('>');
  if (end == std::string::npos) return svg;
  std::string tag = svg.substr(0, end);
  std::string natural;
  for (const char* attr : {" width=\"", " height=\""}) {
    const size_t a = tag.find(attr);
    if (a == std::string::npos) continue;
    const size_t v = a + std::strlen(attr), e = tag.find('"', v);
    if (e == std::string::npos) continue;
    if (attr[1] == 'w') natural = tag.substr(v, e - v);
    tag.erase(a, e + 1 - a);
  }
  tag += " width=\"100%\" style=\"height:auto;max-width:" + (natural.empty() ? "100%" : natural) + "\"";
  return tag + svg.substr(end);
}

}  // namespace

std::string topology_dot(const config::Topology& topo,
                         const std::vector<std::string>& scanner_images) {
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
    // The scanner node runs each version's image in turn: name them all.
    const bool per_version = node.role == config::NodeRole::kScanner && !scanner_images.empty();
    std::string images = per_version ? "" : "image " + node.image;
    for (size_t i = 0; per_version && i < scanner_images.size(); ++i)
      images += (i ? "\n" : "one image per version:\n") + scanner_images[i];
    o += fmt::format("  {} [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", label={}];\n",
                     quoted("node:" + node.name), node_colour(node.role),
                     quoted(fmt::format("{}\n{}, {}", node.name, config::to_string(node.role),
                                        images)));
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
  std::vector<std::string> images;  // every version's scanner image, plan order, once each
  if (auto plan = results::read_plan(results_dir / results::files::kPlan))
    for (const auto& sc : plan->scanners)
      if (!sc.image.empty() && std::find(images.begin(), images.end(), sc.image) == images.end())
        images.push_back(sc.image);
  auto topo = config::load_topology(file.string());
  auto svg = topo ? render_svg(topology_dot(*topo, images)) : util::Result<std::string>(topo.error());
  if (!svg) return h + "<p class=\"note\">No drawing: " + escape(svg.error().message) + "</p>";
  size_t start = svg->find("<svg");  // without the XML declaration and DOCTYPE
  if (start == std::string::npos) return h;
  return h + "<div>" + fit_to_column(svg->substr(start)) + "</div>";
}

}  // namespace testbed::report
