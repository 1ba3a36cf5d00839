// `testbed validate FILE...` — checks experiment, topology and image recipe files
// without creating anything (no root, no libvirtd needed).
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/config/experiment.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace fs = std::filesystem;
namespace {

enum class Kind { kExperiment, kTopology, kRecipe };

/// What a file is: by its top-level keys (`scanners:` experiment, `networks:`/`nodes:`
/// topology, `base:`/`packages:` recipe), else by its directory. Empty when unknown.
std::optional<Kind> detect_kind(const fs::path& file) {
  try {
    YAML::Node root = YAML::LoadFile(file.string());
    if (root.IsMap()) {
      if (root["scanners"]) return Kind::kExperiment;
      if (root["networks"] || root["nodes"]) return Kind::kTopology;
      if (root["base"] || root["packages"] || root["backends"]) return Kind::kRecipe;
    }
  } catch (const YAML::Exception&) {
    // A syntax error: the loader chosen by directory reports it with line:col.
  }
  std::string dir = fs::absolute(file).parent_path().filename().string();
  if (dir == "experiments") return Kind::kExperiment;
  if (dir == "topology") return Kind::kTopology;
  if (dir == "images") return Kind::kRecipe;
  return std::nullopt;
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
      auto t = config::load_topology(e->topology.string());
      if (!t) return t.error().message;
      // The scope guard `testbed run` runs before it builds anything (the same call).
      if (auto st = scanners::check_experiment(*e, *t); !st) return st.error().message;
      fmt::print(
          "{}: experiment '{}' OK: {} scanner(s), topology {} ({} node(s)), {} repetition(s)\n",
          file.string(), e->name, e->scanners.size(), e->topology.string(), t->nodes.size(),
          e->repetitions);
      return "";
    }
    case Kind::kTopology: {
      auto t = config::load_topology(file.string());
      if (!t) return t.error().message;
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
    auto kind = forced ? forced : detect_kind(f);
    if (!kind) {
      util::log_error(
          "{}: cannot tell whether this is an experiment, topology or recipe (no `scanners:`, "
          "`networks:`/`nodes:` or `base:` key); pass --kind",
          f);
      ++bad;
      continue;
    }
    if (auto msg = validate_one(f, *kind); !msg.empty()) {
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
      "The kind of each file is told by its keys (scanners: experiment; networks:/nodes:\n"
      "topology; base:/packages: recipe) or its directory. An experiment is checked together\n"
      "with the topology it names, and its command through the scope guard that `run` runs\n"
      "first (options read as Nmap reads them; every host they name must be in the lab).\n"
      "Errors give file:line:col and what to do; exit code 2 when any file is invalid.\n"
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
