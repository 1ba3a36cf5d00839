// Source builds (label unit, no root, no network): the recipe's `source:` section and its
// located errors (also through `testbed validate`: exit 2), the tarball lookup in
// $TESTBED_SOURCES, the build script's steps on a tiny autotools-like project made here
// (extract, patch, configure, make, install into DESTDIR, missing files from a package
// root, a failing step named with its output), the cache key (lxc and vm: the same
// compile, each backend's own root), and a SHA-256 mismatch refusing the build with
// nothing published.
#include "orchestrator/backends/source_build.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "orchestrator/backends/vm/builder.h"
#include "orchestrator/images/build.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::images {
using backends::make_source_builder;
using backends::read_source_steps;
using backends::resolve_tarball;
using backends::SourceBuilder;
using backends::stage_source_inputs;
using backends::lxc::LxcBuilder;
using backends::vm::VmBuilder;
namespace {
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text, fs::perms mode = fs::perms(0644)) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  fs::permissions(p, mode);
}

// A tarball of a project with an autotools-shaped interface: ./configure --prefix=P
// [--with-greeting=X] writes a Makefile; `make` builds hello (a shell script standing in
// for a compiled program); `make install DESTDIR=D` installs it and a data file.
fs::path make_project_tarball(const fs::path& dir, bool broken_configure = false) {
  fs::path src = dir / "proj-1.0";
  write(src / "configure",
        std::string("#!/bin/sh\n") + (broken_configure ? "echo 'checking for libfoo... no'\n"
                                                         "echo 'configure: error: libfoo is "
                                                         "required' >&2\nexit 1\n"
                                                       : "") +
            "prefix=/usr/local; greeting=hello\n"
            "for a in \"$@\"; do case $a in --prefix=*) prefix=${a#*=};;"
            " --with-greeting=*) greeting=${a#*=};; *) echo \"unknown $a\"; exit 1;; esac; done\n"
            "echo \"checking CFLAGS... $CFLAGS\"\n"
            "printf 'PREFIX=%s\\nGREETING=%s\\n' \"$prefix\" \"$greeting\" > config.mk\n"
            "cat config.mk Makefile.in > Makefile\n",
        fs::perms(0755));
  write(src / "Makefile.in",
        "all: hello\n"
        "hello: hello.in\n\tsed \"s/@GREETING@/$(GREETING)/\" hello.in > hello\n"
        "install: hello\n\tmkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/proj\n"
        "\tcp hello $(DESTDIR)$(PREFIX)/bin/hello\n\tchmod 755 $(DESTDIR)$(PREFIX)/bin/hello\n"
        "\techo services > $(DESTDIR)$(PREFIX)/share/proj/proj-services\n"
        "\tcp proj-db $(DESTDIR)$(PREFIX)/share/proj/proj-db\n");
  write(src / "hello.in", "#!/bin/sh\necho '@GREETING@ from proj 1.0'\n");
  fs::path tar = dir / "proj-1.0.tar.gz";
  auto r = util::run_process({"tar", "-czf", tar.string(), "-C", dir.string(), "proj-1.0"});
  EXPECT_TRUE(r.ok() && r->exit_code == 0);
  return tar;
}

// The patch changes the program's text, so the test sees that it was applied.
constexpr const char* kPatch = R"(Say "patched" (test patch).

--- a/hello.in
+++ b/hello.in
@@ -1,2 +1,2 @@
 #!/bin/sh
-echo '@GREETING@ from proj 1.0'
+echo '@GREETING@ from patched proj 1.0'
)";

class SourceBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("source-build-test");
    ASSERT_TRUE(t.ok());
    tmp_ = t->release();
    sources_ = tmp_ / "sources";
    fs::create_directories(sources_);
    recipes_ = tmp_ / "recipes";
    fs::create_directories(recipes_ / "patches");
    write(recipes_ / "patches" / "say-patched.patch", kPatch);
    tarball_ = make_project_tarball(tmp_ / "project");
    fs::copy_file(tarball_, sources_ / "proj-1.0.tar.gz");
    sha_ = *util::sha256_file(tarball_);
    const char* old = ::getenv("TESTBED_SOURCES");
    old_env_ = old ? old : "";
    had_env_ = old != nullptr;
    ::setenv("TESTBED_SOURCES", ((tmp_ / "elsewhere").string() + ":" + sources_.string()).c_str(), 1);
  }
  void TearDown() override {
    if (had_env_)
      ::setenv("TESTBED_SOURCES", old_env_.c_str(), 1);
    else
      ::unsetenv("TESTBED_SOURCES");
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }

  std::string recipe_text(const std::string& sha) const {
    return "name: proj\n"
           "role: scanner\n"
           "backends: [lxc]\n"
           "base:\n"
           "  suite: bullseye\n"
           "source:\n"
           "  tarballs:\n"
           "    - file: proj-1.0.tar.gz\n"
           "      sha256: " +
           sha +
           "\n"
           "  patches: [patches/say-patched.patch]\n"
           "  configure: [--with-greeting=hi]\n"
           "  cflags: -fcommon\n"
           "  build_packages: [libfoo-dev, proj-data]\n"
           "  missing_files:\n"
           "    - {path: /usr/share/proj/proj-db, package: proj-data, in_source: proj-db}\n"
           "    - {path: /usr/share/proj/proj-extra, package: proj-data}\n"
           "packages: [libfoo1]\n";
  }
  util::Result<config::Recipe> parse(const std::string& text) {
    write(recipes_ / "proj.yaml", text);
    return config::load_recipe(recipes_ / "proj.yaml");
  }
  std::string errors_of(const std::string& text) {
    auto r = parse(text);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? "" : r.error().message;
  }
  std::string edit(std::string s, const std::string& from, const std::string& to) {
    auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) s.replace(pos, from.size(), to);
    return s;
  }

  fs::path tmp_, sources_, recipes_, tarball_;
  std::string sha_, old_env_;
  bool had_env_ = false;
};

TEST_F(SourceBuildTest, RecipeWithSourceParses) {
  auto r = parse(recipe_text(sha_));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->source.tarballs.size(), 1u);
  EXPECT_EQ(r->source.tarballs[0].file, "proj-1.0.tar.gz");
  EXPECT_EQ(r->source.tarballs[0].sha256, sha_);
  ASSERT_EQ(r->source.patches.size(), 1u);
  EXPECT_EQ(r->source.patches[0], recipes_ / "patches" / "say-patched.patch");
  EXPECT_EQ(r->source.configure, std::vector<std::string>{"--with-greeting=hi"});
  EXPECT_EQ(r->source.build_packages, (std::vector<std::string>{"libfoo-dev", "proj-data"}));
  ASSERT_EQ(r->source.missing_files.size(), 2u);
  EXPECT_EQ(r->source.missing_files[0].package, "proj-data");
  EXPECT_EQ(r->source.missing_files[0].in_source, "proj-db");
  EXPECT_EQ(r->source.missing_files[1].in_source, "");
  EXPECT_EQ(r->packages, std::vector<std::string>{"libfoo1"});
  // Found in the second directory of $TESTBED_SOURCES.
  EXPECT_EQ(config::find_source_file("proj-1.0.tar.gz"), sources_ / "proj-1.0.tar.gz");
  auto t = resolve_tarball(*r, tmp_ / "dl");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_FALSE(t->downloaded);
  EXPECT_EQ(t->path, sources_ / "proj-1.0.tar.gz");
}

TEST_F(SourceBuildTest, BadUrlShaFileAndPatchAreLocated) {
  std::string base = recipe_text(sha_);
  std::string e = errors_of(
      edit(base, "    - file: proj-1.0.tar.gz\n", "    - url: ftp://example.org/p.tgz\n"));
  EXPECT_NE(e.find("proj.yaml:8:12: url 'ftp://example.org/p.tgz' must be an https:// URL"),
            std::string::npos)
      << e;
  e = errors_of(edit(base, sha_, "abc123"));
  EXPECT_NE(e.find("proj.yaml:9:15: sha256 'abc123' must be 64 lower-case hex digits"),
            std::string::npos)
      << e;
  e = errors_of(edit(base, sha_, std::string(64, 'A')));
  EXPECT_NE(e.find("proj.yaml:9:15: sha256 '" + std::string(64, 'A') + "' must be 64 lower-case"),
            std::string::npos)
      << e;
  // Not in any sources directory, and no url to fall back on: the recipe itself is fine
  // (it loads on any host, so every other recipe and experiment does too); building it says
  // where to put the file.
  {
    auto gone = parse(edit(base, "file: proj-1.0.tar.gz", "file: proj-2.0.tar.gz"));
    ASSERT_TRUE(gone.ok()) << gone.error().message;
    auto t = resolve_tarball(*gone, tmp_ / "dl");
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.error().message.find("proj-2.0.tar.gz is in none of " + (tmp_ / "elsewhere").string() +
                                     ", " + sources_.string() + ", /var/lib/testbed/sources"),
              std::string::npos)
        << t.error().message;
    EXPECT_NE(t.error().message.find("put the file in one of these directories (or set "
                                     "TESTBED_SOURCES)"),
              std::string::npos);
  }
  // With a url entry too, a missing file is fine (the url is used).
  auto ok = parse(edit(edit(base, "file: proj-1.0.tar.gz", "file: proj-2.0.tar.gz"),
                  "  patches:", "    - url: https://example.org/proj-1.0.tar.gz\n      sha256: " +
                                    sha_ + "\n  patches:"));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  auto t = resolve_tarball(*ok, tmp_ / "dl");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->downloaded);
  EXPECT_EQ(t->path.parent_path(), tmp_ / "dl");
  // A path instead of a file name, a missing patch, an option with a quote, a missing
  // file's package that is not a build package.
  e = errors_of(edit(base, "file: proj-1.0.tar.gz", "file: ../proj-1.0.tar.gz"));
  EXPECT_NE(e.find("proj.yaml:8:13: file '../proj-1.0.tar.gz' must be a plain file name"),
            std::string::npos)
      << e;
  e = errors_of(edit(base, "patches/say-patched.patch", "patches/nope.patch"));
  EXPECT_NE(e.find("proj.yaml:10:13: patch file"), std::string::npos) << e;
  EXPECT_NE(e.find("nope.patch does not exist"), std::string::npos) << e;
  e = errors_of(edit(base, "--with-greeting=hi", "\"--with-greeting='hi'\""));
  EXPECT_NE(e.find("proj.yaml:11:14: configure option"), std::string::npos) << e;
  e = errors_of(edit(base, "package: proj-data}", "package: other}"));
  EXPECT_NE(e.find("package 'other' must be one of build_packages"), std::string::npos) << e;
  e = errors_of(edit(base, "      sha256: ", "      sha: "));
  EXPECT_NE(e.find("proj.yaml:9:7: unknown key 'sha' in source.tarballs[0]"), std::string::npos)
      << e;
  EXPECT_NE(e.find("proj.yaml:8:7: source.tarballs[0] needs key 'sha256'"), std::string::npos)
      << e;
}

// `testbed validate` on a bad source recipe: exit 2 and the located message; the good
// recipe passes. Needs this build tree's testbed binary.
TEST_F(SourceBuildTest, ValidateExitsTwoOnBadSource) {
  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  if (!fs::exists(bin)) GTEST_SKIP() << bin << " not built";
  auto validate = [&](const std::string& text) {
    write(recipes_ / "proj.yaml", text);
    auto r = util::run_process({bin.string(), "validate", (recipes_ / "proj.yaml").string()});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : util::ProcessResult{};
  };
  std::string f = (recipes_ / "proj.yaml").string();
  auto r = validate(edit(recipe_text(sha_), "file: proj-1.0.tar.gz", "url: http://x/p.tgz"));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  // "FILE:8:12: " then the message (the CLI may put a severity word between them).
  EXPECT_NE(r.err.find(f + ":8:12: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("url 'http://x/p.tgz' must be an https:// URL"), std::string::npos)
      << r.err;
  // A tarball this host lacks is not bad input: the build names where to put it.
  r = validate(edit(recipe_text(sha_), "file: proj-1.0.tar.gz", "file: gone.tar.gz"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = validate(recipe_text("0123"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(f + ":9:15: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sha256 '0123' must be 64 lower-case hex digits"), std::string::npos)
      << r.err;
  r = validate(recipe_text(sha_));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// The build script, run on this host as it runs in the build root (no chroot needed: it
// only uses sh, tar, patch, make and the paths it is given).
TEST_F(SourceBuildTest, ScriptStepsBuildPatchAndStageTheProject) {
  auto r = parse(recipe_text(sha_));
  ASSERT_TRUE(r.ok()) << r.error().message;
  fs::path w = tmp_ / "w";
  ASSERT_TRUE(stage_source_inputs(*r, tarball_, w).ok());
  // The "package root" the missing file comes from (the build root's / in a real build).
  fs::path pkgroot = tmp_ / "pkgroot";
  write(pkgroot / "usr/share/proj/proj-db", "fingerprints\n");
  write(pkgroot / "usr/share/proj/proj-extra", "extra\n");
  auto run = util::run_process({"sh", (w / "build.sh").string(), w.string()},
                               {.extra_env = {"TESTBED_PKG_ROOT=" + pkgroot.string()}});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 0) << run->err;
  auto steps = read_source_steps(w);
  ASSERT_TRUE(steps.ok()) << steps.error().message;
  ASSERT_TRUE(steps->ok) << steps->failed_step << "\n" << steps->tail;
  EXPECT_NE(steps->compiler.find("gcc"), std::string::npos) << steps->compiler;
  // Installed under DESTDIR with --prefix=/usr, configure option and patch applied.
  fs::path hello = w / "out/destdir/usr/bin/hello";
  ASSERT_TRUE(fs::exists(hello));
  auto out = util::run_process({"sh", hello.string()});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->out, "hi from patched proj 1.0\n");
  EXPECT_TRUE(fs::exists(w / "out/destdir/usr/share/proj/proj-services"));
  // The missing files came from the package root, recorded with their digests: proj-db
  // put into the source tree before configure (its `make install` needs it), proj-extra
  // copied into DESTDIR after install.
  EXPECT_EQ(*util::read_file(w / "out/destdir/usr/share/proj/proj-db"), "fingerprints\n");
  EXPECT_EQ(*util::read_file(w / "out/destdir/usr/share/proj/proj-extra"), "extra\n");
  ASSERT_EQ(steps->missing_files.size(), 2u);
  EXPECT_EQ(steps->missing_files[0]["path"], "/usr/share/proj/proj-db");
  EXPECT_EQ(steps->missing_files[0]["origin"], "package");
  EXPECT_EQ(steps->missing_files[0]["package"], "proj-data");
  EXPECT_EQ(steps->missing_files[0]["sha256"], util::sha256_hex("fingerprints\n"));
  EXPECT_EQ(steps->missing_files[1]["path"], "/usr/share/proj/proj-extra");
  EXPECT_EQ(steps->missing_files[1]["origin"], "package");
  // Every step has its log, in order, and cflags reached configure.
  std::string log = *util::read_file(w / "out/log/build.log");
  size_t pos = 0;
  for (const char* step : {"facts", "extract", "patch", "missing-in-source", "configure", "make",
                           "install", "missing-files"}) {
    auto at = log.find(std::string("==> ") + step, pos);
    EXPECT_NE(at, std::string::npos) << step << " missing or out of order in\n" << log;
    pos = at == std::string::npos ? pos : at;
    EXPECT_TRUE(fs::exists(w / "out/log" / (std::string(step) + ".log"))) << step;
  }
  EXPECT_NE(log.find("applying 0001-say-patched.patch"), std::string::npos) << log;
  EXPECT_NE(log.find("checking CFLAGS... -g -O2 -fcommon"), std::string::npos) << log;
}

TEST_F(SourceBuildTest, AFileTheSourceHasIsNotReplaced) {
  auto r = parse(recipe_text(sha_));
  ASSERT_TRUE(r.ok());
  // A release tarball that ships its own database.
  fs::path dir = tmp_ / "release";
  make_project_tarball(dir);
  write(dir / "proj-1.0" / "proj-db", "upstream db\n");
  write(dir / "proj-1.0" / "proj-extra-not-installed", "x\n");
  fs::path tar = dir / "release.tar.xz";
  ASSERT_EQ(util::run_process({"tar", "-cJf", tar.string(), "-C", dir.string(), "proj-1.0"})
                ->exit_code,
            0);
  fs::path w = tmp_ / "w";
  ASSERT_TRUE(stage_source_inputs(*r, tar, w).ok());
  fs::path pkgroot = tmp_ / "pkgroot";
  write(pkgroot / "usr/share/proj/proj-db", "debian db\n");
  write(pkgroot / "usr/share/proj/proj-extra", "extra\n");
  auto run = util::run_process({"sh", (w / "build.sh").string(), w.string()},
                               {.extra_env = {"TESTBED_PKG_ROOT=" + pkgroot.string()}});
  ASSERT_TRUE(run.ok());
  auto steps = read_source_steps(w);
  ASSERT_TRUE(steps.ok());
  ASSERT_TRUE(steps->ok) << steps->failed_step << steps->tail;
  EXPECT_EQ(*util::read_file(w / "out/destdir/usr/share/proj/proj-db"), "upstream db\n");
  ASSERT_EQ(steps->missing_files.size(), 2u);
  EXPECT_EQ(steps->missing_files[0]["origin"], "source");
  EXPECT_FALSE(steps->missing_files[0].contains("package"));
  EXPECT_EQ(steps->missing_files[1]["origin"], "package");
}

TEST_F(SourceBuildTest, FailedStepIsNamedWithItsLastLines) {
  auto r = parse(recipe_text(sha_));
  ASSERT_TRUE(r.ok());
  fs::path broken = make_project_tarball(tmp_ / "broken", /*broken_configure=*/true);
  fs::path w = tmp_ / "w";
  ASSERT_TRUE(stage_source_inputs(*r, broken, w).ok());
  fs::path pkgroot = tmp_ / "pkgroot";
  write(pkgroot / "usr/share/proj/proj-db", "fingerprints\n");
  const util::ProcessOptions env{.extra_env = {"TESTBED_PKG_ROOT=" + pkgroot.string()}};
  auto run = util::run_process({"sh", (w / "build.sh").string(), w.string()}, env);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->exit_code, 0) << "the script keeps its logs and reports through status";
  auto steps = read_source_steps(w);
  ASSERT_TRUE(steps.ok());
  EXPECT_FALSE(steps->ok);
  EXPECT_EQ(steps->failed_step, "configure");
  EXPECT_EQ(steps->exit_code, 1);
  EXPECT_NE(steps->tail.find("configure: error: libfoo is required"), std::string::npos)
      << steps->tail;
  EXPECT_FALSE(fs::exists(w / "out/destdir/usr/bin/hello"));
  // A patch that does not apply fails at `patch`.
  write(recipes_ / "patches" / "say-patched.patch",
        edit(kPatch, "-echo '@GREETING@ from proj 1.0'", "-echo 'something else'"));
  fs::path w2 = tmp_ / "w2";
  ASSERT_TRUE(stage_source_inputs(*r, tarball_, w2).ok());
  run = util::run_process({"sh", (w2 / "build.sh").string(), w2.string()}, env);
  steps = read_source_steps(w2);
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(steps->failed_step, "patch");
  EXPECT_NE(steps->tail.find("FAILED"), std::string::npos) << steps->tail;
}

TEST_F(SourceBuildTest, KeyTracksPatchAndTarball) {
  auto r = parse(recipe_text(sha_));
  ASSERT_TRUE(r.ok());
  SourceBuilder b(tmp_ / "cache");
  auto k1 = cache_key(*r, b);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(*cache_key(*r, b), *k1);
  EXPECT_NE(b.key_material(*r).find("file proj-1.0.tar.gz " + sha_), std::string::npos);
  write(recipes_ / "patches" / "say-patched.patch", std::string(kPatch) + "\n");
  EXPECT_NE(*cache_key(*r, b), *k1) << "a changed patch rebuilds";
  EXPECT_NE(*cache_key(*r, b), *cache_key(*r, LxcBuilder()));
  EXPECT_NE(make_source_builder(*r, config::BackendKind::kLxc, tmp_ / "cache"), nullptr);
  // A recipe without `source:` keeps its backend's plain builder.
  auto plain = parse("name: proj\nrole: scanner\nbackends: [lxc, vm]\nbase:\n  suite: bullseye\n");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(make_source_builder(*plain, config::BackendKind::kLxc, tmp_ / "cache"), nullptr);
  EXPECT_EQ(make_source_builder(*plain, config::BackendKind::kVm, tmp_ / "cache"), nullptr);
}

// On vm a source recipe gets the source builder for vm: the same compile (script, tarball,
// patches in its key) and the runtime root of a VM image: VmBuilder's key material,
// which is the LXC root's plus the shared VM part (kernel, vm-init, pin), so the two
// images have different keys and live side by side (current / current-vm).
TEST_F(SourceBuildTest, OnVmTheSourceBuildFinishesAsAVmImage) {
  auto r = parse(edit(recipe_text(sha_), "backends: [lxc]", "backends: [lxc, vm]"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const fs::path cache = tmp_ / "cache";
  auto lxc = make_source_builder(*r, config::BackendKind::kLxc, cache);
  auto vm = make_source_builder(*r, config::BackendKind::kVm, cache);
  ASSERT_NE(lxc, nullptr);
  ASSERT_NE(vm, nullptr);
  EXPECT_EQ(lxc->backend(), config::BackendKind::kLxc);
  EXPECT_EQ(vm->backend(), config::BackendKind::kVm);
  EXPECT_EQ(lxc->version(), "lxc-source-builder/1+" + LxcBuilder().version());
  EXPECT_EQ(vm->version(), "vm-source-builder/1+" + VmBuilder(cache / ".downloads").version());

  // The plain builders' material first, then the same source part.
  const std::string lxc_plain = LxcBuilder().key_material(*r);
  const std::string vm_plain = VmBuilder(cache / ".downloads").key_material(*r);
  EXPECT_EQ(vm_plain, lxc_plain + backends::vm::vm_root_key_material())
      << "VmBuilder's root is the LXC root plus the shared VM part";
  const std::string lxc_km = lxc->key_material(*r);
  const std::string vm_km = vm->key_material(*r);
  ASSERT_EQ(lxc_km.rfind(lxc_plain, 0), 0u);
  ASSERT_EQ(vm_km.rfind(vm_plain, 0), 0u);
  EXPECT_EQ(lxc_km.substr(lxc_plain.size()), vm_km.substr(vm_plain.size()))
      << "the same source build on both backends";
  EXPECT_NE(vm_km.find("file proj-1.0.tar.gz " + sha_), std::string::npos);
  EXPECT_NE(vm_km.find("/testbed/vm-init"), std::string::npos);
  EXPECT_EQ(lxc_km.find("/testbed/vm-init"), std::string::npos);
  auto lk = cache_key(*r, *lxc), vk = cache_key(*r, *vm);
  ASSERT_TRUE(lk.ok() && vk.ok());
  EXPECT_NE(*lk, *vk);
  EXPECT_NE(*vk, *cache_key(*r, VmBuilder(cache / ".downloads"))) << "source and plain differ";

  // A recipe without vm: the vm source builder refuses it before touching anything.
  auto lxc_only = parse(recipe_text(sha_));
  ASSERT_TRUE(lxc_only.ok());
  fs::create_directories(tmp_ / "work");
  auto res = SourceBuilder(cache, config::BackendKind::kVm).build(*lxc_only, tmp_ / "work", {});
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("recipe 'proj' has no vm backend (its backends: lxc)"),
            std::string::npos)
      << res.error().message;
  EXPECT_TRUE(fs::is_empty(tmp_ / "work"));
  EXPECT_FALSE(fs::exists(cache));
}

// A source image built from a `file` tarball stays the current build when the host no
// longer has the file (nothing needs building); without that build the key falls to the
// url entry, which a build would download.
TEST_F(SourceBuildTest, ABuiltImageOutlivesItsTarballFile) {
  std::string text = edit(recipe_text(sha_), "  patches:",
                          "    - url: https://example.invalid/proj-1.0.tar.gz\n"
                          "      sha256: " + std::string(64, 'b') + "\n  patches:");
  auto r = parse(text);
  ASSERT_TRUE(r.ok()) << r.error().message;
  SourceBuilder b(tmp_ / "cache");
  auto with_file = cache_key(*r, b);
  ASSERT_TRUE(with_file.ok());
  fs::remove(sources_ / "proj-1.0.tar.gz");
  auto without = cache_key(*r, b);
  ASSERT_TRUE(without.ok());
  EXPECT_NE(*without, *with_file) << "nothing built: the url entry keys the build";
  EXPECT_NE(b.key_material(*r).find("tarball url https://example.invalid/proj-1.0.tar.gz"),
            std::string::npos);
  // The image built from the file is in the cache: it keys the image again.
  write(tmp_ / "cache" / "proj" / *with_file / "manifest.json", "{}");
  EXPECT_EQ(*cache_key(*r, b), *with_file);
  EXPECT_TRUE(is_cached(*r, b, tmp_ / "cache"));
}

// A tarball whose digest differs from the recipe's: refused before anything is built,
// and the cache holds nothing of the image afterwards.
TEST_F(SourceBuildTest, Sha256MismatchPublishesNothing) {
  std::string wrong(64, 'a');
  auto r = parse(recipe_text(wrong));
  ASSERT_TRUE(r.ok()) << r.error().message;
  fs::path cache = tmp_ / "cache";
  SourceBuilder b(cache);
  auto res = build_image(*r, b, cache, false);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("has sha256 " + sha_ + " but the recipe says " + wrong),
            std::string::npos)
      << res.error().message;
  EXPECT_NE(res.error().message.find("refusing to build"), std::string::npos);
  auto listed = list_images(cache);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_FALSE(fs::exists(cache / "proj" / "current"));
  // Nothing left in the build area either.
  std::error_code ec;
  size_t left = 0;
  for (auto it = fs::directory_iterator(cache / ".tmp", ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++left;
  EXPECT_EQ(left, 0u);
}

}  // namespace
}  // namespace testbed::images
