#include "orchestrator/backends/lxc/storage.h"

#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "orchestrator/util/files.h"

namespace testbed::backends::lxc {
using namespace testbed::virt;  // the libvirt primitives every backend builds on
namespace fs = std::filesystem;
using virt::NodeFile;
using virt::NodeRootRequest;
using virt::NodeSpec;

namespace {

// Directories created in the upper layer take precedence over the image's metadata,
// so create the well-known ones with the modes a Debian root has.
unsigned dir_mode(const std::string& rel) {
  if (rel == "root" || rel == "root/.ssh") return 0700;
  return 0755;
}

util::Status write_into(const fs::path& upper, const std::string& path, const NodeFile& f) {
  fs::path rel = fs::path(path).relative_path();
  fs::path cur = upper;
  for (auto it = rel.begin(); it != rel.end() && std::next(it) != rel.end(); ++it) {
    cur /= *it;
    if (!fs::exists(cur)) {
      std::error_code ec;
      fs::create_directory(cur, ec);
      if (ec) return util::fail("cannot create {}: {}", cur.string(), ec.message());
      ::chmod(cur.c_str(), dir_mode(fs::relative(cur, upper).string()));
    }
  }
  return util::write_file_atomic(upper / rel, f.content, f.mode);
}

}  // namespace

util::Status OverlayStorage::prepare(const NodeRootRequest& req, NodeSpec* spec) {
  if (auto s = release(req.node_dir); !s) return s;
  fs::path upper = req.node_dir / "upper", work = req.node_dir / "work",
           root = req.node_dir / "root";
  std::error_code ec;
  for (const auto& d : {upper, work, root}) {
    fs::create_directories(d, ec);
    if (ec) return util::fail("cannot create {}: {}", d.string(), ec.message());
  }
  ::chmod(upper.c_str(), 0755);  // the merged root's mode comes from the upper dir
  for (const auto& [path, f] : req.files)
    if (auto s = write_into(upper, path, f); !s) return s;
  if (!fs::is_directory(req.image_root))
    return util::fail("image root {} is not a directory (was the image removed?)",
                      req.image_root.string());
  std::string opts = fmt::format("lowerdir={},upperdir={},workdir={}", req.image_root.string(),
                                 upper.string(), work.string());
  if (::mount("overlay", root.c_str(), "overlay", 0, opts.c_str()) != 0)
    return util::fail("cannot mount the overlay root of {} ({}): {}", req.node_dir.string(), opts,
                      std::strerror(errno));
  spec->root_dir = root.string();
  return {};
}

util::Status OverlayStorage::release(const fs::path& node_dir) {
  if (auto s = virt::unmount_all_under(node_dir / "root"); !s) return s;
  std::error_code ec;
  for (const char* d : {"root", "upper", "work"}) {
    fs::remove_all(node_dir / d, ec);
    if (ec) return util::fail("cannot remove {}: {}", (node_dir / d).string(), ec.message());
  }
  return {};
}

}  // namespace testbed::backends::lxc
