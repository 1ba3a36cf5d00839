#pragma once
// `testbed gc`: what crashed or killed runs left behind, found by the metadata every lab
// object carries, its state dir and its host firewall table, and removed when the lab's
// owner process is gone.
#include <string>
#include <vector>

#include "orchestrator/lab/lab.h"
#include "orchestrator/util/result.h"

namespace testbed::lab {

/// What `testbed gc` found or removed.
struct GcReport {
  std::vector<std::string>
      removed;  ///< one line per object ("domain tb-x-router (lab x, owner 123 gone)")
  std::vector<std::string> kept;  ///< labs left alone and why
};

/// Removes every lab object (libvirt domains and networks with testbed metadata,
/// overlay mounts and state dirs under state_root) whose lab's owner process is gone
/// and which is not marked kept. With dry_run, only reports.
util::Result<GcReport> collect_garbage(const LabOptions& opts, bool dry_run);

}  // namespace testbed::lab
