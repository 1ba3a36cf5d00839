#include "orchestrator/images/cache.h"

#include <cstdlib>
#include <system_error>

#include "orchestrator/config/backend.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/util/files.h"

namespace testbed::images {
namespace fs = std::filesystem;

fs::path default_cache_root() {
  const char* env = std::getenv("TESTBED_IMAGE_DIR");
  if (env && *env) return fs::path(env);
  return "/var/lib/testbed/images";
}

std::string current_link(config::BackendKind backend) {
  return backend == config::BackendKind::kVm ? "current-vm" : "current";
}

util::Result<ImageRef> find_image(const std::string& name, const fs::path& root,
                                  config::BackendKind backend) {
  if (!config::is_image_name(name)) return util::fail("'{}' is not an image name", name);
  const fs::path name_dir = root / name;
  const std::string link = current_link(backend);
  const bool vm = backend == config::BackendKind::kVm;
  std::error_code ec;
  fs::path target = fs::read_symlink(name_dir / link, ec);
  if (ec) {
    std::error_code other;
    if (fs::is_symlink(
            name_dir / current_link(vm ? config::BackendKind::kLxc : config::BackendKind::kVm),
            other))
      return util::fail(
          "image '{}' is built for {} only (run `testbed image build --backend {} {}` if its "
          "recipe has that backend, or name another image for this node: the experiment's "
          "`node_images`, or the topology's `image:`)",
          name, vm ? "lxc" : "vm", vm ? "vm" : "lxc", name);
    return util::fail("image '{}' is not built{} in {} (run `testbed image build {}{}`)", name,
                      vm ? " for the vm backend" : "", root.string(), vm ? "--backend vm " : "",
                      name);
  }
  // `current` is relative (<key>); refuse anything that leaves <root>/<name>.
  std::string key = target.string();
  if (key.empty() || key.find('/') != std::string::npos || key[0] == '.')
    return util::fail(
        "{}/{} points at '{}', not at a key directory; rebuild with "
        "`testbed image build --rebuild {}`",
        name_dir.string(), link, key, name);
  ImageRef ref{name, key, name_dir / key, name_dir / key / "rootfs",
               name_dir / key / "manifest.json"};
  if (!fs::is_regular_file(ref.manifest, ec)) {
    return util::fail(
        "image '{}' in {} is incomplete (no manifest.json); run "
        "`testbed image build --rebuild {}`",
        name, ref.dir.string(), name);
  }
  return ref;
}

util::Result<nlohmann::json> read_manifest(const ImageRef& ref) {
  auto text = util::read_file(ref.manifest);
  if (!text) return text.error();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return util::fail(
        "{}: not a JSON object (a damaged image; rebuild it with `testbed image "
        "build --rebuild {}`)",
        ref.manifest.string(), ref.name);
  return j;
}

}  // namespace testbed::images
