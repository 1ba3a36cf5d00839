#include "orchestrator/config/experiment.h"

#include <gtest/gtest.h>

#include <map>

#include "orchestrator/util/files.h"

namespace testbed::config {
namespace {
namespace fs = std::filesystem;

class ExperimentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = util::TempDir::create("testbed-exp");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<util::TempDir>(std::move(*d));
    ASSERT_TRUE(util::write_file_atomic(dir_->path() / "topo.yaml", "name: t\n").ok());
  }
  util::Result<Experiment> load(const std::string& text) {
    fs::path p = dir_->path() / "exp.yaml";
    EXPECT_TRUE(util::write_file_atomic(p, text).ok());
    return load_experiment(p.string());
  }
  std::unique_ptr<util::TempDir> dir_;
};

constexpr const char* kGood = R"(name: study
topology: topo.yaml
scanners:
  - {label: "7.80", image: scanner-nmap-7.80}
  - {label: "7.95", image: scanner-nmap-7.95}
command: [nmap, -T4, -A, -v, -oX, "{xml}", "{targets}"]
repetitions: 2
capture: {snaplen: 65535, grace_seconds: 1.5}
analysis:
  key_fields: [ttl]
  similarity: {tcp: {max_length_diff: 4}}
)";

TEST_F(ExperimentTest, LoadsGoodFile) {
  auto e = load(kGood);
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->name, "study");
  ASSERT_EQ(e->scanners.size(), 2u);
  EXPECT_EQ(e->scanners[1].image, "scanner-nmap-7.95");
  EXPECT_EQ(e->repetitions, 2);
  EXPECT_EQ(e->capture.snaplen, 65535);
  EXPECT_DOUBLE_EQ(e->capture.grace_seconds, 1.5);
  EXPECT_EQ(e->analysis.similarity.at("tcp").max_length_diff, 4);
  EXPECT_FALSE(e->analysis.similarity.at("tcp").min_common_block.has_value());
  EXPECT_EQ(e->topology, (dir_->path() / "topo.yaml").lexically_normal());
  EXPECT_EQ(e->sha256.size(), 64u);
}

TEST_F(ExperimentTest, ShippedExperimentsLoad) {
  for (const char* f : {"nmap7.yaml", "ci-smoke.yaml"}) {
    std::string p = std::string(TESTBED_SOURCE_DIR) + "/experiments/" + f;
    auto e = load_experiment(p);
    // The topology files come with the lab module; everything else must be valid.
    if (!e.ok()) {
      EXPECT_EQ(e.error().message.find("\n"), std::string::npos) << e.error().message;
      EXPECT_NE(e.error().message.find("topology file"), std::string::npos) << e.error().message;
    }
  }
}

TEST_F(ExperimentTest, CollectsAllErrorsWithLocations) {
  auto e = load(R"(name: study
topology: missing.yaml
scaners: []
command: [nmap, -iL, hosts.txt, "{xml}", "{targets}"]
repetitions: 0
capture: {snaplen: 10}
analysis: {key_fields: [ttll]}
)");
  ASSERT_FALSE(e.ok());
  const std::string& m = e.error().message;
  EXPECT_NE(m.find("exp.yaml:2:11: topology file 'missing.yaml' does not exist"), std::string::npos) << m;
  EXPECT_NE(m.find("needs key 'scanners'"), std::string::npos) << m;
  EXPECT_NE(m.find("exp.yaml:3:1: unknown key 'scaners' in experiment (did you mean 'scanners'?)"),
            std::string::npos) << m;
  EXPECT_NE(m.find("repetitions is 0"), std::string::npos) << m;
  EXPECT_NE(m.find("snaplen 10"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'ttl'"), std::string::npos) << m;
}

TEST_F(ExperimentTest, IdsIsOffByDefaultAndItsRulesFileMustExist) {
  auto plain = load(kGood);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE(plain->ids.enabled);
  EXPECT_FALSE(plain->ids.rules);
  ASSERT_TRUE(util::write_file_atomic(dir_->path() / "x.rules", "# none\n").ok());
  auto on = load(std::string(kGood) + "ids: {enabled: true, rules: x.rules}\n");
  ASSERT_TRUE(on.ok()) << on.error().message;
  EXPECT_TRUE(on->ids.enabled);
  EXPECT_EQ(on->ids.rules->filename(), "x.rules");
  auto missing = load(std::string(kGood) + "ids:\n  enabled: true\n  rules: nosuch.rules\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("exp.yaml:14:"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("testbed signatures"), std::string::npos);
  auto typo = load(std::string(kGood) + "ids: {enable: true}\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("enabled"), std::string::npos) << typo.error().message;
}

// `retries:` (runs redone after the scanner died of a signal): 1 by default, 0..5.
TEST_F(ExperimentTest, RetriesDefaultToOneAndAreBounded) {
  auto plain = load(kGood);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->retries, 1);
  auto none = load(std::string(kGood) + "retries: 0\n");
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(none->retries, 0);
  auto many = load(std::string(kGood) + "retries: 9\n");
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.error().message.find("exp.yaml:12:"), std::string::npos) << many.error().message;
  EXPECT_NE(many.error().message.find("retries is 9; it must be 0..5"), std::string::npos)
      << many.error().message;
}

TEST_F(ExperimentTest, DuplicateLabelsRefused) {
  auto e = load(R"(name: s
topology: topo.yaml
scanners: [{label: a, image: x}, {label: a, image: y}]
command: [nmap, -oX, "{xml}", "{targets}"]
)");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("label 'a' is used twice"), std::string::npos);
}

// The scope guard needs the topology and lives in scanners/ (tests/scanners); the loader
// keeps where each argument is, so the guard's refusals point at it.
TEST_F(ExperimentTest, CommandArgumentLocationsAreKept) {
  auto e = load(R"(name: s
topology: topo.yaml
scanners: [{label: a, image: x}]
command: [nmap, -S10.9.9.9,
          "-oX", "{xml}", "{targets}"]
)");
  ASSERT_TRUE(e.ok()) << e.error().message;
  ASSERT_EQ(e->command_where.size(), 5u);
  EXPECT_NE(e->command_where[1].find("exp.yaml:4:17"), std::string::npos) << e->command_where[1];
  EXPECT_NE(e->command_where[2].find("exp.yaml:5:11"), std::string::npos) << e->command_where[2];
  EXPECT_FALSE(load("name: s\ntopology: topo.yaml\nscanners: [{label: a, image: x}]\ncommand: []\n").ok());
}

TEST(Command, ExpandsPlaceholders) {
  auto r = expand_command({"nmap", "-oX", "{xml}", "{targets}"}, {{"output", "/tmp/r.xml"}},
                          {"172.24.1.0/24", "10.0.0.1"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"nmap", "-oX", "/tmp/r.xml", "172.24.1.0/24", "10.0.0.1"}));
  EXPECT_FALSE(expand_command({"nmap", "{oops}"}, {{"output", "x"}}, {}).ok());
  // Lab placeholders, whole or inside an argument; {targets} only whole; a value missing.
  auto m = expand_command({"masscan", "--router-mac={router_mac}", "-e", "{scan_interface}",
                           "-oL", "{output}", "--adapter-ip", "{source_ip}", "{targets}"},
                          {{"output", "/root/o.txt"},
                           {"router_mac", "02:00:00:00:00:01"},
                           {"scan_interface", "scan"},
                           {"source_ip", "172.24.0.10"}},
                          {"172.24.1.10"});
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(*m, (std::vector<std::string>{"masscan", "--router-mac=02:00:00:00:00:01", "-e",
                                          "scan", "-oL", "/root/o.txt", "--adapter-ip",
                                          "172.24.0.10", "172.24.1.10"}));
  EXPECT_FALSE(expand_command({"zmap", "-G", "{router_mac}"}, {{"output", "x"}}, {}).ok());
  EXPECT_FALSE(expand_command({"zmap", "x{targets}"}, {{"output", "x"}}, {"1.2.3.4"}).ok());
  EXPECT_FALSE(expand_command({"zmap", "{output"}, {{"output", "x"}}, {}).ok());
}

// node_images / hosts / uri: which image each lab node boots on KVM, and the lab hosts.
class LabKeysTest : public ExperimentTest {
 protected:
  util::Result<Experiment> load_with(const std::string& extra) {
    return load(std::string("name: study\ntopology: ") + TESTBED_SOURCE_DIR +
                "/topology/two-subnet.yaml\n"
                "scanners: [{label: \"7.80\", image: ubuntu-scanner-nmap-7.80}]\n"
                "command: [nmap, -oX, \"{xml}\", \"{targets}\"]\n" +
                extra);
  }
};

TEST_F(LabKeysTest, NodeImagesExpandCountGroupsToNodeNames) {
  auto e = load_with(
      "backend: kvm\nnode_images: {router: kvm-router, target: ubuntu-target-lamp-ftp}\n");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->node_images,
            (std::map<std::string, std::string>{{"router", "kvm-router"},
                                                {"target1", "ubuntu-target-lamp-ftp"},
                                                {"target2", "ubuntu-target-lamp-ftp"},
                                                {"target3", "ubuntu-target-lamp-ftp"}}));
  // A single copy by its own name.
  e = load_with("node_images: {target2: other-target}\n");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->node_images, (std::map<std::string, std::string>{{"target2", "other-target"}}));
  // None given: the topology's images, nothing overridden.
  e = load_with("");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_TRUE(e->node_images.empty());
}

TEST_F(LabKeysTest, NodeImagesProblemsAreLocated) {
  auto e = load_with(
      "node_images:\n  routr: kvm-router\n  scanner: ubuntu-scanner-nmap-7.80\n"
      "  target: Bad/Name\n  targe: x\n");
  ASSERT_FALSE(e.ok());
  const std::string& m = e.error().message;
  EXPECT_NE(m.find("exp.yaml:6:3: node_images: topology 'two-subnet' has no node or count group "
                   "'routr'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("did you mean 'router'?"), std::string::npos) << m;
  EXPECT_NE(m.find("exp.yaml:7:3: node_images: 'scanner' is the scanner; its image comes from "
                   "`scanners:`"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("exp.yaml:8:11: node_images: 'Bad/Name' is not an image name"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("exp.yaml:9:3: node_images: topology 'two-subnet' has no node or count group "
                   "'targe'"),
            std::string::npos)
      << m;
  e = load_with("node_images: [router]\n");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("exp.yaml:5:14: 'node_images' in experiment must be a mapping"),
            std::string::npos)
      << e.error().message;
}

TEST_F(LabKeysTest, NodeImagesNeedALoadableTopology) {
  // The fixture's topo.yaml is not a valid topology.
  auto e = load(
      "name: study\ntopology: topo.yaml\nscanners: [{label: a, image: b}]\n"
      "command: [nmap, -oX, \"{xml}\", \"{targets}\"]\nnode_images: {router: r}\n");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("exp.yaml:5:14: node_images cannot be checked: the topology "
                                   "does not load"),
            std::string::npos)
      << e.error().message;
}

TEST_F(LabKeysTest, HostsAndUriMustFitTheBackend) {
  auto e = load_with("backend: kvm\nhosts: [qemu+ssh://lab1/system, qemu+ssh://lab2/system]\n");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(lab_uris(*e),
            (std::vector<std::string>{"qemu+ssh://lab1/system", "qemu+ssh://lab2/system"}));

  e = load_with("backend: kvm\n");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(lab_uris(*e), (std::vector<std::string>{"qemu:///system"}));
  e = load_with("");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(lab_uris(*e), (std::vector<std::string>{"lxc:///system"}));
  e = load_with("uri: test:///default\n");  // the mock driver fits either backend
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(lab_uris(*e), (std::vector<std::string>{"test:///default"}));

  e = load_with(
      "backend: kvm\nhosts:\n  - qemu+ssh://lab1/system\n  - lxc:///system\n"
      "  - qemu+ssh://lab1/system\n  - lab3\n");
  ASSERT_FALSE(e.ok());
  std::string m = e.error().message;
  EXPECT_NE(m.find("exp.yaml:8:5: hosts: 'lxc:///system' is a lxc URI but the experiment's "
                   "backend is vm"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("exp.yaml:9:5: hosts: 'qemu+ssh://lab1/system' is listed twice"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("exp.yaml:10:5: hosts: 'lab3' is not a libvirt URI"), std::string::npos) << m;

  e = load_with("uri: qemu:///system\n");  // backend lxc (the default)
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("exp.yaml:5:6: 'qemu:///system' is a qemu URI but the "
                                   "experiment's backend is lxc"),
            std::string::npos)
      << e.error().message;
  e = load_with("backend: kvm\nuri: qemu:///system\nhosts: [qemu+ssh://lab1/system]\n");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("exp.yaml:7:8: give either `uri` (one lab host) or `hosts`"),
            std::string::npos)
      << e.error().message;
  e = load_with("hosts: []\n");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("'hosts' is empty"), std::string::npos) << e.error().message;
}

}  // namespace
}  // namespace testbed::config
