#pragma once
// Building into the image cache (layout in cache.h): cache keys, temporary build
// directories, expectation checks, manifest.json, atomic publication, listing, removal.
//
// Publication is all-or-nothing: a build happens in <root>/.tmp/<name>.XXXXXX, the
// manifest is written last, then the directory is renamed to <root>/<name>/<key> and
// <root>/<name>/current is flipped by renaming a new symlink over it. A failed or
// interrupted build leaves nothing under <root>/<name>/: it removes its .tmp dir itself
// (SIGINT/SIGTERM stop the builder first, util/interrupt.h), and the .tmp dir of a build
// killed outright is swept by the next build of that name. Builds of one name are serialised by flock on
// <root>/<name>/.lock, so parallel `testbed image build` processes are safe.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/config/recipe.h"
#include "orchestrator/images/builder.h"
#include "orchestrator/images/cache.h"

namespace testbed::images {

/// The cache key of `recipe` built by `builder`: the first 16 hex digits of SHA-256 over
/// the recipe's bytes, the builder's version and key material, and the bytes of every
/// `source:` file the recipe references. Unchanged inputs give the same key.
util::Result<std::string> cache_key(const config::Recipe& recipe, const Builder& builder);

/// True when the cache at `root` already holds a complete build of `recipe`'s key
/// (build_image would do nothing but point `current` at it).
bool is_cached(const config::Recipe& recipe, const Builder& builder,
               const std::filesystem::path& root);

/// What build_image did.
struct BuildReport {
  ImageRef ref;
  bool built = false;        ///< false: the cache already held this key (nothing done)
  double seconds = 0;        ///< wall time of this call
  uint64_t size_bytes = 0;   ///< disk usage of the image directory
  std::string nmap_version;  ///< from the manifest ("" when the image has no nmap)
};

/// Builds `recipe` into the cache at `root` unless its key is already there (or
/// `rebuild`), then points <name>/current at it. Fails, leaving the cache as it was,
/// when the builder fails, an `expect` fact differs, or the image is in use by a
/// mounted lab and `rebuild` would replace it.
util::Result<BuildReport> build_image(const config::Recipe& recipe, Builder& builder,
                                      const std::filesystem::path& root, bool rebuild,
                                      const ProgressFn& progress = {});

/// Checks the built facts against recipe.expect; the error names each difference.
util::Status check_expectations(const config::Recipe& recipe, const BuildOutput& out);

/// The manifest of a finished build (see images/README.md for its fields).
nlohmann::json make_manifest(const config::Recipe& recipe, const Builder& builder,
                             const std::string& key, const BuildOutput& out, double build_seconds,
                             uint64_t size_bytes);

/// One built image (any key, current or not) as `testbed image list` shows it.
struct ImageInfo {
  std::string name;
  std::string key;
  std::string backend;
  std::string role;
  std::string nmap_version;
  std::string built_at;
  uint64_t size_bytes = 0;
  bool current = false;
  std::filesystem::path dir;
};

/// Every complete image in the cache (directories with a manifest), sorted by name,
/// then current first, then newest. A missing root is an empty list.
util::Result<std::vector<ImageInfo>> list_images(const std::filesystem::path& root);

/// Removes every build of `name`. Refuses while a mount (a lab node's overlay) uses it.
util::Status remove_image(const std::string& name, const std::filesystem::path& root);

/// Removes every build of `name` except the one `current` points at; returns how many
/// were removed. Builds in use by a mount are kept (and reported in the error).
util::Result<int> remove_old_keys(const std::string& name, const std::filesystem::path& root);

/// Disk usage of a tree in bytes (allocated blocks; hard links counted once; does not
/// follow symlinks or cross into other mounts' contents).
uint64_t tree_size(const std::filesystem::path& dir);

/// Mount points at or below `dir`, and mounts whose options name a path below it
/// (overlay lowerdir=...): the image is in use when this is non-empty.
std::vector<std::string> mounts_using(const std::filesystem::path& dir);

/// Parses the upstream version from `nmap --version` output ("Nmap version 7.80 ( ...").
/// Empty when the text does not contain one.
std::string parse_nmap_version(const std::string& version_output);

/// Parses `dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Version}\n'` output,
/// keeping installed packages only.
std::map<std::string, std::string> parse_dpkg_query(const std::string& text);

}  // namespace testbed::images
