#pragma once
// The seam between the image cache (build.h: keys, temp dirs, manifests, atomic
// publication) and the thing that actually makes an image. One implementation per
// backend: LxcBuilder (lxc_builder.h) makes a root file system with mmdebstrap; a KVM
// builder (cloud image download + seed ISO) plugs in here too. Tests use a fake.
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "orchestrator/config/recipe.h"
#include "orchestrator/util/result.h"

namespace testbed::images {

/// Called with short status lines while a build runs ("installing packages").
using ProgressFn = std::function<void(const std::string& status)>;

/// What a builder learned while building; the cache turns it into manifest.json.
struct BuildOutput {
  std::map<std::string, std::string> packages;  ///< every installed package -> version
  std::string nmap_version;                     ///< "7.80" (empty when nmap is absent)
  std::string nmap_version_output;              ///< full `nmap --version` text
  std::string tool;                             ///< e.g. "mmdebstrap 1.3.5"
  /// Where a copy of the manifest must be placed inside the image (relative to the work
  /// dir), e.g. "rootfs/testbed/image.json"; empty for none.
  std::string manifest_copy;
  /// The image gets its packages at the node's first boot (KVM: cloud-init), so
  /// `packages` and `nmap_version` are unknown here and the recipe's `expect` cannot be
  /// checked at build time: check_expectations (build.h) is then the runner's job, on
  /// the booted node's `dpkg-query` and `nmap --version`. The manifest says so.
  bool facts_at_first_boot = false;
  /// Source builds (source_build.h): where the program came from (tarball, patches,
  /// compiler, suite, files taken from packages); the manifest's "source" object.
  nlohmann::json source;
  /// When non-empty, replaces the recipe's expect.nmap_version (the tarball built says
  /// which version it is, e.g. a trunk snapshot's "7.01SVN").
  std::string expected_nmap_version;
  /// VM images: how a node boots ("kernel": the image's own kernel and initrd with
  /// testbed's init, vm_builder.h; "cloud-init": a cloud image's own boot) and, for
  /// "kernel", the kernel release. Recorded in the manifest's `vm` section.
  std::string vm_boot;
  std::string vm_kernel;
};

class Builder {
 public:
  virtual ~Builder() = default;
  /// "lxc" or "kvm": which recipes this builder can make.
  virtual config::BackendKind backend() const = 0;
  /// Changes whenever the builder makes different images from the same recipe; part of
  /// the cache key, so bumping it rebuilds everything.
  virtual std::string version() const = 0;
  /// Extra bytes hashed into `recipe`'s cache key: whatever this builder derives from
  /// the recipe (generated scripts, implied packages), so changing how it derives them
  /// rebuilds exactly the images concerned.
  virtual std::string key_material(const config::Recipe& recipe) const {
    (void)recipe;
    return {};
  }
  /// Makes the image of `recipe` inside `work_dir` (an empty directory the caller owns
  /// and removes on failure; LXC puts the root file system in work_dir/rootfs).
  virtual util::Result<BuildOutput> build(const config::Recipe& recipe,
                                          const std::filesystem::path& work_dir,
                                          const ProgressFn& progress) = 0;
};

}  // namespace testbed::images
