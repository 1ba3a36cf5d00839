#pragma once
// Bytes of the regular files under a directory (their sizes, not their blocks): what a
// node's saved states take (node_snapshots.h) and what one state takes (backends/vm).
#include <cstdint>
#include <filesystem>

namespace testbed::virt {

/// Sum of the sizes of every regular file below `dir`; 0 when it does not exist.
uint64_t file_bytes_under(const std::filesystem::path& dir);

}  // namespace testbed::virt
