#pragma once
// An image recipe (images/NAME.yaml): what goes into a scanner, target or router image,
// what starts at boot, and when the node counts as ready. See images/README.md for the
// schema with an example of every key.
//
// A recipe is data only: the LXC builder (orchestrator/backends/lxc/builder.h) turns it into
// a root file system, a KVM builder into a cloud-init seed. Shell text in `build`,
// `services` and `health` runs *inside the image* (at build time in the chroot, at boot
// in the node); the orchestrator itself never passes recipe text to a host shell.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/config/backend.h"
#include "orchestrator/util/result.h"

namespace testbed::config {

/// The base system: a Debian suite for mmdebstrap (the mirror is mmdebstrap's default,
/// never named in a recipe) and apt options (e.g. a frozen mirror's sid needs
/// `Acquire::Check-Valid-Until "false"`) — the LXC root, and for the VM backend the same
/// root plus a kernel as a disk; or, for vm-only recipes, a downloaded cloud image and its
/// SHA-256.
struct RecipeBase {
  std::string suite;                     ///< lxc: bullseye, bookworm, trixie, sid
  std::vector<std::string> apt_options;  ///< lxc: passed as mmdebstrap --aptopt, recorded
  std::string cloud_image;               ///< kvm: https URL of a .img (qcow2) cloud image
  std::string sha256;                    ///< kvm: lower-case hex SHA-256 of that file
  /// kvm, instead of sha256: https URL of the SHA256SUMS file published beside a dated
  /// cloud image release; the builder takes the image's digest from it.
  std::string sha256sums;
};

/// A file placed in the image at build time. Exactly one of content / source is set.
struct RecipeFile {
  std::string path;              ///< absolute path inside the image
  std::string content;           ///< inline text
  std::filesystem::path source;  ///< resolved host path (inside the recipe dir)
  std::string source_rel;        ///< `source` as written in the recipe
  unsigned mode = 0644;
  /// Rendered at node boot: every `{{VAR}}` naming a variable set by /testbed/node.env
  /// is replaced by its value (node facts: NODE_NAME, addresses, ...).
  bool template_at_boot = false;
};

/// A daemon started at node boot by /testbed/services.sh, in recipe order.
struct RecipeService {
  std::string name;
  std::string start;    ///< shell command run in the node; must return once started
  std::string log;      ///< absolute path of the service's log (stdout+stderr of start)
  std::string running;  ///< optional: exits 0 when already running (start is skipped)
};

/// A readiness check run by /testbed/health.sh.
struct RecipeCheck {
  std::string name;
  std::string command;  ///< shell command; exit 0 = healthy
  unsigned timeout_s = 10;
  std::string service;  ///< optional: whose log tail to print on failure
};

/// One tarball a source build may start from. Exactly one of `file` / `url` is set.
struct SourceTarball {
  /// A file name (no directory) looked up in the sources directories (source_dirs());
  /// for hosts without internet.
  std::string file;
  std::string url;  ///< https:// URL of an official release tarball
  std::string sha256;  ///< lower-case hex SHA-256 the tarball must have, or the build is refused
  /// What `nmap --version` reports when this tarball is the one built; overrides
  /// expect.nmap_version (a trunk snapshot says "7.01SVN" where the release says "7.01").
  std::string nmap_version;
};

/// A file of the build root's Debian packages copied into the image when the source's
/// own `make install` did not install it (e.g. nmap-os-db, absent from git snapshots).
struct SourceMissingFile {
  std::string path;     ///< absolute path, the same in the build root and the image
  std::string package;  ///< the build_packages entry that ships it (recorded with its version)
  /// Optional: where `make install` expects it in the source tree (relative), e.g.
  /// "nmap-os-db": then it is put there before configure when the source lacks it.
  std::string in_source;
};

/// `source:` — the image's program is compiled from upstream source (see images/README.md,
/// "Source builds"): inside a Debian root of the recipe's base suite made by mmdebstrap
/// (buildd variant, build_packages), installed into a staging tree (DESTDIR) that is
/// copied into the runtime image; the recipe's `packages` are the runtime packages.
struct RecipeSource {
  std::vector<SourceTarball> tarballs;  ///< tried in order; see resolve in source_build.h
  /// Patch files (inside the recipe directory), applied with `patch -p1` in order.
  std::vector<std::filesystem::path> patches;
  std::vector<std::string> patches_rel;  ///< as written in the recipe
  std::vector<std::string> configure;     ///< ./configure options (after --prefix=/usr)
  std::vector<std::string> build_packages;
  std::vector<SourceMissingFile> missing_files;
  std::string cflags;  ///< optional CFLAGS/CXXFLAGS additions (e.g. -fcommon for old code)

  bool empty() const { return tarballs.empty(); }
};

/// The directories a source tarball's `file:` is looked up in, in order: each entry of
/// $TESTBED_SOURCES (a colon-separated list), then /var/lib/testbed/sources.
std::vector<std::filesystem::path> source_dirs();

/// The first sources directory holding `file_name`, or an empty path.
std::filesystem::path find_source_file(const std::string& file_name);

/// Facts the build must confirm, or fail.
struct RecipeExpect {
  std::string nmap_version;                     ///< `nmap --version` must report this
  std::map<std::string, std::string> packages;  ///< package -> version prefix
};

struct Recipe {
  std::filesystem::path path;  ///< the recipe file
  std::filesystem::path dir;   ///< its directory (base of `source:` paths)
  std::string text;            ///< the file's bytes (hashed into the cache key)
  std::string name;            ///< equals the file's stem
  std::string description;
  std::string role;                   ///< scanner | target | router | sensor
  std::vector<BackendKind> backends;  ///< lxc and/or vm (`kvm` in a file is read as vm)
  RecipeBase base;
  std::vector<std::string> packages;
  std::vector<RecipeFile> files;
  std::vector<std::string> build;  ///< shell commands run in the image at build time
  std::vector<RecipeService> services;
  std::vector<RecipeCheck> health;
  RecipeExpect expect;
  RecipeSource source;  ///< empty unless the image is built from upstream source

  /// "lxc" or "vm" ("kvm" is taken as "vm").
  bool supports(BackendKind backend) const;
  /// A VM image made from a downloaded cloud image (cloud-init at first boot) rather than
  /// a Debian root built here.
  bool cloud() const { return !base.cloud_image.empty(); }
};

/// Loads and validates a recipe file; every problem as "file:line:col: message" (one per
/// line), unknown keys with the nearest known key suggested. Referenced `source:` files
/// must exist inside the recipe's directory.
util::Result<Recipe> load_recipe(const std::filesystem::path& path);

/// Same, from text (`path` names it in messages and sets dir/name checks).
util::Result<Recipe> parse_recipe(const std::string& text, const std::filesystem::path& path);

/// An image name, [a-z0-9][a-z0-9.-]{0,62}: a recipe's `name:` and file name, the image
/// cache's directory name. The one check of it (recipes, an experiment's `node_images:`,
/// the image cache's lookups and removals).
bool is_image_name(const std::string& s);

/// Finds images/NAME.yaml in `dir` and loads it.
util::Result<Recipe> load_recipe_named(const std::filesystem::path& dir, const std::string& name);

/// Every *.yaml recipe in `dir`, sorted by name. Fails with all problems if any is invalid.
util::Result<std::vector<Recipe>> load_recipe_dir(const std::filesystem::path& dir);

}  // namespace testbed::config
