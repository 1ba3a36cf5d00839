#include "orchestrator/virt/node_snapshots.h"

#include "orchestrator/virt/disk_use.h"

namespace testbed::virt {

uint64_t file_bytes_under(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

uint64_t saved_state_bytes(const std::filesystem::path& node_dir) {
  return file_bytes_under(node_dir / "states");
}

}  // namespace testbed::virt
