#include "orchestrator/backends/lxc/builder.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <regex>
#include <sstream>

#include "orchestrator/backends/lxc/boot_scripts.h"
#include "orchestrator/images/build.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::backends::lxc {
using namespace testbed::images;  // the image cache and the Builder interface
using images::BuildOutput;
using images::ProgressFn;
namespace fs = std::filesystem;

const std::vector<std::string> kLxcLabPackages = {"openssh-server", "iproute2", "tini", "procps"};

namespace {

// Bump when the builder makes different trees from the same recipe in a way the
// generated scripts (hashed into the key too, see key_material) do not show.
constexpr const char* kLxcBuilderVersion = "lxc-builder/1";

util::Status write_staged(const fs::path& stage, const std::string& image_path,
                          std::string_view data, unsigned mode) {
  fs::path p = stage / fs::path(image_path).relative_path();
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return util::fail("cannot create {}: {}", p.parent_path().string(), ec.message());
  return util::write_file_atomic(p, data, mode);
}

// Copies the recipe's files and the /testbed scripts into a staging tree that the
// sync-in hook copies over the new root.
util::Status stage_files(const config::Recipe& r, const fs::path& stage) {
  for (size_t i = 0; i < r.files.size(); ++i) {
    const auto& f = r.files[i];
    std::string data = f.content;
    if (!f.source.empty()) {
      auto d = util::read_file(f.source);
      if (!d) return d.error();
      data = std::move(*d);
    }
    std::string target = f.template_at_boot ? template_store_path(i) : f.path;
    if (auto s = write_staged(stage, target, data, f.mode); !s) return s;
  }
  if (auto s = write_staged(stage, "/testbed/services.sh", services_script(r), 0755); !s) return s;
  if (auto s = write_staged(stage, "/testbed/health.sh", health_script(r), 0755); !s) return s;
  if (auto s = write_staged(stage, "/testbed/build.sh", build_script(r), 0755); !s) return s;
  // sync-in copies directory modes too: whatever the caller's umask, /etc and friends
  // must stay 0755 in the image.
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(stage, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory()) fs::permissions(it->path(), fs::perms(0755), ec);
  }
  fs::permissions(stage, fs::perms(0755), ec);
  if (ec) return util::fail("cannot set modes in {}: {}", stage.string(), ec.message());
  return {};
}

std::string mmdebstrap_version() {
  auto r = util::run_process({"mmdebstrap", "--version"});
  if (!r || r->exit_code != 0) return "mmdebstrap (unknown version)";
  std::string v = r->out.empty() ? r->err : r->out;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

}  // namespace

std::string LxcBuilder::version() const { return kLxcBuilderVersion; }

std::string LxcBuilder::key_material(const config::Recipe& r) const {
  std::string m;
  for (const auto& p : kLxcLabPackages) m += p + ",";
  m += "\n" + services_script(r) + health_script(r) + build_script(r);
  return m;
}

util::Result<BuildOutput> LxcBuilder::build(const config::Recipe& r, const fs::path& work_dir,
                                            const ProgressFn& progress) {
  if (!r.supports(config::BackendKind::kLxc))
    return util::fail("recipe '{}' has no lxc backend", r.name);
  return build_debian_root(r, work_dir, progress, {}, {});
}

util::Result<BuildOutput> build_debian_root(const config::Recipe& r, const fs::path& work_dir,
                                            const ProgressFn& progress,
                                            const std::vector<std::string>& extra_packages,
                                            const std::vector<std::string>& extra_args) {
  if (::geteuid() != 0)
    return util::fail(
        "building image '{}' needs root (mmdebstrap creates device nodes and "
        "chroots); run as root",
        r.name);
  if (!util::have_program("mmdebstrap"))
    return util::fail(
        "mmdebstrap is not installed; run `make setup` (or apt-get install mmdebstrap)");
  // mmdebstrap's special hooks split their arguments on whitespace.
  if (work_dir.string().find_first_of(" \t\n") != std::string::npos)
    return util::fail("the image cache path {} must not contain white space", work_dir.string());

  const fs::path stage = work_dir / "stage";
  const fs::path rootfs = work_dir / "rootfs";
  if (progress) progress("staging files");
  if (auto s = stage_files(r, stage); !s) return s.error();

  std::vector<std::string> include = kLxcLabPackages;
  for (const auto& p : extra_packages) {
    if (std::find(include.begin(), include.end(), p) == include.end()) include.push_back(p);
  }
  for (const auto& p : r.packages) {
    if (std::find(include.begin(), include.end(), p) == include.end()) include.push_back(p);
  }
  std::string include_arg;
  for (const auto& p : include) include_arg += (include_arg.empty() ? "" : ",") + p;

  std::vector<std::string> argv = {"mmdebstrap", "--variant=apt", "--include=" + include_arg,
                                   "--logfile=/dev/stdout"};
  for (const auto& o : r.base.apt_options) argv.push_back("--aptopt=" + o);
  for (const auto& a : extra_args) argv.push_back(a);
  argv.push_back(fmt::format("--customize-hook=sync-in {} /", stage.string()));
  if (!r.build.empty()) {
    // A fixed hook string: the recipe's commands are in the staged build.sh, never here.
    argv.push_back("--customize-hook=unshare --net chroot \"$1\" /bin/sh /testbed/build.sh");
  }
  argv.push_back(r.base.suite);
  argv.push_back(rootfs.string());

  util::log_debug("{}: {}", r.name, util::format_argv(argv));
  std::deque<std::string> tail;
  util::ProcessOptions opts;
  opts.timeout = std::chrono::minutes(30);
  // SIGINT/SIGTERM stop mmdebstrap and everything it started (its own process group);
  // mmdebstrap unmounts what it mounted in the new root on SIGTERM, and the caller
  // removes the work dir (detaching any mount a killed build left).
  opts.cancel = &util::interrupt_flag();
  opts.on_stdout_line = [&](const std::string& line) {
    tail.push_back(line);
    if (tail.size() > 25) tail.pop_front();
    if (progress && line.rfind("I: ", 0) == 0) progress(line.substr(3));
  };
  auto res = util::run_process(argv, opts);
  if (!res) return res.error();
  if (res->cancelled)
    return util::fail("interrupted ({}): mmdebstrap stopped", util::interrupt_signal_name());
  if (res->exit_code != 0) {
    std::string t;
    for (const auto& l : tail) t += "  | " + l + "\n";
    if (!res->err.empty()) t += "  | " + res->err;
    return util::fail("mmdebstrap failed for image '{}' (exit status {}); last lines:\n{}", r.name,
                      res->exit_code, t);
  }

  if (progress) progress("recording packages");
  // Per-host state must not be baked into an image shared by every node: each node
  // makes its own ssh host keys at boot (ssh-keygen -A); the lab sets name and DNS.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(rootfs / "etc/ssh", ec)) {
    if (e.path().filename().string().rfind("ssh_host_", 0) == 0) fs::remove(e.path(), ec);
  }
  if (auto s = util::write_file_atomic(rootfs / "etc/hostname", r.name + "\n"); !s)
    return s.error();
  fs::remove(rootfs / "etc/resolv.conf", ec);
  if (auto s = util::write_file_atomic(rootfs / "etc/resolv.conf",
                                       "# written by the lab at node boot\n");
      !s)
    return s.error();
  fs::remove(rootfs / "testbed/build.sh", ec);
  fs::remove_all(stage, ec);

  BuildOutput out;
  out.tool = mmdebstrap_version();
  out.manifest_copy = "rootfs/testbed/image.json";
  auto q = util::run_checked({"chroot", rootfs.string(), "dpkg-query", "-W",
                              "-f=${db:Status-Abbrev}\t${Package}\t${Version}\n"});
  if (!q)
    return util::fail("cannot list the packages of image '{}': {}", r.name, q.error().message);
  out.packages = parse_dpkg_query(q->out);
  for (const auto& p : kLxcLabPackages) {
    if (!out.packages.count(p))
      return util::fail("image '{}' lacks package {} after mmdebstrap", r.name, p);
  }
  if (fs::exists(rootfs / "usr/bin/nmap")) {
    auto v = util::run_checked({"chroot", rootfs.string(), "nmap", "--version"});
    if (!v)
      return util::fail("`nmap --version` failed in image '{}': {}", r.name, v.error().message);
    out.nmap_version_output = v->out;
    out.nmap_version = parse_nmap_version(v->out);
  }
  return out;
}

}  // namespace testbed::backends::lxc
