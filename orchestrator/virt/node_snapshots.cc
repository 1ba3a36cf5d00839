#include "orchestrator/virt/node_snapshots.h"

namespace testbed::virt {

uint64_t saved_state_bytes(const std::filesystem::path& node_dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(node_dir / "states", ec);
       !ec && it != fs::end(it); it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

}  // namespace testbed::virt
