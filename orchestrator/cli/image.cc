// `testbed image build|list|rm` — recipes (images/*.yaml) into the image cache.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "orchestrator/cli/commands.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/images/build.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/images/kvm_builder.h"
#include "orchestrator/images/vm_builder.h"
#include "orchestrator/images/lxc_builder.h"
#include "orchestrator/images/source_build.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::cli {
namespace fs = std::filesystem;
namespace {

std::string human_size(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 30))
    return fmt::format("{:.1f} GiB", bytes / double(uint64_t{1} << 30));
  return fmt::format("{:.0f} MiB", bytes / double(uint64_t{1} << 20));
}

// ./images when run from the repository, else the images/ beside the build directory
// that holds this binary (build/testbed -> images/).
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
  bool table = true;  ///< print the per-image table on stdout (not when `run` builds)
};

struct Outcome {
  std::string name;
  bool ok = false;
  images::BuildReport report;
  std::string error;
};

int run_build(const BuildArgs& a) {
  fs::path dir = a.recipes.empty() ? default_recipe_dir() : fs::path(a.recipes);
  fs::path root = a.cache.empty() ? images::default_cache_root() : fs::path(a.cache);
  if (a.all == !a.names.empty()) {
    util::log_error("name the images to build, or pass --all (not both)");
    return kExitBadInput;
  }
  std::vector<config::Recipe> recipes;
  std::vector<std::string> kinds;  // the backend each recipe is built for
  if (a.all) {
    auto all = config::load_recipe_dir(dir);
    if (!all) {
      util::log_error("{}", all.error().message);
      return kExitBadInput;
    }
    std::string kind = a.backend.empty() ? "lxc" : a.backend == "kvm" ? "vm" : a.backend;
    for (auto& r : *all) {
      if (r.supports(kind)) {
        recipes.push_back(std::move(r));
        kinds.push_back(kind);
      } else if (kind == "lxc") {
        util::log_info("skipping {}: vm-only (build it with --backend vm)", r.name);
      }
    }
  } else {
    std::string errors;
    for (const auto& n : a.names) {
      auto r = config::load_recipe_named(dir, n);
      if (!r) {
        errors += (errors.empty() ? "" : "\n") + r.error().message;
        continue;
      }
      std::string kind = !a.backend.empty() ? (a.backend == "kvm" ? "vm" : a.backend)
                         : r->supports("lxc")   ? "lxc"
                                                : "vm";
      if (!r->supports(kind)) {
        errors += (errors.empty() ? "" : "\n") +
                  fmt::format("{}: recipe {} has no {} image (its backends: {})", n,
                              r->path.string(), kind, fmt::join(r->backends, ", "));
        continue;
      }
      recipes.push_back(std::move(*r));
      kinds.push_back(kind);
    }
    if (!errors.empty()) {
      util::log_error("{}", errors);
      return kExitBadInput;
    }
  }
  if (recipes.empty()) {
    util::log_error("no {} recipes in {}", a.backend.empty() ? "lxc" : a.backend, dir.string());
    return kExitBadInput;
  }
  // KVM downloads are kept (and resumed) here, beside the images, across builds.
  const fs::path downloads = root / ".downloads";

  // LXC builds need root and mmdebstrap, KVM builds qemu-img; finding everything cached
  // needs none of them.
  {
    images::LxcBuilder lxc_probe;
    images::VmBuilder vm_probe(downloads);
    std::vector<std::string> lxc_to_build, kvm_to_build;
    for (size_t i = 0; i < recipes.size(); ++i) {
      auto source_probe = images::make_source_builder(recipes[i], kinds[i], root);
      const images::Builder& probe =
          source_probe ? *source_probe
          : kinds[i] == "vm" ? static_cast<const images::Builder&>(vm_probe)
                             : lxc_probe;
      if (a.rebuild || !images::is_cached(recipes[i], probe, root)) {
        // A VM image built here is a Debian root first: it needs what an LXC build does.
        if (kinds[i] == "lxc" || !recipes[i].cloud()) lxc_to_build.push_back(recipes[i].name);
        if (kinds[i] == "vm") kvm_to_build.push_back(recipes[i].name);
      }
    }
    if (!lxc_to_build.empty() && ::geteuid() != 0) {
      util::log_error("building {} needs root (mmdebstrap makes device nodes and chroots)",
                      fmt::format("{}", fmt::join(lxc_to_build, ", ")));
      return kExitEnvironment;
    }
    if (!lxc_to_build.empty() && !util::have_program("mmdebstrap")) {
      util::log_error("mmdebstrap is not installed; run `make setup`");
      return kExitEnvironment;
    }
    if (!kvm_to_build.empty() && !util::have_program("qemu-img")) {
      util::log_error("building {} needs qemu-img (package qemu-utils); run `make setup`",
                      fmt::format("{}", fmt::join(kvm_to_build, ", ")));
      return kExitEnvironment;
    }
  }

  // SIGINT/SIGTERM from here on: running builds stop their mmdebstrap (process group),
  // remove their work dirs and publish nothing; no further build starts.
  util::catch_interrupts();
  // Workers take recipes in order; the shared status line shows what each is doing.
  std::mutex mu;
  std::map<std::string, std::string> status;  // running builds only
  size_t done = 0;
  util::Progress progress(fmt::format("image build ({} image(s), {} at a time)", recipes.size(),
                                      std::min<size_t>(a.jobs, recipes.size())));
  auto redraw = [&] {  // caller holds mu
    std::string s = fmt::format("{}/{} done", done, recipes.size());
    for (const auto& [n, st] : status) s += fmt::format("; {}: {}", n, st);
    progress.update(s);
  };
  std::vector<Outcome> outcomes(recipes.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    images::LxcBuilder lxc_builder;
    images::VmBuilder vm_builder(downloads);
    for (size_t i; !util::interrupted() && (i = next++) < recipes.size();) {
      const auto& r = recipes[i];
      // Recipes with `source:` compile their program first (source_build.h).
      auto source_builder = images::make_source_builder(r, kinds[i], root);
      images::Builder& builder =
          source_builder ? *source_builder
          : kinds[i] == "vm" ? static_cast<images::Builder&>(vm_builder)
                             : lxc_builder;
      {
        std::lock_guard lock(mu);
        status[r.name] = "starting";
        redraw();
      }
      auto res = images::build_image(r, builder, root, a.rebuild, [&](const std::string& st) {
        std::lock_guard lock(mu);
        status[r.name] = st;
        redraw();
      });
      std::lock_guard lock(mu);
      status.erase(r.name);
      ++done;
      Outcome& o = outcomes[i];
      o.name = r.name;
      if (res) {
        o.ok = true;
        o.report = *res;
        util::log_info("{}: {} in {:.1f} s, {} (key {}{})", r.name,
                       res->built ? "built" : "up to date", res->seconds,
                       human_size(res->size_bytes), res->ref.key,
                       res->nmap_version.empty() ? "" : ", nmap " + res->nmap_version);
      } else if (util::interrupted()) {
        o.error = res.error().message;
        util::log_warn("{}: {}", r.name, o.error);
      } else {
        o.error = res.error().message;
        util::log_error("{}: build failed: {}", r.name, o.error);
      }
      if (!util::interrupted()) redraw();
    }
  };
  unsigned n_workers = std::max(1u, std::min<unsigned>(a.jobs, recipes.size()));
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < n_workers; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  if (util::interrupted()) {
    size_t kept = 0;
    for (const auto& o : outcomes) kept += o.ok;
    progress.finish(fmt::format("interrupted ({})", util::interrupt_signal_name()));
    util::log_warn(
        "image build interrupted by {}: builds in progress were stopped and their temporary "
        "files removed; {} holds only complete images ({} finished before the signal). Run "
        "the command again to build the rest",
        util::interrupt_signal_name(), root.string(), kept);
    return kExitInterrupted;
  }
  size_t built = 0, cached = 0, failed = 0;
  for (const auto& o : outcomes) {
    if (!o.ok)
      ++failed;
    else if (o.report.built)
      ++built;
    else
      ++cached;
  }
  progress.finish(fmt::format("{} built, {} up to date, {} failed", built, cached, failed));
  // The table on stdout is for people and scripts alike: one line per image.
  for (const auto& o : outcomes) {
    if (!a.table) break;
    if (o.ok) {
      fmt::print("{:<22} {:<10} {:>7.1f} s {:>9}  {}  {}\n", o.name,
                 o.report.built ? "built" : "cached", o.report.seconds,
                 human_size(o.report.size_bytes), o.report.ref.key, o.report.ref.dir.string());
    } else {
      fmt::print("{:<22} {:<10}\n", o.name, "FAILED");
    }
  }
  return failed ? kExitFailure : kExitOk;
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
               i.key + (i.current ? "" : " (old)"), human_size(i.size_bytes), i.built_at);
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

int build_images(const std::vector<std::string>& names, const std::string& backend) {
  BuildArgs a;
  a.names = names;
  a.backend = backend;
  a.table = false;
  return run_build(a);
}

fs::path default_recipe_dir() {
  std::error_code ec;
  if (fs::is_directory("images", ec)) return fs::absolute("images");
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      if (fs::is_regular_file(p / "images" / "router.yaml", ec)) return p / "images";
    }
  }
  return "images";
}

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
      "(colon-separated), then in /var/lib/testbed/sources (images/README.md).");

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
