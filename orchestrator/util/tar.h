#pragma once
// A POSIX ustar archive in memory: what a VM node's config disk holds (virt/vm_boot.h).
// Regular files only, owned by root; parent directories are left to the extracting tar
// (so existing directories in the node keep their modes).
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::util {

struct TarFile {
  std::string path;  ///< absolute or relative; stored relative ("etc/hosts")
  std::string content;
  unsigned mode = 0644;
};

/// The archive's bytes: one 512-byte header per file, its content padded to 512 bytes,
/// two zero blocks at the end. Fails on a path that ustar cannot hold (> 255 bytes, or
/// no '/' to split it at 100/155) or that is empty or contains "..".
Result<std::string> make_tar(const std::vector<TarFile>& files, long mtime = 0);

}  // namespace testbed::util
