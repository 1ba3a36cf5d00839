#pragma once
// Content hashes for provenance (SHA-256, hex) — cache keys and manifests.
#include <filesystem>
#include <string>
#include <string_view>

#include "orchestrator/util/result.h"

namespace testbed::util {

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Lower-case hex SHA-256 of a file's contents, streamed.
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace testbed::util
