// Saved states that outlive their lab (lab/kept_states.h), on plain directories: what
// `down` keeps, what the next `up` takes back, and what makes it boot instead.
#include "orchestrator/lab/kept_states.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "orchestrator/util/build_id.h"
#include "orchestrator/util/files.h"

namespace testbed::lab {
namespace {
namespace fs = std::filesystem;

void put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(util::write_file_atomic(p, text, 0600).ok()) << p;
}

// A lab dir as Lab leaves it: keys, a complete target state, an incomplete scanner state.
void make_lab(const fs::path& dir) {
  put(dir / "id_ed25519", "lab key");
  put(dir / "id_ed25519.pub", "lab pub");
  put(dir / "nodes/target1/ssh_host_ed25519_key", "t1 key");
  put(dir / "nodes/target1/ssh_host_ed25519_key.pub", "t1 pub");
  put(dir / "nodes/target1/states/lamp/state.json", "{}");
  put(dir / "nodes/target1/states/lamp/memory.save", "memory");
  put(dir / "nodes/target1/states/lamp/image-key", "k1");
  put(dir / "nodes/scanner/ssh_host_ed25519_key", "s key");
  put(dir / "nodes/scanner/ssh_host_ed25519_key.pub", "s pub");
  put(dir / "nodes/scanner/states/nmap/memory.save", "cut short: no state.json");
}

class KeptStates : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("kept-states");
    ASSERT_TRUE(t.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    lab_ = tmp_->path() / "labs/l1";
    kept_ = kept_dir(tmp_->path() / "labs", "l1");
    put(tmp_->path() / "topo.yaml", "name: t\n");
    inputs_ = keep_inputs("qemu:///system", "tcg", tmp_->path() / "topo.yaml");
    make_lab(lab_);
  }
  std::function<std::string(const std::string&)> keys(std::map<std::string, std::string> m) {
    return [m](const std::string& image) { return m.count(image) ? m.at(image) : ""; };
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path lab_, kept_;
  nlohmann::json inputs_;
};

TEST_F(KeptStates, InputsNameTheBuildTopologyUriAndAccel) {
  EXPECT_EQ(inputs_["testbed_build"], util::build_id());
  EXPECT_FALSE(util::build_id().empty());
  EXPECT_EQ(inputs_["uri"], "qemu:///system");
  EXPECT_EQ(inputs_["accel"], "tcg");
  EXPECT_EQ(inputs_["topology_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(kept_, tmp_->path() / "labs/.kept/l1");
}

TEST_F(KeptStates, DownKeepsCompleteStatesAndTheKeysUpTakesThemBack) {
  auto n = stash_states(lab_, kept_, inputs_);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1) << "the scanner's state was cut short (no state.json): not kept";
  EXPECT_TRUE(fs::exists(kept_ / "nodes/target1/states/lamp/memory.save"));
  EXPECT_FALSE(fs::exists(kept_ / "nodes/scanner"));
  EXPECT_FALSE(fs::exists(lab_ / "id_ed25519")) << "moved, not copied";

  const fs::path next = tmp_->path() / "labs/l1-again";
  auto r = reclaim_states(kept_, next, inputs_, keys({{"lamp", "k1"}}));
  EXPECT_EQ(r.states, 1);
  EXPECT_TRUE(r.why_not.empty()) << r.why_not;
  EXPECT_GT(r.kept_at, 0);
  EXPECT_EQ(*util::read_file(next / "id_ed25519"), "lab key");
  EXPECT_EQ(*util::read_file(next / "nodes/target1/ssh_host_ed25519_key"), "t1 key");
  EXPECT_EQ(*util::read_file(next / "nodes/target1/states/lamp/memory.save"), "memory");
  EXPECT_FALSE(fs::exists(kept_)) << "taken back means gone from the keep";
}

TEST_F(KeptStates, ARebuiltImageDropsItsStateOnly) {
  ASSERT_TRUE(stash_states(lab_, kept_, inputs_).ok());
  const fs::path next = tmp_->path() / "labs/l1-again";
  auto r = reclaim_states(kept_, next, inputs_, keys({{"lamp", "k2"}}));
  EXPECT_EQ(r.states, 0);
  EXPECT_NE(r.why_not.find("built again"), std::string::npos) << r.why_not;
  EXPECT_FALSE(fs::exists(next / "nodes/target1/states/lamp"));
  EXPECT_FALSE(fs::exists(kept_));
}

TEST_F(KeptStates, AnotherBuildOrAccelUsesNothing) {
  ASSERT_TRUE(stash_states(lab_, kept_, inputs_).ok());
  nlohmann::json other = inputs_;
  other["accel"] = "kvm";
  const fs::path next = tmp_->path() / "labs/l1-again";
  auto r = reclaim_states(kept_, next, other, keys({{"lamp", "k1"}}));
  EXPECT_EQ(r.states, 0);
  EXPECT_NE(r.why_not.find("accel was \"tcg\", is \"kvm\""), std::string::npos) << r.why_not;
  EXPECT_FALSE(fs::exists(next / "id_ed25519")) << "no keys either: the lab makes new ones";
  EXPECT_FALSE(fs::exists(kept_));
}

TEST_F(KeptStates, NothingKeptIsNoReason) {
  auto r = reclaim_states(kept_, tmp_->path() / "labs/l2", inputs_, keys({}));
  EXPECT_EQ(r.states, 0);
  EXPECT_TRUE(r.why_not.empty());
}

TEST_F(KeptStates, ALabWithNoCompleteStateKeepsNothing) {
  fs::remove_all(lab_ / "nodes/target1/states");
  auto n = stash_states(lab_, kept_, inputs_);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  EXPECT_FALSE(fs::exists(kept_));
  EXPECT_TRUE(fs::exists(lab_ / "id_ed25519")) << "left for the lab dir's removal";
}

}  // namespace
}  // namespace testbed::lab
