#pragma once
// The one reader of /proc/self/mountinfo (proc(5)): every mount of this process's mount
// namespace, its mount point unescaped and its super options (for overlay: lowerdir=...,
// upperdir=...). Used by the image cache (what still uses an image) and the node storage
// (what to unmount under a node).
#include <string>
#include <vector>

namespace testbed::util {

struct MountEntry {
  std::string mount_point;    ///< field 5, with mountinfo's \ooo escapes undone
  std::string super_options;  ///< the fields after " - ": fstype, source, super options
};

/// The mounts in `text` (mountinfo's format); lines that are too short are skipped.
std::vector<MountEntry> parse_mountinfo(const std::string& text);
/// parse_mountinfo of /proc/self/mountinfo (empty when it cannot be read).
std::vector<MountEntry> read_mountinfo();

}  // namespace testbed::util
