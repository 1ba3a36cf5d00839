// `testbed image build` with KVM recipes, without a network: a download that cannot
// happen fails with what to do; an image file placed where the error says builds
// offline into the cache (its `expect` deferred to first boot); --all/--backend choose
// recipes by backend. The cloud image URL points at a closed loopback port.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/subprocess.h"

namespace testbed {
namespace {

namespace fs = std::filesystem;

std::string recipe(const std::string& name, const std::string& digest) {
  return "name: " + name +
         "\n"
         "description: test KVM scanner\n"
         "role: scanner\n"
         "backends: [kvm]\n"
         "base:\n"
         "  cloud_image: https://127.0.0.1:9/focal-test.img\n"
         "  sha256: " +
         digest +
         "\n"
         "packages: [nmap]\n"
         "expect:\n"
         "  nmap_version: \"7.80\"\n";
}

util::ProcessResult testbed(const fs::path& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {std::string(TESTBED_BINARY_DIR) + "/testbed", "image"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = util::run_process(argv, {.cwd = dir.string()});
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : util::ProcessResult{};
}

TEST(KvmImageCli, OfflineBuildFailsWithWhatToDoThenBuildsFromAPlacedFile) {
  auto tmp = util::TempDir::create("kvm-cli");
  ASSERT_TRUE(tmp);
  fs::path dir = tmp->path();
  fs::create_directories(dir / "recipes");
  fs::path img = dir / "focal-test.img";
  ASSERT_TRUE(util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", img.string(), "16M"}));
  auto digest = util::sha256_file(img);
  ASSERT_TRUE(digest);
  ASSERT_TRUE(util::write_file_atomic(dir / "recipes/kvm-scan.yaml", recipe("kvm-scan", *digest)));
  ASSERT_TRUE(util::write_file_atomic(dir / "recipes/lxc-only.yaml",
                                      "name: lxc-only\ndescription: x\nrole: target\n"
                                      "backends: [lxc]\nbase: {suite: bookworm}\n"));
  std::vector<std::string> where = {"--recipes", "recipes", "--cache", "cache"};
  auto with = [&](std::vector<std::string> a) {
    a.insert(a.end(), where.begin(), where.end());
    return a;
  };

  // No network to the cloud image server: the error says what to do.
  auto r = testbed(dir, with({"build", "kvm-scan"}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot download the cloud image"), std::string::npos) << r.err;
  std::string placed = "cache/.downloads/" + digest->substr(0, 16) + "-focal-test.img";
  EXPECT_NE(r.err.find(placed), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("build on a host that can"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "cache/kvm-scan/current-vm"));

  // The file placed where the message says: built offline, the nmap check deferred.
  std::error_code ec;
  fs::copy_file(img, dir / placed, ec);
  ASSERT_FALSE(ec) << ec.message();
  r = testbed(dir, with({"build", "kvm-scan"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("kvm-scan"), std::string::npos) << r.out;
  auto manifest = util::read_file(dir / "cache/kvm-scan/current-vm/manifest.json");
  ASSERT_TRUE(manifest);
  auto m = nlohmann::json::parse(*manifest);
  EXPECT_EQ(m.value("backend", ""), "vm");
  EXPECT_EQ(m["vm"].value("boot", ""), "cloud-init");
  EXPECT_EQ(m.value("expect_checked", ""), "at first boot");
  EXPECT_TRUE(fs::exists(dir / "cache/kvm-scan/current-vm/base.qcow2"));
  EXPECT_TRUE(fs::exists(dir / "cache/kvm-scan/current-vm/recipe-cloud-config.yaml"));

  // --all --backend kvm: the kvm recipes only (cached now); --backend lxc on a kvm-only
  // recipe is a bad request.
  r = testbed(dir, with({"build", "--all", "--backend", "kvm"}));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("cached"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("lxc-only"), std::string::npos) << r.out;
  r = testbed(dir, with({"build", "--backend", "lxc", "kvm-scan"}));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("has no lxc image"), std::string::npos) << r.err;
  auto list = testbed(dir, {"list", "--json", "--cache", "cache"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto l = nlohmann::json::parse(list.out);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].value("backend", ""), "vm");
}

}  // namespace
}  // namespace testbed
