#include "orchestrator/images/kvm_builder.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "orchestrator/images/kvm_cloud_init.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::images {

namespace fs = std::filesystem;

namespace {

util::Result<nlohmann::json> image_info(const fs::path& image) {
  auto r = util::run_checked({"qemu-img", "info", "--output=json", image.string()});
  if (!r) return r.error();
  auto j = nlohmann::json::parse(r->out, nullptr, false);
  if (j.is_discarded()) return util::fail("qemu-img info printed no JSON for {}", image.string());
  return j;
}

}  // namespace

util::Status make_overlay(const fs::path& base, const fs::path& overlay, const std::string& size) {
  std::error_code ec;
  if (!fs::exists(base, ec))
    return util::fail(
        "cannot create the overlay {}: base image {} does not exist (build the "
        "image first: testbed image build)",
        overlay.string(), base.string());
  fs::create_directories(overlay.parent_path(), ec);
  fs::remove(overlay, ec);
  // An absolute backing path: the overlay lives in the lab's state dir, the base in the cache.
  std::vector<std::string> argv = {
      "qemu-img", "create",        "-q", "-f", "qcow2", "-b", fs::absolute(base).string(), "-F",
      "qcow2",    overlay.string()};
  if (!size.empty()) argv.push_back(size);
  auto r = util::run_checked(argv);
  if (!r)
    return util::fail("cannot create the qcow2 overlay {}: {}", overlay.string(),
                      r.error().message);
  return {};
}

util::Result<std::string> backing_file(const fs::path& image) {
  auto j = image_info(image);
  if (!j) return j.error();
  return j->value("backing-filename", std::string());
}

std::string KvmBuilder::key_material(const config::Recipe& recipe) const {
  auto cc = recipe_cloud_config(recipe);
  return cc ? emit_yaml(*cc) : cc.error().message;
}

util::Result<BuildOutput> KvmBuilder::build(const config::Recipe& recipe, const fs::path& work_dir,
                                            const ProgressFn& progress) {
  if (recipe.base.cloud_image.empty())
    return util::fail(
        "recipe {} has no base.cloud_image: a KVM image needs an Ubuntu cloud "
        "image URL and its sha256",
        recipe.name);
  auto cc = recipe_cloud_config(recipe);
  if (!cc) return cc.error();
  std::string digest = recipe.base.sha256;
  std::string file = url_file_name(recipe.base.cloud_image);
  if (digest.empty()) {
    if (recipe.base.sha256sums.empty())
      return util::fail("recipe {}: base needs sha256 or sha256sums to verify {}", recipe.name,
                        recipe.base.cloud_image);
    if (progress) progress("fetching " + recipe.base.sha256sums);
    auto sums = download_text(recipe.base.sha256sums);
    if (!sums) return sums.error();
    auto d = digest_from_sha256sums(*sums, file);
    if (!d) return d.error();
    digest = *d;
  }
  // Keyed by digest: two recipes on one release share the download.
  fs::path cached = downloads_ / (digest.substr(0, 16) + "-" + file);
  if (progress) progress("downloading " + recipe.base.cloud_image);
  if (auto s = download_verified(recipe.base.cloud_image, cached, digest, opts_); !s)
    return s.error();
  auto info = image_info(cached);
  if (!info) return info.error();
  if (info->value("format", "") != "qcow2")
    return util::fail("{} is {}, not qcow2: the KVM builder expects an Ubuntu cloud image (.img)",
                      cached.string(), info->value("format", "?"));
  fs::path base = work_dir / kKvmBaseDisk;
  std::error_code ec;
  fs::copy_file(cached, base, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return util::fail("cannot copy {} to {}: {}", cached.string(), base.string(), ec.message());
  fs::permissions(base, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read, ec);
  if (auto s = util::write_file_atomic(work_dir / kKvmRecipeCloudConfig, emit_yaml(*cc)); !s)
    return s.error();
  BuildOutput out;
  out.tool = fmt::format("qemu-img + libcurl; base {} sha256 {}", file, digest);
  // nmap_version stays empty: nmap is installed at first boot, the runner records it then.
  return out;
}

}  // namespace testbed::images
