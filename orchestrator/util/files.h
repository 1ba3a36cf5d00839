#pragma once
// File helpers with the guarantees the run directories need: a file written with
// write_file_atomic is either the old one or the complete new one, never a torn one.
#include <filesystem>
#include <string>

#include "orchestrator/util/result.h"

namespace testbed::util {

/// Reads a whole file.
Result<std::string> read_file(const std::filesystem::path& path);

/// Writes `data` to a temporary file beside `path`, fsyncs it, renames it over `path`,
/// and fsyncs the directory. Fails (leaving `path` untouched) on any I/O error, e.g. ENOSPC.
Status write_file_atomic(const std::filesystem::path& path, std::string_view data,
                         unsigned mode = 0644);

/// A directory removed (recursively) when this object dies, unless release()d.
class TempDir {
 public:
  /// Creates a fresh directory under `parent` (default: $TMPDIR or /tmp) named prefix.XXXXXX.
  static Result<TempDir> create(const std::string& prefix,
                                const std::filesystem::path& parent = {});
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir& operator=(TempDir&& o) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  /// Keeps the directory; the caller now owns it.
  std::filesystem::path release() { auto p = path_; path_.clear(); return p; }

 private:
  explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

/// Lexically resolves `relative` under `base` and fails if the result escapes `base`
/// (absolute paths, `..`): keeps paths taken from config files inside their directories.
Result<std::filesystem::path> path_inside(const std::filesystem::path& base,
                                          const std::string& relative);

}  // namespace testbed::util
