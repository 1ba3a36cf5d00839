// `testbed validate FILE...` — checks experiment, topology and image recipe files
// without creating anything (no root, no libvirtd needed).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/config/experiment.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/config/references.h"
#include "orchestrator/config/yaml_reader.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/runner/preflight.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace fs = std::filesystem;
namespace {

enum class Kind { kExperiment, kTopology, kRecipe };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kExperiment:
      return "experiment";
    case Kind::kTopology:
      return "topology";
    case Kind::kRecipe:
      return "recipe";
  }
  return "";
}

/// Top-level keys only one kind of file has (name and description are everyone's).
const std::vector<std::pair<Kind, std::vector<std::string>>>& kind_keys() {
  static const std::vector<std::pair<Kind, std::vector<std::string>>> k = {
      {Kind::kExperiment,
       {"scanners", "command", "topology", "node_images", "repetitions", "reset_targets", "reset",
        "scan_timeout_minutes", "capture", "analysis", "targets", "hosts", "uri", "accel",
        "output", "backend"}},
      {Kind::kTopology, {"networks", "nodes", "router"}},
      {Kind::kRecipe,
       {"base", "packages", "backends", "build", "files", "services", "health", "expect",
        "source", "role"}},
  };
  return k;
}

/// The kind a parsed file is, or why it cannot be told ("" reason when it can).
struct Detected {
  std::optional<Kind> kind;
  std::string why_unsure;
};

/// By its top-level keys when they point at one kind only; else by its folder
/// (experiments/, topology/, images/); else unsure, saying which keys made it so.
Detected detect_kind(const fs::path& file, const YAML::Node& root) {
  std::vector<std::pair<Kind, std::vector<std::string>>> hits;
  std::vector<std::string> all_keys;
  if (root.IsMap()) {
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      all_keys.push_back(key);
      for (const auto& [kind, keys] : kind_keys()) {
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
        auto it = std::find_if(hits.begin(), hits.end(), [&](auto& h) { return h.first == kind; });
        if (it == hits.end()) hits.push_back({kind, {}}), it = hits.end() - 1;
        it->second.push_back(key);
      }
    }
  }
  if (hits.size() == 1) return {hits[0].first, ""};
  const std::string dir = fs::absolute(file).parent_path().filename().string();
  if (dir == "experiments") return {Kind::kExperiment, ""};
  if (dir == "topology") return {Kind::kTopology, ""};
  if (dir == "images") return {Kind::kRecipe, ""};
  if (!root.IsMap())
    return {std::nullopt, "its top level is not a mapping of keys"};
  if (hits.empty())
    return {std::nullopt,
            fmt::format("none of its keys ({}) is one of an experiment (scanners, command, …), a "
                        "topology (networks, nodes) or a recipe (base, packages, …)",
                        fmt::join(all_keys, ", "))};
  std::vector<std::string> parts;
  for (const auto& [kind, keys] : hits)
    parts.push_back(fmt::format("{} suggest{} {}", fmt::join(keys, ", "),
                                keys.size() == 1 ? "s" : "", kind_name(kind)));
  return {std::nullopt, fmt::format("its keys disagree: {}", fmt::join(parts, "; "))};
}

std::optional<Kind> parse_kind(const std::string& s) {
  if (s == "experiment") return Kind::kExperiment;
  if (s == "topology") return Kind::kTopology;
  if (s == "recipe") return Kind::kRecipe;
  return std::nullopt;
}

/// One file: "" when valid, else the loader's message (file:line:col: ...).
std::string validate_one(const fs::path& file, Kind kind) {
  switch (kind) {
    case Kind::kExperiment: {
      auto e = config::load_experiment(file.string());
      if (!e) return e.error().message;
      auto t = runner::check_experiment_inputs(*e);
      if (!t) return t.error().message;
      fmt::print(
          "{}: experiment '{}' OK: {} scanner(s), topology {} ({} node(s)), {} repetition(s)\n",
          file.string(), e->name, e->scanners.size(), e->topology.string(), t->nodes.size(),
          e->repetitions);
      return "";
    }
    case Kind::kTopology: {
      auto t = config::load_topology(file.string());
      if (!t) return t.error().message;
      if (auto st = config::check_image_references(nullptr, *t, default_recipe_dir()); !st)
        return st.error().message;
      fmt::print("{}: topology '{}' OK: {} network(s), {} node(s)\n", file.string(), t->name,
                 t->networks.size(), t->nodes.size());
      return "";
    }
    case Kind::kRecipe: {
      auto r = config::load_recipe(file);
      if (!r) return r.error().message;
      fmt::print("{}: image recipe '{}' OK\n", file.string(), r->name);
      return "";
    }
  }
  return "";
}

struct ValidateArgs {
  std::vector<std::string> files;
  std::string kind;
};

int validate_main(const ValidateArgs& a) {
  std::optional<Kind> forced;
  if (!a.kind.empty()) forced = parse_kind(a.kind);
  int bad = 0;
  for (const auto& f : a.files) {
    // Syntax first, whatever the folder: file:line:col from the parser itself (an empty
    // file is said so here too).
    auto root = config::load_yaml_file(f);
    if (!root) {
      util::log_error("{}", root.error().message);
      ++bad;
      continue;
    }
    Detected d{forced, ""};
    if (!forced) d = detect_kind(f, *root);
    if (!d.kind) {
      util::log_error("{}: cannot tell whether this is an experiment, topology or recipe: {}; "
                      "pass --kind",
                      f, d.why_unsure);
      ++bad;
      continue;
    }
    if (auto msg = validate_one(f, *d.kind); !msg.empty()) {
      util::log_error("{}", msg);
      ++bad;
    }
  }
  return bad ? kExitBadInput : kExitOk;
}

}  // namespace

void add_validate_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<ValidateArgs>();
  auto* sub = app.add_subcommand(
      "validate", "Check experiment, topology and image recipe files without running anything.");
  sub->footer(
      "A YAML syntax error is reported first (file:line:col), whatever the folder. The kind\n"
      "of each file is told by its keys (scanners:/command: experiment; networks:/nodes:\n"
      "topology; base:/packages: recipe), else by its folder (experiments/, topology/,\n"
      "images/); when neither tells, the message names the keys. An experiment is checked\n"
      "together with the topology it names, every image it and the topology name must have\n"
      "a recipe in images/ (the nearest name is suggested), and its command goes through\n"
      "the scope guard that `run` runs first (options read as Nmap reads them; every host\n"
      "they name must be in the lab). `run` refuses the same things before creating\n"
      "anything.\n"
      "Errors give file:line:col and what to do.\n"
      "Exit codes: 0 every file is valid, 2 a file is invalid or missing.\n"
      "Example: testbed validate experiments/nmap7.yaml topology/two-subnet.yaml "
      "images/router.yaml");
  sub->add_option("files", args->files, "YAML files to check")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--kind", args->kind, "Treat every file as this kind")
      ->check(CLI::IsMember({"experiment", "topology", "recipe"}));
  sub->callback([args, &ctx] { ctx.exit_code = validate_main(*args); });
}

}  // namespace testbed::cli
