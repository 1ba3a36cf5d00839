#include "orchestrator/backends/vm/cloud_builder.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "orchestrator/backends/vm/cloud_init.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::backends::vm {
using namespace testbed::images;  // the image cache and the Builder interface
using images::BuildOutput;
using images::ProgressFn;
using images::download_verified;

namespace {

// flock(2) on a lock file next to a download, held for the object's lifetime. When the
// file cannot be opened the download goes ahead unlocked (download_verified still
// verifies what it moves into place).
class DownloadLock {
 public:
  explicit DownloadLock(const std::string& path)
      : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600)) {
    if (fd_ >= 0)
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
  }
  ~DownloadLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  DownloadLock(const DownloadLock&) = delete;
  DownloadLock& operator=(const DownloadLock&) = delete;

 private:
  int fd_;
};

}  // namespace

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

std::string CloudImageBuilder::key_material(const config::Recipe& recipe) const {
  auto cc = recipe_cloud_config(recipe);
  return cc ? emit_yaml(*cc) : cc.error().message;
}

util::Result<BuildOutput> CloudImageBuilder::build(const config::Recipe& recipe, const fs::path& work_dir,
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
    if (!sums)
      return util::fail(
          "{}: cannot fetch {} to verify the cloud image: {}\nThis host cannot reach the "
          "cloud image server. Either build on a host that can (then copy the cache entry "
          "{}/ into this host's image cache), or put `sha256: <digest>` in the recipe "
          "instead of sha256sums and place the image file in {} as "
          "<first 16 hex digits of the digest>-{}",
          recipe.name, recipe.base.sha256sums, sums.error().message, recipe.name,
          downloads_.string(), file);
    auto d = digest_from_sha256sums(*sums, file);
    if (!d) return d.error();
    digest = *d;
  }
  // Keyed by digest: two recipes on one release share the download.
  fs::path cached = downloads_ / (digest.substr(0, 16) + "-" + file);
  // Recipes on one release share `cached` and its .part: one download at a time (threads
  // of `image build -j` and other testbed processes alike); the others then find it done.
  std::error_code mk;
  fs::create_directories(downloads_, mk);
  DownloadLock lock(cached.string() + ".lock");
  if (progress) progress("downloading " + recipe.base.cloud_image);
  if (auto s = download_verified(recipe.base.cloud_image, cached, digest, opts_); !s)
    return util::fail(
        "{}: cannot download the cloud image: {}\nThis host cannot reach the cloud image "
        "server (KVM images need HTTPS access to it). Either build on a host that can "
        "(then copy the cache entry {}/ into this host's image cache), or download {} "
        "elsewhere and place it here as {} (it is verified against sha256 {}), then build "
        "again",
        recipe.name, s.error().message, recipe.name, recipe.base.cloud_image, cached.string(),
        digest);
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
  out.facts_at_first_boot = true;
  // nmap_version stays empty: nmap is installed at first boot, the runner records it then.
  return out;
}

}  // namespace testbed::backends::vm
