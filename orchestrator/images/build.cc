#include "orchestrator/images/build.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "orchestrator/util/clock.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/mountinfo.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/util/version.h"

namespace testbed::images {
namespace fs = std::filesystem;
namespace {

std::string utc_now() { return util::utc_now("%Y-%m-%dT%H:%M:%SZ"); }

// "1:10.5.23-0+deb11u1" -> "10.5.23-0+deb11u1": expectations name upstream versions.
std::string strip_epoch(const std::string& v) {
  auto colon = v.find(':');
  return colon == std::string::npos ? v : v.substr(colon + 1);
}

std::vector<std::string> mount_points_below(const fs::path& dir);

// Stops a build at its next step after SIGINT/SIGTERM (util/interrupt.h); nothing is
// published, and the work dir goes with WorkDir.
util::Status check_not_interrupted(const std::string& name) {
  if (!util::interrupted()) return {};
  return util::fail(
      "interrupted ({}): the build of '{}' was stopped and nothing was added to "
      "the cache",
      util::interrupt_signal_name(), name);
}

// Removes a tree without ever descending into another file system: a build killed
// while mmdebstrap had /proc, /sys or /dev mounted inside must not take the host's with
// it. Such leftover mounts (a dead build's) are detached first, deepest first.
util::Status remove_tree(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return {};
  auto mounts = mount_points_below(dir);
  std::sort(mounts.begin(), mounts.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const auto& m : mounts) {
    util::log_warn("detaching {} left mounted by an interrupted build", m);
    auto r = util::run_process({"umount", "--lazy", "--", m});
    if (!r || r->exit_code != 0)
      return util::fail("cannot remove {}: {} is still mounted and umount failed: {}", dir.string(),
                        m, r ? r->err : r.error().message);
  }
  auto r = util::run_checked({"rm", "-rf", "--one-file-system", "--", dir.string()});
  if (!r) return util::fail("cannot remove {}: {}", dir.string(), r.error().message);
  return {};
}

// A build directory removed on every exit path unless published.
class WorkDir {
 public:
  explicit WorkDir(fs::path p) : path_(std::move(p)) {}
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    if (path_.empty()) return;
    if (auto s = remove_tree(path_); !s) util::log_warn("{}", s.error().message);
  }
  const fs::path& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

// flock on <root>/<name>/.lock for the life of the object (released by close).
class NameLock {
 public:
  static util::Result<NameLock> acquire(const fs::path& name_dir) {
    fs::path p = name_dir / ".lock";
    int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return util::fail("cannot open {}: {}", p.string(), std::strerror(errno));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR && !util::interrupted()) continue;
      int e = errno;
      ::close(fd);
      if (e == EINTR)
        return util::fail("interrupted ({}) while waiting for another build to release {}",
                          util::interrupt_signal_name(), p.string());
      return util::fail("cannot lock {}: {}", p.string(), std::strerror(e));
    }
    return NameLock(fd);
  }
  NameLock(NameLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  NameLock& operator=(NameLock&&) = delete;
  ~NameLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit NameLock(int fd) : fd_(fd) {}
  int fd_;
};

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Points <name_dir>/<current_link(backend)> at `key` atomically (a new symlink renamed
// over the old).
util::Status flip_current(const fs::path& name_dir, const std::string& key,
                          config::BackendKind backend) {
  const std::string link = current_link(backend);
  fs::path tmp = name_dir / ("." + link + ".tmp");
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_directory_symlink(key, tmp, ec);
  if (ec) return util::fail("cannot create symlink {}: {}", tmp.string(), ec.message());
  if (::rename(tmp.c_str(), (name_dir / link).c_str()) != 0)
    return util::fail("cannot point {}/{} at {}: {}", name_dir.string(), link, key,
                      std::strerror(errno));
  fsync_dir(name_dir);
  return {};
}

std::vector<std::string> mount_points_below(const fs::path& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(dir, ec);
  const std::string prefix = (ec ? dir : canon).string() + "/";
  for (const auto& m : util::read_mountinfo())
    if (m.mount_point.compare(0, prefix.size(), prefix) == 0) found.push_back(m.mount_point);
  return found;
}

}  // namespace

std::vector<std::string> mounts_using(const fs::path& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(dir, ec);
  if (ec) canon = dir;
  const std::string prefix = canon.string();
  auto below = [&](const std::string& p) {
    return p == prefix || (p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0 &&
                           p[prefix.size()] == '/');
  };
  for (const auto& m : util::read_mountinfo()) {
    const std::string& mount_point = m.mount_point;
    if (below(mount_point)) {
      found.push_back(mount_point);
      continue;
    }
    // Super options (after " - fstype source") carry overlay's lowerdir=a:b,upperdir=...
    const std::string& opts = m.super_options;
    if (opts.empty()) continue;
    size_t pos = 0;
    while ((pos = opts.find(prefix, pos)) != std::string::npos) {
      size_t end = pos + prefix.size();
      bool boundary =
          (pos == 0 || std::string("=:, ").find(opts[pos - 1]) != std::string::npos) &&
          (end == opts.size() || std::string("/:, ").find(opts[end]) != std::string::npos);
      if (boundary) {
        found.push_back(mount_point);
        break;
      }
      pos = end;
    }
  }
  return found;
}

uint64_t tree_size(const fs::path& dir) {
  struct stat root_st {};
  if (::lstat(dir.c_str(), &root_st) != 0) return 0;
  uint64_t total = static_cast<uint64_t>(root_st.st_blocks) * 512;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (st.st_dev != root_st.st_dev) {  // another mount: do not count or descend
      if (S_ISDIR(st.st_mode)) it.disable_recursion_pending();
      continue;
    }
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.insert({st.st_dev, st.st_ino}).second)
      continue;
    total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

util::Result<std::string> cache_key(const config::Recipe& r, const Builder& b) {
  std::string material = "testbed-image-key/1\n";
  material += fmt::format("recipe {}\n{}\n", r.text.size(), r.text);
  material += fmt::format("builder {}\n", b.version());
  std::string km = b.key_material(r);
  material += fmt::format("derived {}\n{}\n", km.size(), km);
  for (const auto& f : r.files) {
    if (f.source.empty()) continue;
    auto h = util::sha256_file(f.source);
    if (!h)
      return util::fail("recipe '{}': cannot hash source file {}: {}", r.name, f.source.string(),
                        h.error().message);
    material += fmt::format("source {} {}\n", f.source_rel, *h);
  }
  return util::sha256_hex(material).substr(0, 16);
}

bool is_cached(const config::Recipe& r, const Builder& b, const fs::path& root) {
  auto key = cache_key(r, b);
  std::error_code ec;
  return key.ok() && fs::is_regular_file(root / r.name / *key / "manifest.json", ec);
}

util::Status check_expectations(const config::Recipe& r, const BuildOutput& out) {
  std::vector<std::string> problems;
  const std::string& want_nmap =
      out.expected_nmap_version.empty() ? r.expect.nmap_version : out.expected_nmap_version;
  if (!want_nmap.empty() && out.nmap_version != want_nmap) {
    problems.push_back(fmt::format(
        "expected Nmap {} but `nmap --version` reports {}", want_nmap,
        out.nmap_version.empty() ? "no version (is nmap installed?)" : out.nmap_version));
  }
  for (const auto& [pkg, prefix] : r.expect.packages) {
    auto it = out.packages.find(pkg);
    if (it == out.packages.end()) {
      problems.push_back(
          fmt::format("expected package {} {}* but it is not installed", pkg, prefix));
    } else if (strip_epoch(it->second).rfind(prefix, 0) != 0) {
      problems.push_back(
          fmt::format("expected package {} {}* but {} is installed", pkg, prefix, it->second));
    }
  }
  if (problems.empty()) return {};
  std::string msg = fmt::format(
      "image '{}' does not match its recipe's expect section ({}):", r.name, r.path.string());
  for (const auto& p : problems) msg += "\n  " + p;
  msg += "\nThe suite's packages changed; update the recipe's base or expect.";
  return util::Error{msg};
}

nlohmann::json make_manifest(const config::Recipe& r, const Builder& b, const std::string& key,
                             const BuildOutput& out, double build_seconds, uint64_t size_bytes) {
  using nlohmann::json;
  json files = json::object();
  for (const auto& f : r.files) {
    if (f.source.empty()) continue;
    auto h = util::sha256_file(f.source);
    files[f.source_rel] = h ? *h : std::string("unreadable");
  }
  json base = json::object();
  // A root built here from a suite (LXC, and VM images made from the same root) records
  // the suite; a downloaded cloud image its URL and digest.
  if (!r.cloud()) {
    base["suite"] = r.base.suite;
    base["apt_options"] = r.base.apt_options;
    base["mirror"] = "mmdebstrap default";
  } else {
    base["cloud_image"] = r.base.cloud_image;
    base["sha256"] = r.base.sha256;
    base["sha256sums"] = r.base.sha256sums;
  }
  json m = {
      {"schema", 1},
      {"complete", true},
      {"name", r.name},
      {"description", r.description},
      {"role", r.role},
      {"backend", config::backend_name(b.backend())},
      {"key", key},
      {"recipe",
       {{"path", r.path.string()}, {"sha256", util::sha256_hex(r.text)}, {"files", files}}},
      {"base", base},
      {"builder", {{"version", b.version()}, {"tool", out.tool}, {"testbed_version", kVersion}}},
      {"built_at", utc_now()},
      {"build_seconds", std::round(build_seconds * 10) / 10},
      {"size_bytes", size_bytes},
      {"package_count", out.packages.size()},
      {"packages", out.packages},
  };
  if (!out.nmap_version.empty() || !out.nmap_version_output.empty())
    m["nmap"] = {{"version", out.nmap_version}, {"version_output", out.nmap_version_output}};
  if (!out.source.is_null()) m["source"] = out.source;
  if (!r.expect.nmap_version.empty() || !r.expect.packages.empty()) {
    // The lab checks these again on every booted node (lab::Lab::wait_ready).
    m["expect"] = json::object();
    if (!r.expect.nmap_version.empty()) m["expect"]["nmap_version"] = r.expect.nmap_version;
    if (!r.expect.packages.empty()) m["expect"]["packages"] = r.expect.packages;
  }
  if (!out.vm_boot.empty()) {
    m["vm"] = {{"boot", out.vm_boot}};
    if (!out.vm_kernel.empty()) m["vm"]["kernel"] = out.vm_kernel;
  }
  if (out.facts_at_first_boot)
    m["expect_checked"] = "at first boot";  // packages come with cloud-init, not the build
  json services = json::array();
  for (const auto& s : r.services) services.push_back({{"name", s.name}, {"log", s.log}});
  m["services"] = services;
  json health = json::array();
  for (const auto& c : r.health) health.push_back(c.name);
  m["health"] = health;
  return m;
}

util::Result<BuildReport> build_image(const config::Recipe& r, Builder& b, const fs::path& root,
                                      bool rebuild, const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (!r.supports(b.backend()))
    return util::fail("recipe '{}' does not support the {} backend", r.name,
                      config::backend_name(b.backend()));
  auto key = cache_key(r, b);
  if (!key) return key.error();

  const fs::path name_dir = root / r.name;
  const fs::path tmp_root = root / ".tmp";
  std::error_code ec;
  fs::create_directories(name_dir, ec);
  if (!ec) fs::create_directories(tmp_root, ec);
  if (ec)
    return util::fail(
        "cannot create the image cache {}: {} (run as root, or set "
        "TESTBED_IMAGE_DIR)",
        root.string(), ec.message());
  auto lock = NameLock::acquire(name_dir);
  if (!lock) return lock.error();

  ImageRef ref{r.name, *key, name_dir / *key, name_dir / *key / "rootfs",
               name_dir / *key / "manifest.json"};
  BuildReport report;
  report.ref = ref;

  if (fs::exists(ref.manifest) && !rebuild) {
    if (auto s = flip_current(name_dir, *key, b.backend()); !s) return s.error();
    if (auto j = images::read_manifest(ref)) {
      report.size_bytes = j->value("size_bytes", uint64_t{0});
      if (j->contains("nmap")) report.nmap_version = (*j)["nmap"].value("version", "");
    }
    report.seconds = seconds();
    return report;
  }
  if (fs::exists(ref.dir)) {
    auto users = mounts_using(ref.dir);
    if (!users.empty())
      return util::fail(
          "cannot rebuild image '{}': {} is in use by mount {} (take the lab "
          "down first: `testbed lab down`)",
          r.name, ref.dir.string(), users[0]);
  }

  // Sweep what an interrupted build of this name left (we hold its lock).
  for (const auto& e : fs::directory_iterator(tmp_root, ec)) {
    if (e.path().filename().string().rfind(r.name + ".", 0) == 0) {
      if (auto s = remove_tree(e.path()); !s) util::log_warn("{}", s.error().message);
    }
  }

  auto tmp = util::TempDir::create(r.name, tmp_root);
  if (!tmp) return tmp.error();
  WorkDir work(tmp->release());
  if (::chmod(work.path().c_str(), 0755) != 0)
    return util::fail("cannot chmod {}: {}", work.path().string(), std::strerror(errno));

  if (auto s = check_not_interrupted(r.name); !s) return s.error();
  auto out = b.build(r, work.path(), progress);
  if (auto s = check_not_interrupted(r.name); !s) return s.error();
  if (!out) return out.error();
  if (!out->facts_at_first_boot)
    if (auto s = check_expectations(r, *out); !s) return s.error();

  if (progress) progress("writing manifest");
  uint64_t size = tree_size(work.path());
  nlohmann::json manifest = make_manifest(r, b, *key, *out, seconds(), size);
  std::string text = manifest.dump(2) + "\n";
  if (!out->manifest_copy.empty()) {
    fs::path copy = work.path() / out->manifest_copy;
    fs::create_directories(copy.parent_path(), ec);
    if (auto s = util::write_file_atomic(copy, text); !s) return s.error();
  }
  if (auto s = util::write_file_atomic(work.path() / "manifest.json", text); !s) return s.error();

  if (auto s = check_not_interrupted(r.name); !s) return s.error();
  // Publish: an old build under the same key (--rebuild) is moved aside first, so the
  // key's directory is always either the old complete image or the new one.
  fs::path old_aside;
  if (fs::exists(ref.dir)) {
    old_aside = tmp_root / fmt::format("{}.old-{}", r.name, ::getpid());
    if (::rename(ref.dir.c_str(), old_aside.c_str()) != 0)
      return util::fail("cannot move the old build {} aside: {}", ref.dir.string(),
                        std::strerror(errno));
  }
  if (::rename(work.path().c_str(), ref.dir.c_str()) != 0)
    return util::fail("cannot move the build into {}: {}", ref.dir.string(), std::strerror(errno));
  work.release();
  fsync_dir(name_dir);
  if (auto s = flip_current(name_dir, *key, b.backend()); !s) return s.error();
  if (!old_aside.empty()) {
    if (auto s = remove_tree(old_aside); !s) util::log_warn("{}", s.error().message);
  }

  report.built = true;
  report.size_bytes = size;
  report.nmap_version = out->nmap_version;
  report.seconds = seconds();
  return report;
}

util::Result<std::vector<ImageInfo>> list_images(const fs::path& root) {
  std::vector<ImageInfo> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& nd : fs::directory_iterator(root, ec)) {
    std::string name = nd.path().filename().string();
    if (name.empty() || name[0] == '.' || !nd.is_directory()) continue;
    std::set<std::string> current;
    for (const char* link : {"current", "current-vm"}) {
      std::error_code lec;
      fs::path target = fs::read_symlink(nd.path() / link, lec);
      if (!lec) current.insert(target.filename().string());
    }
    for (const auto& kd : fs::directory_iterator(nd.path(), ec)) {
      std::string key = kd.path().filename().string();
      if (key.empty() || key[0] == '.' || key.rfind("current", 0) == 0 || !kd.is_directory())
        continue;
      auto text = util::read_file(kd.path() / "manifest.json");
      if (!text) continue;  // incomplete: not an image
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      ImageInfo info;
      info.name = name;
      info.key = key;
      info.dir = kd.path();
      info.current = current.count(key) > 0;
      info.backend = j.value("backend", "lxc");
      info.role = j.value("role", "");
      info.built_at = j.value("built_at", "");
      info.size_bytes = j.value("size_bytes", uint64_t{0});
      if (j.contains("nmap") && j["nmap"].is_object())
        info.nmap_version = j["nmap"].value("version", "");
      out.push_back(std::move(info));
    }
  }
  std::sort(out.begin(), out.end(), [](const ImageInfo& a, const ImageInfo& b) {
    if (a.name != b.name) return a.name < b.name;
    if (a.current != b.current) return a.current;
    return a.built_at > b.built_at;
  });
  return out;
}

util::Status remove_image(const std::string& name, const fs::path& root) {
  if (!config::is_image_name(name)) return util::fail("'{}' is not an image name", name);
  fs::path dir = root / name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return util::fail("no image '{}' in {} (see `testbed image list`)", name, root.string());
  auto users = mounts_using(dir);
  if (!users.empty())
    return util::fail(
        "image '{}' is in use by mount {} (take the lab down first: "
        "`testbed lab down`)",
        name, users[0]);
  auto lock = NameLock::acquire(dir);
  if (!lock) return lock.error();
  // Rename first so a concurrent reader never sees a half-removed image.
  fs::path aside = root / ".tmp" / fmt::format("{}.rm-{}", name, ::getpid());
  fs::create_directories(aside.parent_path(), ec);
  if (::rename(dir.c_str(), aside.c_str()) != 0)
    return util::fail("cannot remove {}: {}", dir.string(), std::strerror(errno));
  return remove_tree(aside);
}

util::Result<int> remove_old_keys(const std::string& name, const fs::path& root) {
  if (!config::is_image_name(name)) return util::fail("'{}' is not an image name", name);
  fs::path dir = root / name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return util::fail("no image '{}' in {} (see `testbed image list`)", name, root.string());
  auto lock = NameLock::acquire(dir);
  if (!lock) return lock.error();
  std::set<std::string> current;
  for (const char* link : {"current", "current-vm"}) {
    std::error_code lec;
    fs::path t = fs::read_symlink(dir / link, lec);
    if (!lec) current.insert(t.string());
  }
  if (current.empty())
    return util::fail("{}/current is missing; refusing to guess which build to keep", dir.string());
  int removed = 0;
  std::vector<std::string> busy;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string key = e.path().filename().string();
    if (key.empty() || key[0] == '.' || key.rfind("current", 0) == 0 || current.count(key) ||
        !e.is_directory())
      continue;
    auto users = mounts_using(e.path());
    if (!users.empty()) {
      busy.push_back(fmt::format("{} (mount {})", key, users[0]));
      continue;
    }
    fs::path aside = root / ".tmp" / fmt::format("{}.rm-{}-{}", name, key, ::getpid());
    fs::create_directories(aside.parent_path(), ec);
    if (::rename(e.path().c_str(), aside.c_str()) != 0)
      return util::fail("cannot remove {}: {}", e.path().string(), std::strerror(errno));
    if (auto s = remove_tree(aside); !s) return s.error();
    ++removed;
  }
  if (!busy.empty()) {
    std::string list;
    for (const auto& b : busy) list += (list.empty() ? "" : ", ") + b;
    return util::fail("image '{}': kept builds in use by a lab: {}", name, list);
  }
  return removed;
}

std::string parse_nmap_version(const std::string& out) {
  static const std::regex re("Nmap version ([0-9]+\\.[0-9A-Za-z.]+)");
  std::smatch m;
  if (!std::regex_search(out, m, re)) return "";
  return m[1];
}

std::map<std::string, std::string> parse_dpkg_query(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string status, name, version;
    if (!std::getline(ls, status, '\t') || !std::getline(ls, name, '\t') ||
        !std::getline(ls, version))
      continue;
    if (status.rfind("ii", 0) != 0) continue;  // installed, no error flag
    out[name] = version;
  }
  return out;
}

}  // namespace testbed::images
