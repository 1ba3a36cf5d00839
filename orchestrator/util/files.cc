#include "orchestrator/util/files.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace testbed::util {
namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot open {}: {}", path.string(), std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return fail("cannot read {}", path.string());
  return ss.str();
}

Status write_file_atomic(const fs::path& path, std::string_view data, unsigned mode) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmpXXXXXX")).string();
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return fail("cannot create a file in {}: {}", dir.string(), std::strerror(errno));
  auto cleanup = [&](const std::string& what) {
    int e = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    return fail("cannot write {}: {}: {}", path.string(), what, std::strerror(e));
  };
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return cleanup("write");
    }
    off += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return cleanup("fchmod");
  if (::fsync(fd) != 0) return cleanup("fsync");
  if (::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    return fail("cannot write {}: close: {}", path.string(), std::strerror(errno));
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmpl.c_str());
    return fail("cannot rename into {}: {}", path.string(), std::strerror(e));
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Result<TempDir> TempDir::create(const std::string& prefix, const fs::path& parent) {
  fs::path base = parent;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = t && *t ? t : "/tmp";
  }
  std::string tmpl = (base / (prefix + ".XXXXXX")).string();
  if (!::mkdtemp(tmpl.data()))
    return fail("cannot create a temporary directory in {}: {}", base.string(), std::strerror(errno));
  return TempDir(fs::path(tmpl));
}

TempDir& TempDir::operator=(TempDir&& o) noexcept {
  if (this != &o) {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
    path_ = std::move(o.path_);
    o.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

Result<fs::path> path_inside(const fs::path& base, const std::string& relative) {
  fs::path rel(relative);
  if (relative.empty()) return fail("empty path");
  if (rel.is_absolute()) return fail("path '{}' must be relative to {}", relative, base.string());
  fs::path joined = (base / rel).lexically_normal();
  fs::path nbase = base.lexically_normal();
  auto r = joined.lexically_relative(nbase);
  if (r.empty() || *r.begin() == "..")
    return fail("path '{}' leaves its directory {}", relative, base.string());
  return joined;
}

}  // namespace testbed::util
