#include "orchestrator/backends/source_build.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <deque>
#include <sstream>

#include "orchestrator/backends/vm/builder.h"
#include "orchestrator/images/build.h"
#include "orchestrator/images/download.h"
#include "orchestrator/util/clock.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::backends {
using namespace testbed::images;
using namespace testbed::backends::lxc;  // the image cache and the Builder interface
using images::Builder;
using images::BuildOutput;
using images::ProgressFn;
using images::download_verified;
using images::cache_key;
namespace fs = std::filesystem;
namespace {

// Bump when the same recipe would be built differently (the script is hashed into the
// key as well, see key_material). One per backend: their images differ.
constexpr const char* kLxcSourceBuilderVersion = "lxc-source-builder/1";
constexpr const char* kVmSourceBuilderVersion = "vm-source-builder/1";

// POSIX sh, run by dash inside the build root; see source_build_script() for the contract.
constexpr const char* kScript = R"SH(# testbed source build (orchestrator/backends/source_build.h): sh build.sh W
set -u
W=$1
IN=$W/in
OUT=$W/out
LOG=$OUT/log
PKG_ROOT=${TESTBED_PKG_ROOT:-}
export LC_ALL=C
rm -rf "$OUT"
mkdir -p "$LOG" "$OUT/destdir" "$OUT/facts"
echo running > "$OUT/status"

# run_step NAME FUNCTION: the function's output goes to log/NAME.log (and build.log); a
# failure records "failed NAME CODE" and ends the build with exit 0 (logs are kept).
run_step() {
  name=$1
  echo "==> $name" >> "$LOG/build.log"
  echo "$name" > "$OUT/step"
  ( set -e; "$2" ) > "$LOG/$name.log" 2>&1
  rc=$?
  cat "$LOG/$name.log" >> "$LOG/build.log"
  if [ "$rc" -ne 0 ]; then
    echo "failed $name $rc" > "$OUT/status"
    exit 0
  fi
}

src() { cat "$W/srcdir"; }

do_facts() {
  gcc --version | head -n 1 > "$OUT/facts/compiler"
  dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Version}\n' > "$OUT/facts/packages"
  cat "$OUT/facts/compiler"
}

do_extract() {
  rm -rf "$W/src"
  mkdir -p "$W/src"
  tar -xf "$IN/source.tar" -C "$W/src"
  set -- "$W"/src/*
  if [ $# -eq 1 ] && [ -d "$1" ]; then echo "$1" > "$W/srcdir"; else echo "$W/src" > "$W/srcdir"; fi
  echo "source tree: $(src)"
}

do_patch() {
  cd "$(src)"
  for p in "$IN"/patches/*.patch; do
    [ -e "$p" ] || continue
    echo "applying ${p##*/}"
    patch -p1 --forward --batch < "$p"
  done
}

do_configure() {
  cd "$(src)"
  set --
  while IFS= read -r o; do
    if [ -n "$o" ]; then set -- "$@" "$o"; fi
  done < "$IN/configure.txt"
  flags=$(cat "$IN/cflags.txt")
  echo "./configure --prefix=/usr $*"
  CFLAGS="-g -O2 $flags" CXXFLAGS="-g -O2 $flags" ./configure --prefix=/usr "$@"
}

do_make() {
  cd "$(src)"
  make -j"$(nproc)"
}

do_install() {
  cd "$(src)"
  make install DESTDIR="$OUT/destdir"
}

# The package's copy of a missing file: it must exist and (in a real build root) belong
# to that package.
from_package() {  # PATH PKG
  if [ ! -f "$PKG_ROOT$1" ]; then
    echo "$1: not in the source, and package $2 does not provide it"
    exit 1
  fi
  if [ -z "$PKG_ROOT" ] && ! dpkg -S "$1" | grep -q "^$2: "; then
    echo "$1: not in the source, and it belongs to $(dpkg -S "$1"), not $2"
    exit 1
  fi
}

# Before configure: a missing file that `make install` expects in the source tree
# (third field of missing.txt) is put there from its package.
do_missing_in_source() {
  : > "$OUT/facts/missing_files"
  while read -r path pkg in_source; do
    [ -n "$path" ] && [ "$in_source" != "-" ] || continue
    if [ -e "$(src)/$in_source" ]; then
      echo "$in_source: in the source"
      printf '%s\t%s\tsource\n' "$path" "$pkg" >> "$OUT/facts/missing_files"
      continue
    fi
    from_package "$path" "$pkg"
    cp -p "$PKG_ROOT$path" "$(src)/$in_source"
    echo "$in_source: copied into the source tree from package $pkg ($path)"
    printf '%s\t%s\tpackage\n' "$path" "$pkg" >> "$OUT/facts/missing_files"
  done < "$IN/missing.txt"
}

# After install: a missing file still absent from DESTDIR is copied from its package.
do_missing_files() {
  while read -r path pkg in_source; do
    [ -n "$path" ] || continue
    if grep -q "^$path	" "$OUT/facts/missing_files"; then
      [ -e "$OUT/destdir$path" ] || { echo "$path: make install did not install it"; exit 1; }
      continue
    fi
    if [ -e "$OUT/destdir$path" ]; then
      echo "$path: installed by the source"
      printf '%s\t%s\tsource\n' "$path" "$pkg" >> "$OUT/facts/missing_files"
      continue
    fi
    from_package "$path" "$pkg"
    mkdir -p "$(dirname "$OUT/destdir$path")"
    cp -p "$PKG_ROOT$path" "$OUT/destdir$path"
    echo "$path: copied from package $pkg"
    printf '%s\t%s\tpackage\n' "$path" "$pkg" >> "$OUT/facts/missing_files"
  done < "$IN/missing.txt"
}

run_step facts do_facts
run_step extract do_extract
run_step patch do_patch
run_step missing-in-source do_missing_in_source
run_step configure do_configure
run_step make do_make
run_step install do_install
run_step missing-files do_missing_files
echo ok > "$OUT/status"
)SH";

std::string utc_stamp() { return util::utc_now("%Y%m%dT%H%M%SZ"); }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string last_lines(const std::string& text, size_t n) {
  std::deque<std::string> q;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    q.push_back(line);
    if (q.size() > n) q.pop_front();
  }
  std::string out;
  for (const auto& l : q) out += "  | " + l + "\n";
  return out;
}

util::Status copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  if (ec) return util::fail("cannot copy {} to {}: {}", from.string(), to.string(), ec.message());
  return {};
}

}  // namespace

const std::string& source_build_script() {
  static const std::string s = kScript;
  return s;
}

util::Result<ResolvedTarball> resolve_tarball(const config::Recipe& r, const fs::path& downloads) {
  for (const auto& t : r.source.tarballs) {
    if (t.file.empty()) continue;
    fs::path p = config::find_source_file(t.file);
    if (!p.empty()) return ResolvedTarball{t, p, false};
  }
  for (const auto& t : r.source.tarballs) {
    if (t.url.empty()) continue;
    return ResolvedTarball{t, downloads / (t.sha256.substr(0, 16) + "-" + url_file_name(t.url)),
                           true};
  }
  std::string dirs;
  for (const auto& d : config::source_dirs()) dirs += (dirs.empty() ? "" : ", ") + d.string();
  std::string names;
  for (const auto& t : r.source.tarballs) names += (names.empty() ? "" : ", ") + t.file;
  return util::fail(
      "image '{}': no source tarball on this host: {} is in none of {} and the recipe gives "
      "no url; put the file in one of these directories (or set TESTBED_SOURCES)",
      r.name, names, dirs);
}

util::Status fetch_and_verify(const ResolvedTarball& t) {
  if (t.downloaded) {
    std::error_code ec;
    fs::create_directories(t.path.parent_path(), ec);
    // download_verified checks the digest itself and keeps nothing that differs.
    if (auto s = download_verified(t.entry.url, t.path, t.entry.sha256); !s)
      return util::fail(
          "{}\n(hosts without internet access: put the tarball in a sources directory and "
          "name it with a {{file, sha256}} entry in the recipe, or place this download as {})",
          s.error().message, t.path.string());
    return {};
  }
  auto h = util::sha256_file(t.path);
  if (!h) return util::fail("cannot read source tarball {}: {}", t.path.string(), h.error().message);
  if (*h != t.entry.sha256)
    return util::fail(
        "source tarball {} has sha256 {} but the recipe says {}: refusing to build from it "
        "(nothing was built or published). Replace the file with the right one, or correct "
        "the recipe if the new tarball is trusted",
        t.path.string(), *h, t.entry.sha256);
  return {};
}

util::Status stage_source_inputs(const config::Recipe& r, const fs::path& tarball,
                                 const fs::path& w) {
  const fs::path in = w / "in";
  std::error_code ec;
  fs::create_directories(in / "patches", ec);
  if (ec) return util::fail("cannot create {}: {}", in.string(), ec.message());
  fs::copy_file(tarball, in / "source.tar", fs::copy_options::overwrite_existing, ec);
  if (ec)
    return util::fail("cannot copy {} into the build: {}", tarball.string(), ec.message());
  for (size_t i = 0; i < r.source.patches.size(); ++i) {
    fs::path dest =
        in / "patches" / fmt::format("{:04}-{}", i + 1, r.source.patches[i].filename().string());
    if (dest.extension() != ".patch") dest += ".patch";
    fs::copy_file(r.source.patches[i], dest, fs::copy_options::overwrite_existing, ec);
    if (ec)
      return util::fail("cannot copy patch {}: {}", r.source.patches[i].string(), ec.message());
  }
  std::string configure, missing;
  for (const auto& o : r.source.configure) configure += o + "\n";
  for (const auto& m : r.source.missing_files)
    missing += m.path + " " + m.package + " " + (m.in_source.empty() ? "-" : m.in_source) + "\n";
  if (auto s = util::write_file_atomic(in / "configure.txt", configure); !s) return s;
  if (auto s = util::write_file_atomic(in / "cflags.txt", r.source.cflags + "\n"); !s) return s;
  if (auto s = util::write_file_atomic(in / "missing.txt", missing); !s) return s;
  if (auto s = util::write_file_atomic(w / "build.sh", source_build_script(), 0755); !s) return s;
  for (auto it = fs::recursive_directory_iterator(w, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory()) fs::permissions(it->path(), fs::perms(0755), ec);
  }
  fs::permissions(w, fs::perms(0755), ec);
  return {};
}

util::Result<SourceStepsResult> read_source_steps(const fs::path& w) {
  const fs::path out = w / "out";
  auto status = util::read_file(out / "status");
  if (!status)
    return util::fail("the source build script left no status in {} (it did not run?)",
                      out.string());
  SourceStepsResult r;
  std::istringstream st(trim(*status));
  std::string word;
  st >> word;
  if (word == "ok") {
    r.ok = true;
  } else if (word == "failed") {
    st >> r.failed_step >> r.exit_code;
    auto log = util::read_file(out / "log" / (r.failed_step + ".log"));
    r.tail = last_lines(log ? *log : std::string(), 25);
  } else {
    auto step = util::read_file(out / "step");
    r.failed_step = step ? trim(*step) : "unknown";
    r.exit_code = -1;
    auto log = util::read_file(out / "log" / (r.failed_step + ".log"));
    r.tail = last_lines(log ? *log : std::string(), 25);
  }
  if (auto c = util::read_file(out / "facts" / "compiler")) r.compiler = trim(*c);
  if (auto p = util::read_file(out / "facts" / "packages")) r.packages = parse_dpkg_query(*p);
  if (auto m = util::read_file(out / "facts" / "missing_files")) {
    std::istringstream in(*m);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string path, pkg, origin;
      if (!std::getline(ls, path, '\t') || !std::getline(ls, pkg, '\t') ||
          !std::getline(ls, origin))
        continue;
      nlohmann::json j = {{"path", path}, {"origin", origin}};
      if (origin == "package") {
        j["package"] = pkg;
        auto it = r.packages.find(pkg);
        j["package_version"] = it == r.packages.end() ? "" : it->second;
      }
      auto h = util::sha256_file(out / "destdir" / fs::path(path).relative_path());
      j["sha256"] = h ? *h : std::string("unreadable");
      r.missing_files.push_back(j);
    }
  }
  return r;
}

std::string SourceBuilder::version() const {
  if (backend_ == config::BackendKind::kVm)
    return std::string(kVmSourceBuilderVersion) + "+" +
           vm::VmBuilder(cache_root_ / ".downloads").version();
  return std::string(kLxcSourceBuilderVersion) + "+" + LxcBuilder().version();
}

std::string SourceBuilder::tarball_key(const config::Recipe& r) const {
  auto line = [](const std::string& how, const std::string& what, const std::string& sha) {
    return fmt::format("{} {} {}", how, what, sha);
  };
  if (key_entry_) return line("file", key_entry_->file, key_entry_->sha256);
  auto t = resolve_tarball(r, cache_root_ / ".downloads");
  if (t && !t->downloaded) return line("file", t->entry.file, t->entry.sha256);
  // The host has none of the `file` tarballs: one whose image is built still serves.
  for (const auto& e : r.source.tarballs) {
    if (e.file.empty()) continue;
    key_entry_ = &e;
    auto key = cache_key(r, *this);
    key_entry_ = nullptr;
    std::error_code ec;
    if (key && fs::is_regular_file(cache_root_ / r.name / *key / "manifest.json", ec))
      return line("file", e.file, e.sha256);
  }
  if (!t) return "none";  // build() fails and says why
  return line("url", t->entry.url, t->entry.sha256);
}

std::string SourceBuilder::key_material(const config::Recipe& r) const {
  std::string m = backend_ == config::BackendKind::kVm
                      ? vm::VmBuilder(cache_root_ / ".downloads").key_material(r)
                      : LxcBuilder().key_material(r);
  m += "\nsource-build-script\n" + source_build_script();
  m += "\ntarball " + tarball_key(r) + "\n";
  for (size_t i = 0; i < r.source.patches.size(); ++i) {
    auto h = util::sha256_file(r.source.patches[i]);
    m += fmt::format("patch {} {}\n", r.source.patches_rel[i], h ? *h : "unreadable");
  }
  return m;
}

util::Result<BuildOutput> SourceBuilder::build(const config::Recipe& r, const fs::path& work_dir,
                                               const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  if (r.source.empty()) return util::fail("recipe '{}' has no source: section", r.name);
  if (!r.supports(backend_))
    return util::fail("recipe '{}' has no {} backend (its backends: {})", r.name,
                      config::backend_name(backend_), config::backend_names(r.backends));

  // 1. The tarball, verified before anything else happens.
  if (progress) progress("resolving the source tarball");
  auto tarball = resolve_tarball(r, cache_root_ / ".downloads");
  if (!tarball) return tarball.error();
  if (progress) progress(tarball->downloaded ? "downloading " + tarball->entry.url
                                             : "verifying " + tarball->path.string());
  if (auto s = fetch_and_verify(*tarball); !s) return s.error();
  if (util::interrupted()) return util::fail("interrupted ({})", util::interrupt_signal_name());

  if (::geteuid() != 0)
    return util::fail("building image '{}' needs root (mmdebstrap makes device nodes and chroots)",
                      r.name);
  if (!util::have_program("mmdebstrap"))
    return util::fail("mmdebstrap is not installed; run `make setup`");
  if (work_dir.string().find_first_of(" \t\n") != std::string::npos)
    return util::fail("the image cache path {} must not contain white space", work_dir.string());

  // 2. Compile in a buildd root of the recipe's suite.
  const fs::path w = work_dir / "source-build";
  const fs::path broot = work_dir / "buildroot";
  if (auto s = stage_source_inputs(r, tarball->path, w); !s) return s.error();
  std::vector<std::string> argv = {"mmdebstrap", "--variant=buildd", "--logfile=/dev/stdout"};
  std::string include;
  for (const auto& p : r.source.build_packages) include += (include.empty() ? "" : ",") + p;
  if (!include.empty()) argv.push_back("--include=" + include);
  for (const auto& o : r.base.apt_options) argv.push_back("--aptopt=" + o);
  argv.push_back("--customize-hook=mkdir -p \"$1/build\"");
  argv.push_back(fmt::format("--customize-hook=sync-in {} /build", w.string()));
  // A fixed hook string: everything the recipe says is in /build/in, read as data.
  argv.push_back("--customize-hook=unshare --net chroot \"$1\" /bin/sh /build/build.sh /build");
  argv.push_back(r.base.suite);
  argv.push_back(broot.string());
  if (progress) progress("compiling in a " + r.base.suite + " buildd root");
  util::log_debug("{}: {}", r.name, util::format_argv(argv));
  std::string mmdebstrap_log;
  util::ProcessOptions opts;
  opts.timeout = std::chrono::minutes(60);
  opts.cancel = &util::interrupt_flag();
  opts.on_stdout_line = [&](const std::string& line) {
    mmdebstrap_log += line + "\n";
    if (progress && line.rfind("I: ", 0) == 0) progress("build root: " + line.substr(3));
  };
  auto res = util::run_process(argv, opts);
  if (!res) return res.error();
  if (res->cancelled)
    return util::fail("interrupted ({}): the source build was stopped", util::interrupt_signal_name());

  // The logs leave the build root before it goes: into the image when it succeeds, into
  // <cache>/.logs/ when it does not.
  const fs::path out = broot / "build" / "out";
  const fs::path logs = work_dir / "logs";
  std::error_code ec;
  fs::create_directories(logs, ec);
  (void)util::write_file_atomic(logs / "mmdebstrap-buildroot.log", mmdebstrap_log + res->err);
  if (fs::is_directory(out / "log", ec)) (void)copy_tree(out / "log", logs);
  auto keep_failed_logs = [&]() -> fs::path {
    fs::path dest = cache_root_ / ".logs" / fmt::format("{}-{}", r.name, utc_stamp());
    if (!copy_tree(logs, dest)) return logs;
    return dest;
  };
  if (res->exit_code != 0) {
    fs::path kept = keep_failed_logs();
    return util::fail(
        "source build of image '{}' failed at step build-root (mmdebstrap --variant=buildd {}, "
        "exit status {}); last lines:\n{}logs: {}",
        r.name, r.base.suite, res->exit_code, last_lines(mmdebstrap_log + res->err, 20),
        kept.string());
  }
  auto steps = read_source_steps(broot / "build");
  if (!steps) return steps.error();
  if (!steps->ok) {
    fs::path kept = keep_failed_logs();
    return util::fail(
        "source build of image '{}' failed at step {} (exit status {}); last lines of its "
        "output:\n{}full logs: {}",
        r.name, steps->failed_step, steps->exit_code, steps->tail, kept.string());
  }
  const fs::path destdir = work_dir / "destdir";
  fs::rename(out / "destdir", destdir, ec);
  if (ec) return util::fail("cannot move the staged tree out of the build root: {}", ec.message());
  // sync-in copies directory modes: the staged tree's directories must be 0755 whatever
  // the build's umask was.
  for (auto it = fs::recursive_directory_iterator(destdir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory() && !it->is_symlink()) fs::permissions(it->path(), fs::perms(0755), ec);
  }
  fs::permissions(destdir, fs::perms(0755), ec);
  // The build root is large and no longer needed (remove_tree-like: nothing is mounted
  // in it once mmdebstrap has exited).
  if (auto rm = util::run_checked({"rm", "-rf", "--one-file-system", "--", broot.string()}); !rm)
    util::log_warn("cannot remove the build root {}: {}", broot.string(), rm.error().message);
  double compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // 3. The runtime image, with the staged tree copied in: the backend's own pipeline
  // (build_debian_root for lxc, build_vm_debian_image for vm); the staged tree goes in by
  // one more sync-in hook, before the recipe's files and build commands.
  if (progress) progress("building the runtime image");
  const std::vector<std::string> staged = {
      fmt::format("--customize-hook=sync-in {} /", destdir.string())};
  auto built = backend_ == config::BackendKind::kVm
                   ? vm::build_vm_debian_image(r, work_dir, progress, staged)
                   : build_debian_root(r, work_dir, progress, {}, staged);
  if (!built) return built.error();
  fs::remove_all(destdir, ec);

  nlohmann::json tarball_j = {{"sha256", tarball->entry.sha256}};
  if (tarball->downloaded) {
    tarball_j["url"] = tarball->entry.url;
  } else {
    tarball_j["file"] = tarball->entry.file;
    tarball_j["found_at"] = tarball->path.string();
    for (const auto& t : r.source.tarballs)
      if (!t.url.empty()) {
        tarball_j["official_url"] = t.url;  // what a host with internet would use instead
        break;
      }
  }
  nlohmann::json patches = nlohmann::json::array();
  for (size_t i = 0; i < r.source.patches.size(); ++i) {
    auto h = util::sha256_file(r.source.patches[i]);
    patches.push_back({{"path", r.source.patches_rel[i]}, {"sha256", h ? *h : "unreadable"}});
  }
  nlohmann::json build_pkgs = nlohmann::json::object();
  for (const auto& p : r.source.build_packages) {
    std::string name = p.substr(0, p.find('='));
    auto it = steps->packages.find(name);
    build_pkgs[name] = it == steps->packages.end() ? "" : it->second;
  }
  for (const char* p : {"gcc", "g++", "libc6-dev", "make"}) {
    auto it = steps->packages.find(p);
    if (it != steps->packages.end()) build_pkgs[p] = it->second;
  }
  built->source = {
      {"tarball", tarball_j},
      {"patches", patches},
      {"configure", nlohmann::json(r.source.configure)},
      {"cflags", r.source.cflags},
      {"build_root", {{"suite", r.base.suite}, {"variant", "buildd"}, {"packages", build_pkgs}}},
      {"compiler", steps->compiler},
      {"missing_files", steps->missing_files},
      {"compile_seconds", std::round(compile_s * 10) / 10},
      {"logs", "logs/"},
  };
  if (!tarball->entry.nmap_version.empty())
    built->expected_nmap_version = tarball->entry.nmap_version;
  return built;
}

std::unique_ptr<Builder> make_source_builder(const config::Recipe& r, config::BackendKind backend,
                                             const fs::path& cache_root) {
  if (r.source.empty()) return nullptr;
  return std::make_unique<SourceBuilder>(cache_root, backend);
}

}  // namespace testbed::backends
