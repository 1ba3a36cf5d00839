#include "orchestrator/backends/build_many.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "orchestrator/config/recipe.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/backends/lxc/builder.h"
#include "orchestrator/backends/source_build.h"
#include "orchestrator/backends/vm/builder.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::backends {
using namespace testbed::images;  // the image cache and the Builder interface
using namespace testbed::backends::lxc;
using namespace testbed::backends::vm;
using backends::lxc::LxcBuilder;
using backends::vm::VmBuilder;
using images::Builder;
using images::default_cache_root;
using images::build_image;
namespace fs = std::filesystem;

std::string human_size(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 30))
    return fmt::format("{:.1f} GiB", bytes / double(uint64_t{1} << 30));
  return fmt::format("{:.0f} MiB", bytes / double(uint64_t{1} << 20));
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

BuildManyResult build_many(const BuildManyOptions& a) {
  BuildManyResult out;
  auto finish_with = [&](BuildManyResult::Status s) {
    out.status = s;
    return out;
  };
  fs::path dir = a.recipe_dir.empty() ? default_recipe_dir() : a.recipe_dir;
  fs::path root = a.cache_root.empty() ? default_cache_root() : a.cache_root;
  if (a.all == !a.names.empty()) {
    util::log_error("name the images to build, or pass --all (not both)");
    return finish_with(BuildManyResult::kBadInput);
  }
  std::vector<config::Recipe> recipes;
  std::vector<config::BackendKind> kinds;  // the backend each recipe is built for
  using config::BackendKind;
  if (a.all) {
    auto all = config::load_recipe_dir(dir);
    if (!all) {
      util::log_error("{}", all.error().message);
      return finish_with(BuildManyResult::kBadInput);
    }
    BackendKind kind = a.backend.value_or(BackendKind::kLxc);
    for (auto& r : *all) {
      if (r.supports(kind)) {
        recipes.push_back(std::move(r));
        kinds.push_back(kind);
      } else if (kind == BackendKind::kLxc) {
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
      BackendKind kind = a.backend                        ? *a.backend
                         : r->supports(BackendKind::kLxc) ? BackendKind::kLxc
                                                          : BackendKind::kVm;
      if (!r->supports(kind)) {
        errors += (errors.empty() ? "" : "\n") +
                  fmt::format("{}: recipe {} has no {} image (its backends: {})", n,
                              r->path.string(), config::backend_name(kind),
                              config::backend_names(r->backends));
        continue;
      }
      recipes.push_back(std::move(*r));
      kinds.push_back(kind);
    }
    if (!errors.empty()) {
      util::log_error("{}", errors);
      return finish_with(BuildManyResult::kBadInput);
    }
  }
  if (recipes.empty()) {
    util::log_error("no {} recipes in {}", config::backend_name(a.backend.value_or(BackendKind::kLxc)),
                    dir.string());
    return finish_with(BuildManyResult::kBadInput);
  }
  // KVM downloads are kept (and resumed) here, beside the images, across builds.
  const fs::path downloads = root / ".downloads";

  // LXC builds need root and mmdebstrap, KVM builds qemu-img; finding everything cached
  // needs none of them.
  {
    LxcBuilder lxc_probe;
    VmBuilder vm_probe(downloads);
    std::vector<std::string> lxc_to_build, kvm_to_build;
    for (size_t i = 0; i < recipes.size(); ++i) {
      auto source_probe = make_source_builder(recipes[i], kinds[i], root);
      const Builder& probe = source_probe                  ? *source_probe
                             : kinds[i] == BackendKind::kVm ? static_cast<const Builder&>(vm_probe)
                                                            : lxc_probe;
      if (a.rebuild || !is_cached(recipes[i], probe, root)) {
        // A VM image built here is a Debian root first: it needs what an LXC build does.
        if (kinds[i] == BackendKind::kLxc || !recipes[i].cloud())
          lxc_to_build.push_back(recipes[i].name);
        if (kinds[i] == BackendKind::kVm) kvm_to_build.push_back(recipes[i].name);
      }
    }
    if (!lxc_to_build.empty() && ::geteuid() != 0) {
      util::log_error("building {} needs root (mmdebstrap makes device nodes and chroots)",
                      fmt::format("{}", fmt::join(lxc_to_build, ", ")));
      return finish_with(BuildManyResult::kEnvironment);
    }
    if (!lxc_to_build.empty() && !util::have_program("mmdebstrap")) {
      util::log_error("mmdebstrap is not installed; run `make setup`");
      return finish_with(BuildManyResult::kEnvironment);
    }
    if (!kvm_to_build.empty() && !util::have_program("qemu-img")) {
      util::log_error("building {} needs qemu-img (package qemu-utils); run `make setup`",
                      fmt::format("{}", fmt::join(kvm_to_build, ", ")));
      return finish_with(BuildManyResult::kEnvironment);
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
  std::vector<BuildOutcome>& outcomes = out.outcomes;
  outcomes.resize(recipes.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    LxcBuilder lxc_builder;
    VmBuilder vm_builder(downloads);
    for (size_t i; !util::interrupted() && (i = next++) < recipes.size();) {
      const auto& r = recipes[i];
      // Recipes with `source:` compile their program first (source_build.h).
      auto source_builder = make_source_builder(r, kinds[i], root);
      Builder& builder = source_builder                  ? *source_builder
                         : kinds[i] == BackendKind::kVm ? static_cast<Builder&>(vm_builder)
                                                        : lxc_builder;
      {
        std::lock_guard lock(mu);
        status[r.name] = "starting";
        redraw();
      }
      auto res = build_image(r, builder, root, a.rebuild, [&](const std::string& st) {
        std::lock_guard lock(mu);
        status[r.name] = st;
        redraw();
      });
      std::lock_guard lock(mu);
      status.erase(r.name);
      ++done;
      BuildOutcome& o = outcomes[i];
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
  unsigned n_workers =
      std::max(1u, std::min<unsigned>(a.jobs, static_cast<unsigned>(recipes.size())));
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
    return finish_with(BuildManyResult::kInterrupted);
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
  return finish_with(failed ? BuildManyResult::kFailed : BuildManyResult::kOk);
}

}  // namespace testbed::backends
