#pragma once
// Building several images at once (`testbed image build`, and `testbed run` for the images
// its experiment needs): choose each recipe's backend, check the host can build what is not
// cached, then build on a small pool of threads with one shared status line. SIGINT/SIGTERM
// stop every build (nothing half-built is published) and start no further one.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/backend.h"
#include "orchestrator/images/build.h"

namespace testbed::backends {
using images::BuildReport;
using images::default_cache_root;

/// ./images when run from the repository, else the images/ beside the build directory
/// that holds the running binary (build/testbed -> images/).
std::filesystem::path default_recipe_dir();

/// "1.2 GiB" / "350 MiB".
std::string human_size(uint64_t bytes);

struct BuildManyOptions {
  std::vector<std::string> names;  ///< recipes to build; empty with `all`
  bool all = false;                ///< every recipe of the backend in recipe_dir
  bool rebuild = false;
  std::filesystem::path recipe_dir;  ///< "" = default_recipe_dir()
  std::filesystem::path cache_root;  ///< "" = default_cache_root()
  /// nullopt: per recipe (lxc when the recipe has it, else vm); else that backend for every
  /// named recipe (`all`: every recipe that supports it).
  std::optional<config::BackendKind> backend;
  unsigned jobs = 2;
};

/// One image's result, in the order the recipes were named.
struct BuildOutcome {
  std::string name;
  bool ok = false;
  BuildReport report;
  std::string error;
};

struct BuildManyResult {
  enum Status {
    kOk,           ///< every image built or cached
    kBadInput,     ///< unknown recipe, names and --all together, no recipe for the backend
    kEnvironment,  ///< not root, mmdebstrap or qemu-img missing
    kFailed,       ///< a build failed (outcomes say which)
    kInterrupted,  ///< SIGINT/SIGTERM
  } status = kOk;
  std::vector<BuildOutcome> outcomes;
};

/// Builds what `o` names; each problem is logged as it is found (the caller maps the status
/// to its exit code and prints what it wants of the outcomes).
BuildManyResult build_many(const BuildManyOptions& o);

}  // namespace testbed::backends
