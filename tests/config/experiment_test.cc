#include "orchestrator/config/experiment.h"

#include <gtest/gtest.h>

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
  EXPECT_NE(m.find("option '-iL' is refused"), std::string::npos) << m;
  EXPECT_NE(m.find("repetitions is 0"), std::string::npos) << m;
  EXPECT_NE(m.find("snaplen 10"), std::string::npos) << m;
  EXPECT_NE(m.find("did you mean 'ttl'"), std::string::npos) << m;
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

TEST_F(ExperimentTest, LiteralTargetsInCommandMustBeAddresses) {
  auto e = load(R"(name: s
topology: topo.yaml
scanners: [{label: a, image: x}]
command: [nmap, -p, "80", --script, http-title, scanme.example, "-oX", "{xml}", "{targets}"]
)");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("'scanme.example' would be a scan target"), std::string::npos)
      << e.error().message;
}

TEST(Command, ExpandsPlaceholders) {
  auto r = expand_command({"nmap", "-oX", "{xml}", "{targets}"}, "/tmp/r.xml", {"172.24.1.0/24", "10.0.0.1"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"nmap", "-oX", "/tmp/r.xml", "172.24.1.0/24", "10.0.0.1"}));
  EXPECT_FALSE(expand_command({"nmap", "{oops}"}, "x", {}).ok());
}

TEST(Command, TemplateChecks) {
  EXPECT_TRUE(check_command_template({"nmap", "-T4", "-A", "-v", "-oX", "{xml}", "{targets}"}).ok());
  EXPECT_FALSE(check_command_template({"/bin/sh", "-c", "{xml}", "{targets}"}).ok());
  EXPECT_FALSE(check_command_template({"nmap;rm", "{xml}", "{targets}"}).ok());
  EXPECT_FALSE(check_command_template({"nmap", "-iR", "10", "{xml}", "{targets}"}).ok());
  EXPECT_FALSE(check_command_template({"nmap", "-iLlist", "{xml}", "{targets}"}).ok());
  EXPECT_FALSE(check_command_template({"nmap", "-oX", "{targets}"}).ok());
  EXPECT_FALSE(check_command_template({"nmap", "{xml}"}).ok());
  EXPECT_EQ(literal_targets({"nmap", "-p", "80", "-oX", "{xml}", "1.2.3.4", "{targets}"}),
            (std::vector<std::string>{"1.2.3.4"}));
}

TEST(Scope, TargetsMustBeInsideLabSubnets) {
  std::vector<std::string> lab = {"172.24.1.0/24"};
  EXPECT_TRUE(check_target_in_scope("172.24.1.0/24", lab).ok());
  EXPECT_TRUE(check_target_in_scope("172.24.1.10", lab).ok());
  EXPECT_TRUE(check_target_in_scope("172.24.1.128/25", lab).ok());
  EXPECT_FALSE(check_target_in_scope("172.24.0.0/16", lab).ok());  // wider than the lab
  EXPECT_FALSE(check_target_in_scope("172.24.2.1", lab).ok());
  EXPECT_FALSE(check_target_in_scope("8.8.8.8", lab).ok());
  EXPECT_FALSE(check_target_in_scope("scanme.nmap.org", lab).ok());
  EXPECT_FALSE(check_target_in_scope("172.24.1.1-20", lab).ok());
  EXPECT_FALSE(check_target_in_scope("0.0.0.0/0", lab).ok());
}

}  // namespace
}  // namespace testbed::config
