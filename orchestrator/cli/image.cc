// `testbed image build|list|rm` — recipes (images/*.yaml) into the image cache.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "orchestrator/cli/commands.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/images/build.h"
#include "orchestrator/backends/build_many.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::cli {
namespace fs = std::filesystem;
namespace {

struct BuildArgs {
  std::vector<std::string> names;
  bool all = false;
  bool rebuild = false;
  std::string recipes;
  std::string cache;
  /// "": per recipe (lxc when the recipe has it, else vm); "lxc" or "vm": that
  /// backend's builder for every named recipe (--all: every recipe that supports it).
  std::string backend;
  unsigned jobs = 2;
};

int run_build(const BuildArgs& a) {
  backends::BuildManyOptions o;
  o.names = a.names;
  o.all = a.all;
  o.rebuild = a.rebuild;
  o.recipe_dir = a.recipes;
  o.cache_root = a.cache;
  o.jobs = a.jobs;
  if (!a.backend.empty()) o.backend = config::parse_backend_kind(a.backend);
  backends::BuildManyResult r = backends::build_many(o);
  switch (r.status) {
    case backends::BuildManyResult::kBadInput: return kExitBadInput;
    case backends::BuildManyResult::kEnvironment: return kExitEnvironment;
    case backends::BuildManyResult::kInterrupted: return kExitInterrupted;
    case backends::BuildManyResult::kOk:
    case backends::BuildManyResult::kFailed: break;
  }
  // The table on stdout is for people and scripts alike: one line per image.
  for (const auto& out : r.outcomes) {
    if (out.ok) {
      fmt::print("{:<22} {:<10} {:>7.1f} s {:>9}  {}  {}\n", out.name,
                 out.report.built ? "built" : "cached", out.report.seconds,
                 backends::human_size(out.report.size_bytes), out.report.ref.key,
                 out.report.ref.dir.string());
    } else {
      fmt::print("{:<22} {:<10}\n", out.name, "FAILED");
    }
  }
  return r.status == backends::BuildManyResult::kFailed ? kExitFailure : kExitOk;
}

int run_list(const std::string& cache, bool json, bool all_keys) {
  fs::path root = cache.empty() ? images::default_cache_root() : fs::path(cache);
  auto list = images::list_images(root);
  if (!list) {
    util::log_error("{}", list.error().message);
    return kExitFailure;
  }
  std::vector<images::ImageInfo> shown;
  for (const auto& i : *list) {
    if (i.current || all_keys) shown.push_back(i);
  }
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& i : shown) {
      arr.push_back({{"name", i.name},
                     {"backend", i.backend},
                     {"role", i.role},
                     {"nmap_version", i.nmap_version},
                     {"key", i.key},
                     {"current", i.current},
                     {"size_bytes", i.size_bytes},
                     {"built_at", i.built_at},
                     {"dir", i.dir.string()}});
    }
    fmt::print("{}\n", arr.dump(2));
    return kExitOk;
  }
  if (shown.empty()) {
    fmt::print("no images in {} (build them with `testbed image build --all`)\n", root.string());
    return kExitOk;
  }
  fmt::print("{:<22} {:<7} {:<8} {:<7} {:<17} {:>9}  {}\n", "NAME", "BACKEND", "ROLE", "NMAP",
             "KEY", "SIZE", "BUILT AT");
  for (const auto& i : shown) {
    fmt::print("{:<22} {:<7} {:<8} {:<7} {:<17} {:>9}  {}\n", i.name, i.backend,
               i.role.empty() ? "-" : i.role, i.nmap_version.empty() ? "-" : i.nmap_version,
               i.key + (i.current ? "" : " (old)"), backends::human_size(i.size_bytes), i.built_at);
  }
  return kExitOk;
}

int run_rm(std::vector<std::string> names, const std::string& cache, bool old_keys) {
  fs::path root = cache.empty() ? images::default_cache_root() : fs::path(cache);
  int rc = kExitOk;
  if (old_keys && names.empty()) {  // every image in the cache
    auto list = images::list_images(root);
    if (!list) {
      util::log_error("{}", list.error().message);
      return kExitFailure;
    }
    for (const auto& i : *list) {
      if (i.current) names.push_back(i.name);
    }
  }
  if (names.empty()) {
    util::log_error("name the images to remove (or pass --old-keys to prune every image)");
    return kExitBadInput;
  }
  // Every name must be an image of the cache before anything is removed: a typo among
  // several names is bad input (exit 2), not a half-done removal.
  for (const auto& n : names) {
    std::error_code ec;
    if (n.empty() || n[0] == '.' || n.find('/') != std::string::npos ||
        !fs::is_directory(root / n, ec)) {
      util::log_error("no image '{}' in {}; nothing removed (see `testbed image list`)", n,
                      root.string());
      return kExitBadInput;
    }
  }
  for (const auto& n : names) {
    if (old_keys) {
      auto r = images::remove_old_keys(n, root);
      if (!r) {
        util::log_error("{}", r.error().message);
        rc = kExitFailure;
      } else {
        util::log_info("{}: removed {} old build(s), kept the current one", n, *r);
      }
      continue;
    }
    if (auto s = images::remove_image(n, root); !s) {
      util::log_error("{}", s.error().message);
      rc = kExitFailure;
    } else {
      util::log_info("removed every build of {}", n);
    }
  }
  return rc;
}

}  // namespace

void add_image_command(CLI::App& app, CliContext& ctx) {
  auto* img = app.add_subcommand(
      "image", "Build, list and remove lab images (recipes in images/*.yaml, cached by hash)");
  img->require_subcommand(1);
  img->footer(
      "Images live in $TESTBED_IMAGE_DIR (default /var/lib/testbed/images) as\n"
      "<name>/<key>/{rootfs,manifest.json} (VM: base.qcow2, vmlinuz, initrd.img) with\n"
      "<name>/current (LXC) and <name>/current-vm (VM) pointing at the newest build.\n"
      "The key hashes the recipe, the files it references and the builder version: an\n"
      "unchanged recipe is never rebuilt, a changed one always is.\n"
      "Recipes with `source:` compile their program from an upstream tarball first; a\n"
      "tarball named by `file:` is looked up in each directory of $TESTBED_SOURCES\n"
      "(colon-separated), then in /var/lib/testbed/sources (images/README.md).\n"
      "Exit codes: 0 done, 1 a build or removal failed, 2 bad input (unknown image, bad\n"
      "recipe), 4 host not ready (a build tool missing, not root), 130 interrupted.\n"
      "Examples: testbed image build scanner-nmap-7.95\n"
      "          testbed image list\n"
      "          testbed image rm scanner-nmap-7.95 --old-keys");

  static BuildArgs b;  // CLI11 binds options to storage that outlives parsing
  auto* build = img->add_subcommand("build",
                                    "Build images from their recipes (LXC: a root by mmdebstrap; VM: the "
                                    "same root + kernel as a qcow2 disk, or a downloaded cloud image)");
  build->add_option("names", b.names, "Image names (recipe file names without .yaml)");
  build->add_flag("--all", b.all,
                  "Build every recipe of the backend (LXC unless --backend vm) in the recipe "
                  "directory");
  build
      ->add_option("--backend", b.backend,
                   "Build for this backend (default: lxc when the recipe has it, else vm). vm: "
                   "a bootable disk with the suite's kernel built here from the same Debian "
                   "root, or the recipe's downloaded cloud image; kvm is an older name for vm")
      ->check(CLI::IsMember({"lxc", "vm", "kvm"}));
  build->add_flag("--rebuild", b.rebuild,
                  "Build even when the cache already holds this recipe's key");
  build->add_option("--recipes", b.recipes,
                    "Recipe directory (default: ./images, else the repository's images/)");
  build->add_option("--cache", b.cache,
                    "Image cache root (default: $TESTBED_IMAGE_DIR or /var/lib/testbed/images)");
  build->add_option("-j,--jobs", b.jobs, "Images built in parallel (default 2)")
      ->check(CLI::Range(1u, 16u));
  build->callback([&ctx] { ctx.exit_code = run_build(b); });

  static bool list_json = false, list_all = false;
  static std::string list_cache;
  auto* list = img->add_subcommand(
      "list", "List built images (name, backend, nmap version, key, size, built at)");
  list->add_flag("--json", list_json, "Machine-readable output (a JSON array)");
  list->add_flag("--all-keys", list_all, "Also show older builds kept under other keys");
  list->add_option("--cache", list_cache,
                   "Image cache root (default: $TESTBED_IMAGE_DIR or /var/lib/testbed/images)");
  list->callback([&ctx] { ctx.exit_code = run_list(list_cache, list_json, list_all); });

  static std::vector<std::string> rm_names;
  static std::string rm_cache;
  static bool rm_old = false;
  auto* rm = img->add_subcommand("rm", "Remove every build of the named images from the cache");
  rm->add_option("names", rm_names, "Image names");
  rm->add_flag("--old-keys", rm_old,
               "Remove only builds that are not current (of the named images, or of all)");
  rm->add_option("--cache", rm_cache,
                 "Image cache root (default: $TESTBED_IMAGE_DIR or /var/lib/testbed/images)");
  rm->callback([&ctx] { ctx.exit_code = run_rm(rm_names, rm_cache, rm_old); });
}

}  // namespace testbed::cli
