#pragma once
// Source builds: an image whose program is compiled from an upstream tarball (a recipe
// with `source:`, config/recipe.h; schema and provenance in images/README.md).
//
//   1. resolve the tarball: the first `file` entry found in a sources directory
//      (config::source_dirs()), else the first `url` entry, downloaded into
//      <cache>/.downloads/; its SHA-256 must equal the recipe's or nothing is built;
//   2. mmdebstrap --variant=buildd SUITE with the recipe's build_packages; a customize
//      hook runs source_build_script() in the new root (chroot, no network): extract,
//      patch, configure --prefix=/usr, make, make install DESTDIR, copy missing files
//      from the build root's packages, record compiler and package versions;
//   3. the staged DESTDIR tree goes into the runtime image of the backend the builder is
//      for, made from the same suite with the recipe's `packages` (build_debian_root, one
//      more sync-in hook): on lxc that root is the image; on vm it gets the VM additions
//      and finishing steps every Debian VM image gets (vm::build_vm_debian_image: the
//      suite's kernel, /testbed/vm-init, ext4 disk as base.qcow2).
// Logs: every step's output is kept in the image (<key>/logs/); a failed build keeps
// them in <cache>/.logs/<name>-<UTC time>/ and its error names the step and quotes the
// last lines of its output.
#include <filesystem>
#include <memory>
#include <string>

#include "orchestrator/backends/lxc/builder.h"
#include "orchestrator/config/backend.h"
#include "orchestrator/images/builder.h"

namespace testbed::backends {
using images::Builder;
using images::BuildOutput;
using images::ProgressFn;

/// The tarball a build will use on this host.
struct ResolvedTarball {
  config::SourceTarball entry;
  std::filesystem::path path;  ///< local file (a sources directory's, or the download)
  bool downloaded = false;     ///< true when `path` is (to be) the download of entry.url
};

/// Picks the tarball for `recipe` without touching the network: the first `file` entry
/// present in a sources directory, else the first `url` entry (path = where its download
/// goes under `downloads`). Fails, naming the directories searched, when there is none.
util::Result<ResolvedTarball> resolve_tarball(const config::Recipe& recipe,
                                              const std::filesystem::path& downloads);

/// Makes `t` available (downloads a url entry, verified) and checks its SHA-256 against
/// the recipe's. A mismatch fails with both digests and the file: the build is refused.
util::Status fetch_and_verify(const ResolvedTarball& t);

/// The shell script run inside the build root as `sh build.sh W` (W = /build there).
/// Inputs in W/in: source.tar (any compression tar detects), patches/NNNN-*.patch,
/// configure.txt (one option per line), cflags.txt, missing.txt ("path package" lines).
/// Outputs in W/out: destdir/ (make install), log/<step>.log and log/build.log,
/// facts/{compiler,packages,missing_files}, and status: "ok", or "failed STEP CODE". It
/// always exits 0 so that its logs survive a failed step; the caller reads `status`.
/// Missing files are taken from ${TESTBED_PKG_ROOT:-} + path (the build root itself).
const std::string& source_build_script();

/// Writes W/in for `recipe` (tarball copied as source.tar, patches, option files, the
/// script as W/build.sh).
util::Status stage_source_inputs(const config::Recipe& recipe, const std::filesystem::path& tarball,
                                 const std::filesystem::path& w);

/// What the script reported, read from W/out.
struct SourceStepsResult {
  bool ok = false;
  std::string failed_step;       ///< e.g. "configure"
  int exit_code = 0;             ///< of the failed step
  std::string tail;              ///< last lines of the failed step's log
  std::string compiler;          ///< first line of `gcc --version` in the build root
  std::map<std::string, std::string> packages;  ///< build root package -> version
  nlohmann::json missing_files = nlohmann::json::array();  ///< [{path, package, version, sha256, origin}]
};
util::Result<SourceStepsResult> read_source_steps(const std::filesystem::path& w);

/// Builds source recipes for `backend` (steps above): the same compile for lxc and vm,
/// the runtime root finished as that backend's plain builder finishes a Debian root.
/// `cache_root` holds the downloads (.downloads/) and failed builds' logs (.logs/).
class SourceBuilder : public Builder {
 public:
  explicit SourceBuilder(std::filesystem::path cache_root,
                         config::BackendKind backend = config::BackendKind::kLxc)
      : cache_root_(std::move(cache_root)), backend_(backend) {}
  config::BackendKind backend() const override { return backend_; }
  /// "lxc-source-builder/1+lxc-builder/1" or "vm-source-builder/1+vm-builder/1".
  std::string version() const override;
  /// The backend's plain builder's material (LxcBuilder's; VmBuilder's: the same plus
  /// vm::vm_root_key_material()) plus the tarball that will be used (file or url, its
  /// sha256) and the bytes of every patch: a changed patch or source rebuilds. A `file`
  /// entry this host no longer has still keys the image when the cache holds the image
  /// built from it (a build needs the tarball; using the built image does not).
  std::string key_material(const config::Recipe& recipe) const override;
  util::Result<BuildOutput> build(const config::Recipe& recipe,
                                  const std::filesystem::path& work_dir,
                                  const ProgressFn& progress) override;

 private:
  std::filesystem::path cache_root_;
  config::BackendKind backend_;
  /// While set, key_material keys with this `file` entry (to ask whether its image is cached).
  mutable const config::SourceTarball* key_entry_ = nullptr;
  /// The tarball line of the key: "file NAME SHA256", "url URL SHA256" or "none".
  std::string tarball_key(const config::Recipe& recipe) const;
};

/// The builder for `recipe` on `backend`: a SourceBuilder for `backend` when the recipe
/// has `source:`, else nullptr (the caller's plain builder applies).
std::unique_ptr<Builder> make_source_builder(const config::Recipe& recipe,
                                             config::BackendKind backend,
                                             const std::filesystem::path& cache_root);

}  // namespace testbed::backends
