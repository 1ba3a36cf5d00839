// Real builds of every LXC recipe (label `images`: needs root and the Debian mirror).
// Builds into the real cache ($TESTBED_IMAGE_DIR or /var/lib/testbed/images) so that the
// lab tests that run later reuse the images; a warm cache makes this test take seconds.
//
// Then boots the target and the router the way the lab does (services.sh, health.sh)
// on an overlay of the image, inside private mount/net/pid/uts namespaces: nothing
// binds a port in the host's network namespace and the image is never written.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "orchestrator/config/recipe.h"
#include "orchestrator/images/build.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/backends/lxc/builder.h"
#include "orchestrator/backends/vm/builder.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::images {
using backends::vm::backing_file;
using backends::vm::kKvmBaseDisk;
using backends::lxc::LxcBuilder;
using backends::lxc::kLxcLabPackages;
using images::parse_nmap_version;
using backends::vm::VmBuilder;
using backends::vm::kVmInitrd;
using backends::vm::kVmKernel;
namespace {
namespace fs = std::filesystem;

std::vector<config::Recipe> lxc_recipes() {
  auto all = config::load_recipe_dir(fs::path(TESTBED_SOURCE_DIR) / "images");
  EXPECT_TRUE(all.ok()) << all.error().message;
  std::vector<config::Recipe> out;
  if (!all.ok()) return out;
  for (auto& r : *all) {
    // Source builds compile for minutes and need their tarball (TESTBED_SOURCES): the
    // e2e test `e2e_source_build` builds the cheapest of them and scans with it.
    if (r.supports(config::BackendKind::kLxc) && r.source.empty()) out.push_back(std::move(r));
  }
  return out;
}

// Builds every recipe, two at a time (this machine has two cores).
std::vector<util::Result<BuildReport>> build_all(const std::vector<config::Recipe>& recipes) {
  std::vector<util::Result<BuildReport>> results(recipes.size(), util::Error{"not built"});
  std::atomic<size_t> next{0};
  auto worker = [&] {
    LxcBuilder b;
    for (size_t i; (i = next++) < recipes.size();)
      results[i] = build_image(recipes[i], b, default_cache_root(), false);
  };
  std::thread t1(worker), t2(worker);
  t1.join();
  t2.join();
  return results;
}

nlohmann::json manifest_of(const std::string& name) {
  auto ref = find_image(name);
  EXPECT_TRUE(ref.ok()) << ref.error().message;
  if (!ref.ok()) return {};
  auto text = util::read_file(ref->manifest);
  EXPECT_TRUE(text.ok());
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json{};
}

// Boots `rootfs` on an overlay in fresh namespaces and runs `commands` in a chroot.
util::ProcessResult boot_and_run(const fs::path& rootfs, const std::string& hostname,
                                 const std::string& commands) {
  auto work = util::TempDir::create("image-boot-test");
  EXPECT_TRUE(work.ok());
  if (!work.ok()) return {};
  const std::string script = R"SH(
rootfs=$1; w=$2; host=$3; cmds=$4
mkdir -p "$w/upper" "$w/work" "$w/merged"
hostname "$host"
ip link set lo up
mount -t overlay overlay -o "lowerdir=$rootfs,upperdir=$w/upper,workdir=$w/work" "$w/merged"
mount -t proc proc "$w/merged/proc"
printf 'NODE_NAME=%s\nNODE_ROLE=test\nLAB_NAME=images-test\n' "$host" > "$w/merged/testbed/node.env"
chroot "$w/merged" /bin/sh -c "$cmds"
)SH";
  util::ProcessOptions o;
  o.timeout = std::chrono::minutes(3);
  // --pid --fork: every daemon the boot started dies with the namespace's init.
  auto r = util::run_process(
      {"unshare", "--mount", "--net", "--pid", "--fork", "--uts", "--propagation", "private", "sh",
       "-ec", script, "sh", rootfs.string(), work->path().string(), hostname, commands},
      o);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : util::ProcessResult{};
}

class RealImages : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "the `images` tests build root file systems: run them as root";
    ASSERT_TRUE(util::have_program("mmdebstrap")) << "install mmdebstrap (make setup)";
  }
};

TEST_F(RealImages, BuildEveryLxcImageThenCacheHitsAreInstant) {
  auto recipes = lxc_recipes();
  ASSERT_GE(recipes.size(), 6u);
  auto t0 = std::chrono::steady_clock::now();
  auto first = build_all(recipes);
  double cold = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < recipes.size(); ++i) {
    ASSERT_TRUE(first[i].ok()) << recipes[i].name << ": " << first[i].error().message;
    std::printf("image %-20s %s %6.1f s %5llu MiB\n", recipes[i].name.c_str(),
                first[i]->built ? "built " : "cached", first[i]->seconds,
                static_cast<unsigned long long>(first[i]->size_bytes >> 20));
  }
  std::printf("first pass (cold or partly cached): %.1f s\n", cold);

  t0 = std::chrono::steady_clock::now();
  auto second = build_all(recipes);
  double warm = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < recipes.size(); ++i) {
    ASSERT_TRUE(second[i].ok()) << second[i].error().message;
    EXPECT_FALSE(second[i]->built) << recipes[i].name << " was rebuilt from an unchanged recipe";
    EXPECT_EQ(second[i]->ref.key, first[i]->ref.key);
  }
  std::printf("warm pass: %.3f s\n", warm);
  EXPECT_LT(warm, 1.0);
}

// The VM images CI's VM tests boot (the VM e2e test and the VM lab test): the same
// recipes' Debian roots plus the suite's kernel, as a qcow2 disk.
TEST_F(RealImages, BuildTheCiVmImagesThenCacheHitsAreInstant) {
  ASSERT_TRUE(util::have_program("mkfs.ext4") && util::have_program("qemu-img"))
      << "install e2fsprogs and qemu-utils (make setup)";
  std::vector<config::Recipe> recipes;
  for (const char* name : {"router", "scanner-nmap-7.80", "target-lamp-ftp"}) {
    auto r = config::load_recipe(fs::path(TESTBED_SOURCE_DIR) / "images" / (std::string(name) + ".yaml"));
    ASSERT_TRUE(r.ok()) << r.error().message;
    recipes.push_back(std::move(*r));
  }
  for (int pass = 0; pass < 2; ++pass) {
    // Two at a time, as the LXC builds (this machine has two cores).
    std::vector<util::Result<BuildReport>> results(recipes.size(), util::Error{"not built"});
    std::atomic<size_t> next{0};
    auto worker = [&] {
      VmBuilder b(default_cache_root() / ".downloads");
      for (size_t i; (i = next++) < recipes.size();)
        results[i] = build_image(recipes[i], b, default_cache_root(), false);
    };
    std::thread t1(worker), t2(worker);
    t1.join();
    t2.join();
    for (size_t i = 0; i < recipes.size(); ++i) {
      const char* name = recipes[i].name.c_str();
      auto& res = results[i];
      ASSERT_TRUE(res.ok()) << name << ": " << res.error().message;
      if (pass == 1) {
        EXPECT_FALSE(res->built) << name << " was rebuilt from an unchanged recipe";
        EXPECT_LT(res->seconds, 1.0);
      }
      std::printf("vm image %-20s %s %6.1f s %5llu MiB\n", name, res->built ? "built " : "cached",
                  res->seconds, static_cast<unsigned long long>(res->size_bytes >> 20));
      auto ref = find_image(name, default_cache_root(), config::BackendKind::kVm);
      ASSERT_TRUE(ref.ok()) << ref.error().message;
      // The LXC build of the same recipe is a different cache entry.
      auto lxc = find_image(name);
      if (lxc.ok()) EXPECT_NE(lxc->key, ref->key);
      for (const char* f : {kKvmBaseDisk, kVmKernel, kVmInitrd})
        EXPECT_TRUE(fs::exists(ref->dir / f)) << name << ": " << f;
      EXPECT_FALSE(fs::exists(ref->dir / "rootfs")) << "the root tree is a disk now";
      auto m = nlohmann::json::parse(*util::read_file(ref->manifest));
      EXPECT_EQ(m["backend"], "vm");
      EXPECT_EQ(m["vm"]["boot"], "kernel");
      EXPECT_NE(m["vm"]["kernel"].get<std::string>().find("cloud-amd64"), std::string::npos);
      EXPECT_TRUE(m["packages"].contains("linux-image-cloud-amd64")) << name;
      EXPECT_TRUE(m["packages"].contains("openssh-server")) << name;
      auto info = backing_file(ref->dir / kKvmBaseDisk);
      ASSERT_TRUE(info.ok());
      EXPECT_EQ(*info, "") << "the base disk stands alone";
    }
  }
  auto scanner = find_image("scanner-nmap-7.80", default_cache_root(), config::BackendKind::kVm);
  ASSERT_TRUE(scanner.ok());
  auto m = nlohmann::json::parse(*util::read_file(scanner->manifest));
  EXPECT_EQ(m["nmap"]["version"], "7.80");
}

// The other scanner kinds (masscan, ZMap): the image holds the package version its recipe
// expects, and the program answers --version from inside the image.
TEST_F(RealImages, OtherScannerKindsHoldTheirExpectedPackages) {
  int seen = 0;
  for (const auto& r : lxc_recipes()) {
    if (r.role != "scanner" || !r.expect.nmap_version.empty()) continue;
    SCOPED_TRACE(r.name);
    ASSERT_FALSE(r.expect.packages.empty()) << "a non-Nmap scanner recipe must expect its package";
    auto ref = find_image(r.name);
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    auto m = manifest_of(r.name);
    for (const auto& [pkg, version] : r.expect.packages) {
      ASSERT_TRUE(m["packages"].contains(pkg)) << pkg;
      std::string installed = m["packages"][pkg].get<std::string>();  // e.g. "2:1.3.2+ds1-1"
      if (auto colon = installed.find(':'); colon != std::string::npos) installed.erase(0, colon + 1);
      EXPECT_EQ(installed.rfind(version, 0), 0u)
          << pkg << " " << m["packages"][pkg] << " does not start with " << version;
      auto v = util::run_process({"chroot", ref->rootfs.string(), pkg, "--version"});
      ASSERT_TRUE(v.ok()) << v.error().message;
      EXPECT_NE((v->out + v->err).find(version), std::string::npos) << v->out << v->err;
    }
    ++seen;
  }
  EXPECT_GE(seen, 2) << "scanner-masscan and scanner-zmap";
}

TEST_F(RealImages, ScannersReportTheirNmapVersion) {
  for (const auto& r : lxc_recipes()) {
    if (r.role != "scanner" || r.expect.nmap_version.empty()) continue;  // masscan, ZMap: below
    SCOPED_TRACE(r.name);
    auto ref = find_image(r.name);
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    // Ask the image itself, not only its manifest.
    auto v = util::run_checked({"chroot", ref->rootfs.string(), "nmap", "--version"});
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(parse_nmap_version(v->out), r.expect.nmap_version);
    auto m = manifest_of(r.name);
    EXPECT_EQ(m["nmap"]["version"], r.expect.nmap_version);
    EXPECT_TRUE(m["packages"].contains("nmap"));
    EXPECT_TRUE(m["packages"].contains("nmap-common")) << "-A needs the NSE scripts and databases";
    EXPECT_TRUE(fs::exists(ref->rootfs / "usr/share/nmap/nmap-os-db"));
    EXPECT_TRUE(fs::exists(ref->rootfs / "usr/share/nmap/scripts/http-title.nse"));
    auto h = util::run_process({"chroot", ref->rootfs.string(), "/testbed/health.sh"});
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->exit_code, 0) << h->out;
  }
}

TEST_F(RealImages, ManifestsListPackagesAndLabEssentials) {
  for (const auto& r : lxc_recipes()) {
    SCOPED_TRACE(r.name);
    auto m = manifest_of(r.name);
    ASSERT_TRUE(m.is_object());
    EXPECT_EQ(m["complete"], true);
    EXPECT_EQ(m["base"]["suite"], r.base.suite);
    EXPECT_EQ(m["base"]["apt_options"].size(), r.base.apt_options.size());
    EXPECT_GT(m["package_count"].get<int>(), 80) << "dpkg-query saw the whole system";
    for (const auto& p : kLxcLabPackages) EXPECT_TRUE(m["packages"].contains(p)) << p;
    for (const auto& p : r.packages) EXPECT_TRUE(m["packages"].contains(p)) << p;
    auto ref = find_image(r.name);
    ASSERT_TRUE(ref.ok());
    EXPECT_TRUE(fs::exists(ref->rootfs / "usr/bin/tini"));
    for (const char* f : {"services.sh", "health.sh", "image.json"})
      EXPECT_TRUE(fs::exists(ref->rootfs / "testbed" / f)) << f;
    EXPECT_FALSE(fs::exists(ref->rootfs / "testbed/build.sh"));
    EXPECT_FALSE(fs::exists(ref->rootfs / "etc/ssh/ssh_host_ed25519_key"))
        << "host keys are made per node at boot";
  }
}

TEST_F(RealImages, TargetServicesStartAndPassHealthChecks) {
  auto ref = find_image("target-lamp-ftp");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  auto r = boot_and_run(ref->rootfs, "target1",
                        "/testbed/services.sh && /testbed/health.sh --wait 60 && "
                        "curl -fsS http://127.0.0.1/ && /testbed/services.sh");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("all 3 check(s) passed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello from the testbed target"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PHP 7.4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("apache2 already running"), std::string::npos) << "second run is a no-op";
}

TEST_F(RealImages, TargetHealthNamesTheBrokenService) {
  auto ref = find_image("target-lamp-ftp");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  auto r = boot_and_run(ref->rootfs, "target1",
                        "/testbed/services.sh >/dev/null && apache2ctl stop && sleep 1; "
                        "/testbed/health.sh");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("check 'http-php-db' failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("last lines of /var/log/apache2/error.log"), std::string::npos) << r.out;
}

// `nmap -A` from a scanner image against the target, both booted in one private network
// namespace (only loopback exists there, so nothing else can be scanned): proves the
// scanner has what -A needs (NSE scripts, fingerprint databases) and the target's
// services answer as the study's do.
TEST_F(RealImages, ScannerRunsNmapAgainstTargetInPrivateNamespace) {
  auto target = find_image("target-lamp-ftp");
  auto scanner = find_image("scanner-nmap-7.80");
  ASSERT_TRUE(target.ok()) << target.error().message;
  ASSERT_TRUE(scanner.ok()) << scanner.error().message;
  auto work = util::TempDir::create("image-nmap-test");
  ASSERT_TRUE(work.ok());
  const std::string script = R"SH(
t=$1; s=$2; w=$3
for n in t s; do mkdir -p "$w/$n/upper" "$w/$n/work" "$w/$n/merged"; done
hostname target1
ip link set lo up
mount -t overlay overlay -o "lowerdir=$t,upperdir=$w/t/upper,workdir=$w/t/work" "$w/t/merged"
mount -t proc proc "$w/t/merged/proc"
mount -t overlay overlay -o "lowerdir=$s,upperdir=$w/s/upper,workdir=$w/s/work" "$w/s/merged"
mount -t proc proc "$w/s/merged/proc"
chroot "$w/t/merged" /bin/sh -c '/testbed/services.sh >/dev/null && /testbed/health.sh --wait 60'
chroot "$w/s/merged" nmap -T4 -A -p 21,80,3306 127.0.0.1
)SH";
  util::ProcessOptions o;
  o.timeout = std::chrono::minutes(4);
  auto r =
      util::run_process({"unshare", "--mount", "--net", "--pid", "--fork", "--uts", "--propagation",
                         "private", "sh", "-ec", script, "sh", target->rootfs.string(),
                         scanner->rootfs.string(), work->path().string()},
                        o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err;
  EXPECT_NE(r->out.find("Starting Nmap 7.80"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("ftp     ProFTPD"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("Apache httpd 2.4"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("http-title: testbed target"), std::string::npos) << "NSE ran";
  EXPECT_NE(r->out.find("MariaDB"), std::string::npos) << r->out;
  EXPECT_NE(r->out.find("Network Distance: 0 hops"), std::string::npos) << "OS detection ran";
}

// A build killed while mmdebstrap had /proc etc. mounted inside leaves mounts in its
// .tmp dir; the next build of that name must detach them, not delete through them.
class NoopBuilder : public Builder {
 public:
  config::BackendKind backend() const override { return config::BackendKind::kLxc; }
  std::string version() const override { return "noop/1"; }
  util::Result<BuildOutput> build(const config::Recipe&, const fs::path& work_dir,
                                  const ProgressFn&) override {
    fs::create_directories(work_dir / "rootfs");
    return BuildOutput{};
  }
};

TEST_F(RealImages, StaleBuildMountsAreDetachedNotDeletedThrough) {
  auto t = util::TempDir::create("stale-mounts");
  ASSERT_TRUE(t.ok());
  fs::path root = t->path() / "cache";
  fs::path stale = root / ".tmp" / "router.dead01" / "rootfs" / "proc";
  fs::create_directories(stale);
  // A bind mount of a directory outside stands for the host's /proc or /dev: what is in
  // it must survive the sweep.
  fs::path outside = t->path() / "outside";
  fs::create_directories(outside);
  std::ofstream(outside / "precious") << "x";
  ASSERT_TRUE(util::run_checked({"mount", "--bind", outside.string(), stale.string()}).ok());
  ASSERT_TRUE(fs::exists(stale / "precious"));
  auto recipe = config::load_recipe(fs::path(TESTBED_SOURCE_DIR) / "images/router.yaml");
  ASSERT_TRUE(recipe.ok());
  NoopBuilder b;
  auto r = build_image(*recipe, b, root, false);
  EXPECT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(fs::exists(root / ".tmp" / "router.dead01"));
  EXPECT_TRUE(mounts_using(root).empty());
  EXPECT_TRUE(fs::exists(outside / "precious")) << "the sweep deleted through a mount";
}

TEST_F(RealImages, RouterServesLabDnsAndForwards) {
  auto ref = find_image("router");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  auto r = boot_and_run(ref->rootfs, "router",
                        "echo '172.24.1.10 target1.lab target1' > /testbed/lab-hosts; "
                        "/testbed/services.sh && /testbed/health.sh --wait 20");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("all 2 check(s) passed"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace testbed::images
