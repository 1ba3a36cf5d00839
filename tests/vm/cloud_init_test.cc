// cloud-init data for the KVM recipes: golden user-data / meta-data / network-config per
// Ubuntu recipe, each user-data checked by cloud-init's own schema validator and each
// network-config rendered by cloud-init's own converter; the seed ISO's contents.
#include <gtest/gtest.h>

#include <filesystem>

#include "orchestrator/config/recipe.h"
#include "orchestrator/backends/vm/cloud_init.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/vm/golden.h"

namespace testbed::images {
using backends::vm::NodeSeed;
using backends::vm::kCloudInitDoneMarker;
using backends::vm::make_meta_data;
using backends::vm::make_network_config;
using backends::vm::make_user_data;
using backends::vm::recipe_cloud_config;
using backends::vm::write_seed_iso;
namespace {

namespace fs = std::filesystem;

const fs::path kImages = fs::path(TESTBED_SOURCE_DIR) / "images";

// Deterministic stand-ins for the keys the lab generates (cloud-init only stores them).
NodeSeed sample_seed(const std::string& node) {
  NodeSeed s;
  s.hostname = node;
  s.instance_id = "tb-study-" + node + "-1";
  s.lab_public_key =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeLabKeyForGoldenFilesOnly00000000000 testbed-lab";
  s.host_key_private =
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAfakehostkey\n"
      "-----END OPENSSH PRIVATE KEY-----\n";
  s.host_key_public =
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeHostKey000000000000000000000000000 " + node;
  s.interfaces.push_back({"mgmt", "02:7b:11:22:33:44", {"10.255.0.11/24"}, {}});
  s.interfaces.push_back(
      {"scan", "02:7b:55:66:77:88", {"172.24.0.10/24"}, {{"172.24.1.0/24", "172.24.0.1"}}});
  s.files["/testbed/node.env"] = {"NODE_NAME=" + node + "\nSCAN_ADDRESS=172.24.0.10\n", 0644};
  s.facts = {{"NODE_NAME", node}};
  return s;
}

struct Generated {
  std::string user_data, meta_data, network_config;
};

Generated generate(const std::string& recipe_name) {
  auto r = config::load_recipe_named(kImages, recipe_name);
  EXPECT_TRUE(r) << r.error().message;
  auto part = recipe_cloud_config(*r);
  EXPECT_TRUE(part) << part.error().message;
  auto seed = sample_seed(r->role == "scanner" ? "scanner" : "target1");
  return {make_user_data(*part, seed), make_meta_data(seed), make_network_config(seed)};
}

std::vector<std::string> kvm_recipes() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kImages)) {
    if (e.path().extension() != ".yaml") continue;
    auto r = config::load_recipe(e.path());
    if (r && r->cloud()) names.push_back(r->name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

util::ProcessResult schema_check(const std::string& user_data) {
  auto dir = util::TempDir::create("kvm-schema");
  EXPECT_TRUE(dir);
  auto f = dir->path() / "user-data";
  EXPECT_TRUE(util::write_file_atomic(f, user_data));
  auto r = util::run_process({"cloud-init", "schema", "--config-file", f.string()});
  EXPECT_TRUE(r) << r.error().message;
  return *r;
}

TEST(KvmCloudInit, EveryKvmRecipeHasGoldenSeedDataThatCloudInitAccepts) {
  auto names = kvm_recipes();
  // The study's four images (issue 4): three scanners and the LAMP + FTP target.
  ASSERT_GE(names.size(), 4u);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    auto g = generate(name);
    kvm_test::expect_golden(name + ".user-data", g.user_data);
    kvm_test::expect_golden(name + ".meta-data", g.meta_data);
    kvm_test::expect_golden(name + ".network-config", g.network_config);
    auto res = schema_check(g.user_data);
    EXPECT_EQ(res.exit_code, 0) << res.out << res.err;
    EXPECT_NE(res.out.find("Valid cloud-config"), std::string::npos) << res.out << res.err;
    // testbed_templates is ours (rendered into write_files), never cloud-init's.
    EXPECT_EQ(g.user_data.find("testbed_templates"), std::string::npos);
  }
}

TEST(KvmCloudInit, SchemaCheckRejectsABadUserData) {
  // The check above can fail: an integer permission is what a naive emitter produces.
  auto res = schema_check("#cloud-config\nwrite_files:\n- path: /x\n  permissions: 0644\n");
  EXPECT_NE(res.exit_code, 0);
}

TEST(KvmCloudInit, UserDataCarriesKeysPackagesFilesAndServicesInOrder) {
  auto r = config::load_recipe_named(kImages, "ubuntu-target-lamp-ftp");
  ASSERT_TRUE(r) << r.error().message;
  auto part = recipe_cloud_config(*r);
  ASSERT_TRUE(part);
  auto ud = make_user_data(*part, sample_seed("target1"));
  YAML::Node n = YAML::Load(ud);
  EXPECT_EQ(ud.rfind("#cloud-config\n", 0), 0u);
  EXPECT_FALSE(n["disable_root"].as<bool>());
  EXPECT_FALSE(n["ssh_pwauth"].as<bool>());
  EXPECT_TRUE(n["ssh_deletekeys"].as<bool>());
  EXPECT_NE(n["ssh_keys"]["ed25519_private"].as<std::string>().find("OPENSSH PRIVATE KEY"),
            std::string::npos);
  EXPECT_EQ(n["ssh_authorized_keys"][0].as<std::string>().rfind("ssh-ed25519 ", 0), 0u);
  std::vector<std::string> pkgs;
  for (const auto& p : n["packages"]) pkgs.push_back(p.as<std::string>());
  EXPECT_NE(std::find(pkgs.begin(), pkgs.end(), "mysql-server"), pkgs.end());
  // index.php comes from the recipe's source file, the node file from the lab.
  bool php = false, env = false;
  for (const auto& f : n["write_files"]) {
    auto path = f["path"].as<std::string>();
    if (path == "/var/www/html/index.php") php = true;
    if (path == "/testbed/node.env")
      env = f["content"].as<std::string>().find("NODE_NAME=target1") != std::string::npos;
    EXPECT_EQ(f["permissions"].as<std::string>().substr(0, 1), "0");
  }
  EXPECT_TRUE(php);
  EXPECT_TRUE(env);
  // Build commands first, then services in recipe order, then the done marker.
  std::vector<std::string> run;
  for (const auto& c : n["runcmd"]) run.push_back(c.as<std::string>());
  ASSERT_EQ(run.size(), r->build.size() + r->services.size() + 1);
  EXPECT_EQ(run[0], r->build[0]);
  EXPECT_NE(run[r->build.size()].find("systemctl restart mysql"), std::string::npos);
  EXPECT_NE(run.back().find(kCloudInitDoneMarker), std::string::npos);
}

TEST(KvmCloudInit, TemplatedFilesAreRenderedWithNodeFacts) {
  auto r = config::parse_recipe(
      "name: t\nrole: scanner\nbackends: [kvm]\nbase:\n  cloud_image: "
      "https://example.invalid/a.img\n"
      "  sha256: 0000000000000000000000000000000000000000000000000000000000000000\n"
      "files:\n  - path: /etc/motd\n    content: \"node {{NODE_NAME}}\\n\"\n    template: true\n",
      "/tmp/t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  auto part = recipe_cloud_config(*r);
  ASSERT_TRUE(part);
  auto ud = make_user_data(*part, sample_seed("scanner"));
  EXPECT_NE(ud.find("node scanner"), std::string::npos) << ud;
  EXPECT_EQ(ud.find("{{NODE_NAME}}"), std::string::npos) << ud;
}

TEST(KvmCloudInit, NetworkConfigRendersToNetworkdWithCloudInitsConverter) {
  auto seed = sample_seed("scanner");
  seed.interfaces[0].mac = "02:11:22:33:44:55";  // all digits: a YAML 1.1 base-60 trap
  auto dir = util::TempDir::create("kvm-net");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(util::write_file_atomic(dir->path() / "nc.yaml", make_network_config(seed)));
  auto r = util::run_process({"cloud-init", "devel", "net-convert", "-p",
                              (dir->path() / "nc.yaml").string(), "-k", "yaml", "-d",
                              (dir->path() / "out").string(), "-D", "debian", "-O", "networkd"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->exit_code, 0) << r->err;
  std::string all;
  for (const auto& e : fs::recursive_directory_iterator(dir->path() / "out"))
    if (e.is_regular_file()) all += *util::read_file(e.path());
  EXPECT_NE(all.find("MACAddress=02:11:22:33:44:55"), std::string::npos) << all;
  EXPECT_NE(all.find("Name=mgmt"), std::string::npos) << all;
  EXPECT_NE(all.find("Address=172.24.0.10/24"), std::string::npos) << all;
  EXPECT_NE(all.find("Gateway=172.24.0.1"), std::string::npos) << all;
  EXPECT_NE(all.find("DHCP=no"), std::string::npos) << all;
  // No default route: the lab has no way out.
  EXPECT_EQ(all.find("Destination=0.0.0.0/0"), std::string::npos) << all;
}

TEST(KvmSeed, IsoIsLabelledCidataAndHoldsTheThreeFiles) {
  auto g = generate("ubuntu-scanner-nmap-7.80");
  auto dir = util::TempDir::create("kvm-seed");
  ASSERT_TRUE(dir);
  auto iso = dir->path() / "node" / "seed.iso";
  auto s = write_seed_iso(iso, g.user_data, g.meta_data, g.network_config);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(fs::exists(iso.string() + ".part"));
  auto out = dir->path() / "extracted";
  auto x = util::run_checked(
      {"xorriso", "-osirrox", "on", "-indev", iso.string(), "-extract", "/", out.string()});
  ASSERT_TRUE(x) << x.error().message;
  EXPECT_EQ(*util::read_file(out / "user-data"), g.user_data);
  EXPECT_EQ(*util::read_file(out / "meta-data"), g.meta_data);
  EXPECT_EQ(*util::read_file(out / "network-config"), g.network_config);
  // NoCloud finds the seed by its volume label.
  auto pvd = util::run_checked({"xorriso", "-indev", iso.string(), "-pvd_info"});
  ASSERT_TRUE(pvd) << pvd.error().message;
  EXPECT_NE((pvd->out + pvd->err).find("Volume Id    : cidata"), std::string::npos)
      << pvd->out << pvd->err;
}

}  // namespace
}  // namespace testbed::images
