#include "orchestrator/virt/node_storage.h"

#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "orchestrator/util/files.h"
#include "orchestrator/util/mountinfo.h"

namespace testbed::virt {
namespace fs = std::filesystem;

std::vector<std::string> mounts_under(const fs::path& dir) {
  std::vector<std::string> out;
  std::string base = fs::weakly_canonical(dir).string();
  for (const auto& m : util::read_mountinfo()) {
    const std::string& mp = m.mount_point;
    if (mp == base || mp.rfind(base + "/", 0) == 0) out.push_back(mp);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

util::Status unmount_all_under(const fs::path& dir) {
  for (const auto& mp : mounts_under(dir)) {
    if (::umount2(mp.c_str(), 0) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) continue;
    if (errno == EBUSY && ::umount2(mp.c_str(), MNT_DETACH) == 0) continue;
    return util::fail("cannot unmount {}: {}", mp, std::strerror(errno));
  }
  return {};
}

}  // namespace testbed::virt
