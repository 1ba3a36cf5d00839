// runner::run_experiment_file up to where it would create something: each way it stops
// early gives its outcome (the CLI's exit code) and leaves no results directory behind.
// The runs themselves are runner_test's (fakes) and e2e_ci_smoke's (a real lab).
#include "orchestrator/runner/experiment.h"

#include <gtest/gtest.h>

#include <fstream>

#include "orchestrator/config/experiment.h"
#include "orchestrator/runner/preflight.h"
#include "orchestrator/util/files.h"

namespace testbed::runner {
namespace {
namespace fs = std::filesystem;

class ExperimentFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = util::TempDir::create("testbed-experiment");
    ASSERT_TRUE(d.ok());
    tmp_.emplace(std::move(*d));
  }
  /// An experiment file on ci-smoke's topology with `extra` lines, results under tmp.
  std::string write(const std::string& name, const std::string& image, const std::string& extra) {
    fs::path f = tmp_->path() / (name + ".yaml");
    std::ofstream(f) << "name: " << name << "\ntopology: " << TESTBED_SOURCE_DIR
                     << "/topology/two-subnet-small.yaml\n"
                     << extra << "scanners:\n  - {label: \"7.80\", image: " << image
                     << "}\ncommand: [nmap, -T4, -oX, \"{xml}\", \"{targets}\"]\noutput: "
                     << (tmp_->path() / "results").string() << "\n";
    return f.string();
  }
  ExperimentOutcome run(const std::string& file) {
    ExperimentRequest r;
    r.experiment = file;
    return run_experiment_file(r);
  }
  bool nothing_created() const { return !fs::exists(tmp_->path() / "results"); }
  std::optional<util::TempDir> tmp_;
};

TEST_F(ExperimentFileTest, MissingFileIsBadInput) {
  EXPECT_EQ(run((tmp_->path() / "nosuch.yaml").string()), ExperimentOutcome::kBadInput);
  EXPECT_TRUE(nothing_created());
}

TEST_F(ExperimentFileTest, ImageWithoutRecipeIsBadInput) {
  EXPECT_EQ(run(write("norecipe", "scanner-nmap-7.59", "backend: lxc\n")),
            ExperimentOutcome::kBadInput);
  EXPECT_TRUE(nothing_created());
}

// Root: libvirt does not answer at the socket; not root: refused before that. Either way
// the host is not ready and nothing exists yet.
TEST_F(ExperimentFileTest, LibvirtNotAnsweringIsHostNotReady) {
  const std::string sock = (tmp_->path() / "no-libvirt-sock").string();
  EXPECT_EQ(run(write("sockless", "scanner-nmap-7.80",
                      "backend: lxc\nuri: lxc:///system?socket=" + sock + "\n")),
            ExperimentOutcome::kHostNotReady);
  EXPECT_TRUE(nothing_created());
}

TEST_F(ExperimentFileTest, RemoteLxcHostIsNotReady) {
  auto exp = config::load_experiment(
      write("lxcremote", "scanner-nmap-7.80", "backend: lxc\nhosts: [lxc+ssh://root@198.51.100.7/]\n"));
  ASSERT_TRUE(exp.ok()) << exp.error().message;
  EXPECT_FALSE(lab_hosts_ready(*exp, config::lab_uris(*exp), {}, "lxcremote.yaml"));
  auto local = config::load_experiment(write("local", "scanner-nmap-7.80", "backend: lxc\n"));
  ASSERT_TRUE(local.ok()) << local.error().message;
  auto topo = check_experiment_inputs(*local);
  EXPECT_TRUE(topo.ok()) << topo.error().message;
}

}  // namespace
}  // namespace testbed::runner
