// Recipe loading: located errors, unknown keys, backend-specific base fields, and every
// recipe shipped in images/ loads.
#include "orchestrator/config/recipe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "orchestrator/util/files.h"

namespace testbed::config {
namespace {
namespace fs = std::filesystem;

constexpr const char* kMinimal = R"(name: scan
role: scanner
backends: [lxc]
base:
  suite: bookworm
packages: [nmap]
expect:
  nmap_version: "7.93"
)";

util::Result<Recipe> parse(const std::string& text, const std::string& file = "/r/scan.yaml") {
  return parse_recipe(text, file);
}

std::string errors_of(const std::string& text, const std::string& file = "/r/scan.yaml") {
  auto r = parse(text, file);
  EXPECT_FALSE(r.ok()) << "expected errors for:\n" << text;
  return r.ok() ? "" : r.error().message;
}

TEST(Recipe, MinimalLxcRecipe) {
  auto r = parse(kMinimal);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "scan");
  EXPECT_EQ(r->role, "scanner");
  EXPECT_TRUE(r->supports(config::BackendKind::kLxc));
  EXPECT_FALSE(r->supports(config::BackendKind::kVm));
  EXPECT_EQ(r->base.suite, "bookworm");
  EXPECT_EQ(r->packages, std::vector<std::string>{"nmap"});
  EXPECT_EQ(r->expect.nmap_version, "7.93");
  EXPECT_EQ(r->text, kMinimal);
}

TEST(Recipe, UnknownKeysAreLocatedWithSuggestion) {
  std::string text = std::string(kMinimal) + "pakages: [curl]\n";
  std::string e = errors_of(text);
  EXPECT_EQ(e, "/r/scan.yaml:9:1: unknown key 'pakages' in recipe (did you mean 'packages'?)");
}

TEST(Recipe, UnknownNestedKeyInService) {
  std::string text = std::string(kMinimal) +
                     "services:\n  - name: web\n    start: apache2ctl start\n    lgo: /x.log\n";
  std::string e = errors_of(text);
  EXPECT_NE(e.find("/r/scan.yaml:12:5: unknown key 'lgo' in services[0] (did you mean 'log'?)"),
            std::string::npos)
      << e;
}

TEST(Recipe, WrongSuiteSuggestsNearest) {
  std::string text = kMinimal;
  text.replace(text.find("bookworm"), 8, "bookwrom");
  std::string e = errors_of(text);
  EXPECT_NE(e.find("/r/scan.yaml:5:10:"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'bookworm'"), std::string::npos) << e;
}

TEST(Recipe, NameMustMatchFile) {
  std::string e = errors_of(kMinimal, "/r/other.yaml");
  EXPECT_NE(e.find("/r/other.yaml:1:7: name 'scan' must match the file name"), std::string::npos)
      << e;
}

TEST(Recipe, AllProblemsReportedAtOnce) {
  std::string e = errors_of(R"(name: scan
role: attacker
backends: [lxd]
base: {}
health:
  - name: x
    command: "true"
    timeout: 0
    service: nope
)");
  EXPECT_NE(e.find("2:7: 'role' in recipe is 'attacker'"), std::string::npos) << e;
  EXPECT_NE(e.find("3:11: backend 'lxd' must be lxc or vm (did you mean 'lxc'?)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("timeout 0 must be 1..600"), std::string::npos) << e;
  EXPECT_NE(e.find("names service 'nope'"), std::string::npos) << e;
}

TEST(Recipe, ExpectNmapNeedsNmapPackage) {
  std::string text = kMinimal;
  text.replace(text.find("[nmap]"), 6, "[curl]");
  EXPECT_NE(errors_of(text).find("expect.nmap_version needs 'nmap' in packages"),
            std::string::npos);
}

TEST(Recipe, LxcNeedsSuiteAndRefusesKvmFields) {
  std::string e = errors_of(R"(name: scan
role: scanner
backends: [lxc]
base:
  cloud_image: https://example.invalid/x.img
)");
  EXPECT_NE(e.find("5:16: an lxc recipe's base is a Debian 'suite'; cloud_image is only for "
                   "vm-only recipes"),
            std::string::npos)
      << e;
  // No base at all: the suite is named, and the cloud image as the vm-only alternative.
  e = errors_of("name: scan\nrole: scanner\nbackends: [lxc, vm]\nbase: {}\n");
  EXPECT_NE(e.find("the base needs 'suite'"), std::string::npos) << e;
  // A vm recipe on a Debian suite is built here (VmBuilder): no cloud-image keys.
  e = errors_of("name: scan\nrole: scanner\nbackends: [vm]\nbase:\n  suite: bookworm\n  sha256: " +
                std::string(64, 'a') + "\n");
  EXPECT_NE(e.find("sha256 is only for a cloud_image base"), std::string::npos) << e;
  auto both = parse("name: scan\nrole: scanner\nbackends: [lxc, kvm]\nbase:\n  suite: bookworm\n");
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->backends,
            (std::vector<config::BackendKind>{config::BackendKind::kLxc, config::BackendKind::kVm}))
      << "kvm is read as vm";
  EXPECT_TRUE(both->supports(config::BackendKind::kVm) &&
              both->supports(config::BackendKind::kLxc) && !both->cloud());
}

TEST(Recipe, KvmBaseNeedsUrlAndExactlyOneDigest) {
  const std::string head = "name: scan\nrole: scanner\nbackends: [kvm]\nbase:\n";
  auto ok = parse(head + "  cloud_image: https://example.invalid/x.img\n  sha256: " +
                  std::string(64, 'a') + "\n");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->base.sha256, std::string(64, 'a'));

  EXPECT_NE(errors_of(head + "  cloud_image: https://example.invalid/x.img\n  sha256: ABC\n")
                .find("6:11: sha256 'ABC' must be 64 lower-case hex digits"),
            std::string::npos);
  EXPECT_NE(errors_of(head + "  cloud_image: http://example.invalid/x.img\n  sha256sums: "
                             "https://example.invalid/SHA256SUMS\n")
                .find("must be an https:// URL"),
            std::string::npos);
  EXPECT_NE(errors_of(head + "  cloud_image: https://example.invalid/x.img\n")
                .find("exactly one of 'sha256'"),
            std::string::npos);
  EXPECT_NE(errors_of(head + "  suite: bullseye\n  cloud_image: https://e.invalid/x.img\n"
                             "  sha256sums: https://e.invalid/S\n")
                .find("give either 'suite' (a Debian root built here) or 'cloud_image', not both"),
            std::string::npos);
}

TEST(Recipe, FilesNeedExactlyOneOfContentOrSourceAndStayInside) {
  auto dir = util::TempDir::create("recipe-test");
  ASSERT_TRUE(dir.ok());
  std::ofstream(dir->path() / "page.php") << "<?php echo 1;";
  fs::path file = dir->path() / "scan.yaml";
  std::string base = std::string(kMinimal) + "files:\n";

  auto good = parse_recipe(base +
                               "  - path: /var/www/html/index.php\n    source: page.php\n"
                               "    mode: \"0640\"\n",
                           file);
  ASSERT_TRUE(good.ok()) << good.error().message;
  ASSERT_EQ(good->files.size(), 1u);
  EXPECT_EQ(good->files[0].source, dir->path() / "page.php");
  EXPECT_EQ(good->files[0].mode, 0640u);

  auto both = parse_recipe(base + "  - path: /x\n    source: page.php\n    content: hi\n", file);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("exactly one of 'content' or 'source'"), std::string::npos);

  auto escape = parse_recipe(base + "  - path: /x\n    source: ../../etc/passwd\n", file);
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(escape.error().message.find("leaves its directory"), std::string::npos)
      << escape.error().message;

  auto missing = parse_recipe(base + "  - path: /x\n    source: nothere.txt\n", file);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);

  auto relative = parse_recipe(base + "  - path: etc/x\n    content: hi\n", file);
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().message.find("must be absolute"), std::string::npos);

  auto dotdot = parse_recipe(base + "  - path: /etc/../root/x\n    content: hi\n", file);
  ASSERT_FALSE(dotdot.ok());
}

TEST(Recipe, ServiceLogDefaultsAndDuplicates) {
  auto r = parse(std::string(kMinimal) + "services:\n  - name: web\n    start: run-web\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->services[0].log, "/var/log/testbed/web.log");
  std::string e = errors_of(std::string(kMinimal) +
                            "services:\n  - {name: web, start: a}\n  - {name: web, start: b}\n");
  EXPECT_NE(e.find("service 'web' is listed twice"), std::string::npos) << e;
}

TEST(Recipe, BadPackageNameRefused) {
  std::string text = kMinimal;
  text.replace(text.find("[nmap]"), 6, "[nmap, 'x; rm -rf /']");
  std::string e = errors_of(text);
  EXPECT_NE(e.find("is not a Debian package name"), std::string::npos) << e;
}

TEST(Recipe, SyntaxErrorLocated) {
  std::string e = errors_of("name: scan\npackages: [nmap\n");
  EXPECT_NE(e.find("/r/scan.yaml:"), std::string::npos);
  EXPECT_NE(e.find("syntax"), std::string::npos);
}

TEST(Recipe, ShippedRecipesAllLoad) {
  auto all = load_recipe_dir(fs::path(TESTBED_SOURCE_DIR) / "images");
  ASSERT_TRUE(all.ok()) << all.error().message;
  std::vector<std::string> names;
  for (const auto& r : *all) names.push_back(r.name);
  for (const char* want :
       {"router", "scanner-nmap-7.80", "scanner-nmap-7.93", "scanner-nmap-7.95",
        "scanner-nmap-7.991", "target-lamp-ftp", "ubuntu-scanner-nmap-7.01",
        "ubuntu-scanner-nmap-7.60", "ubuntu-scanner-nmap-7.80", "ubuntu-target-lamp-ftp",
        "scanner-masscan", "scanner-zmap"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
  for (const auto& r : *all) {
    if (r.role == "scanner" && r.name.find("nmap") == std::string::npos) {
      // Other scanner kinds (scanner-masscan, scanner-zmap) pin their Debian package.
      const std::string tool = r.name.substr(r.name.rfind('-') + 1);
      EXPECT_TRUE(r.expect.packages.count(tool)) << r.name << " must pin its " << tool << " package";
    } else if (r.role == "scanner") {
      EXPECT_FALSE(r.expect.nmap_version.empty()) << r.name << " must pin its Nmap version";
      if (r.source.empty())
        EXPECT_EQ(r.name.substr(r.name.rfind('-') + 1), r.expect.nmap_version) << r.name;
      else  // a trunk snapshot says "7.01SVN"
        EXPECT_EQ(r.expect.nmap_version.rfind(r.name.substr(r.name.rfind('-') + 1), 0), 0u)
            << r.name;
    }
    if (r.cloud()) {
      EXPECT_TRUE(r.base.cloud_image.rfind("https://cloud-images.ubuntu.com/releases/", 0) == 0)
          << r.name;
      EXPECT_FALSE(r.supports(config::BackendKind::kLxc)) << r.name;
    }
    if (r.base.suite == "sid") {
      ASSERT_EQ(r.base.apt_options.size(), 1u) << r.name;
      EXPECT_EQ(r.base.apt_options[0], "Acquire::Check-Valid-Until \"false\"");
    }
  }
}

TEST(Recipe, LoadNamedSuggestsNearest) {
  auto r = load_recipe_named(fs::path(TESTBED_SOURCE_DIR) / "images", "scanner-nmap-7.8");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("did you mean 'scanner-nmap-7.80'"), std::string::npos)
      << r.error().message;
  EXPECT_FALSE(load_recipe_named(fs::path(TESTBED_SOURCE_DIR) / "images", "../etc").ok());
}

}  // namespace
}  // namespace testbed::config
