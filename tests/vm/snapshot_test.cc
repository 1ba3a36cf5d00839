// Snapshot resets without a hypervisor: the saved state's XML pointed at the state's own
// disks, the cheap check that catches a damaged or replaced state before a restore, the
// manifest record of a reset, and the experiment's `reset:` key.
#include "orchestrator/backends/vm/snapshot.h"

#include <gtest/gtest.h>

#include <fstream>

#include "orchestrator/config/experiment.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/util/files.h"

namespace testbed::backends::vm {
namespace {
namespace fs = std::filesystem;

TEST(VmSnapshot, SavedXmlPointsAtTheStatesOwnReadOnlyDisks) {
  const fs::path node = "/var/lib/testbed/labs/l/nodes/target1";
  const fs::path state = node / "states/target-lamp-ftp";
  const std::string xml =
      "<disk><source file='" + (node / "disk.qcow2").string() + "'/></disk>"
      "<disk><source file='" + (node / "config.tar").string() + "'/></disk>"
      "<disk><source file=\"" + (node / "seed.iso").string() + "\"/></disk>"
      "<serial><log file='" + (node / "console.log").string() + "' append='off'/></serial>"
      "<disk><source file='" + (node / "config.tar.old").string() + "'/></disk>";
  const std::string out = point_saved_xml_at_state(xml, node, state);
  // The writable layer stays where the node's fresh layer is made; the console too.
  EXPECT_NE(out.find("'" + (node / "disk.qcow2").string() + "'"), std::string::npos) << out;
  EXPECT_NE(out.find("'" + (node / "console.log").string() + "'"), std::string::npos) << out;
  // The read-only disks are the state's copies (the node's are rewritten per image).
  EXPECT_NE(out.find("'" + (state / "config.tar").string() + "'"), std::string::npos) << out;
  EXPECT_NE(out.find("\"" + (state / "seed.iso").string() + "\""), std::string::npos) << out;
  EXPECT_EQ(out.find("'" + (node / "config.tar").string() + "'"), std::string::npos) << out;
  // The restored guest appends to the console log the boot wrote.
  EXPECT_NE(out.find("append='on'"), std::string::npos) << out;
  EXPECT_EQ(out.find("append='off'"), std::string::npos) << out;
  // Only whole attribute values: a longer name that starts the same is left alone.
  EXPECT_NE(out.find((node / "config.tar.old").string()), std::string::npos) << out;
}

void write(const fs::path& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << data;
}

TEST(VmSnapshot, FindRefusesMissingIncompleteAndChangedStates) {
  auto t = util::TempDir::create("snapshot-test");
  ASSERT_TRUE(t.ok());
  const fs::path node = t->path();
  const fs::path dir = node / "states/img";
  VmSnapshots snaps(nullptr);  // find() needs no hypervisor

  auto none = snaps.find(node, "img");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no saved state of img"), std::string::npos);

  fs::create_directories(dir);
  write(dir / "memory.save", std::string(3 << 20, 'm'));
  write(dir / "disk.qcow2", std::string(5000, 'd'));
  // Saved but not finished (no state.json, which is written last): not a state.
  EXPECT_FALSE(snaps.find(node, "img"));

  auto check = quick_check(dir);
  ASSERT_TRUE(check) << check.error().message;
  write(dir / "state.json", nlohmann::json({{"check", *check}, {"sha256", "feed"},
                                            {"taken", 1796680000}, {"bytes", 3150000}})
                                .dump());
  auto ok = snaps.find(node, "img");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->sha256, "feed");
  EXPECT_EQ(ok->taken, 1796680000);
  EXPECT_EQ(ok->dir, dir);

  // A byte changed in the last MiB of the memory file (what a torn copy or a bit flip at
  // the end does): refused, naming the state.
  {
    std::fstream f(dir / "memory.save", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp((3 << 20) - 10);
    f.put('X');
  }
  auto changed = snaps.find(node, "img");
  ASSERT_FALSE(changed);
  EXPECT_NE(changed.error().message.find("damaged"), std::string::npos);
  EXPECT_NE(changed.error().message.find(dir.string()), std::string::npos);

  // Truncated: refused too. A missing disk: refused.
  write(dir / "memory.save", std::string(3 << 20, 'm'));
  ASSERT_TRUE(snaps.find(node, "img"));
  fs::resize_file(dir / "memory.save", 1 << 20);
  EXPECT_FALSE(snaps.find(node, "img"));
  write(dir / "memory.save", std::string(3 << 20, 'm'));
  fs::remove(dir / "disk.qcow2");
  auto nodisk = snaps.find(node, "img");
  ASSERT_FALSE(nodisk);
  EXPECT_NE(nodisk.error().message.find("disk.qcow2"), std::string::npos) << nodisk.error().message;

  // Disk use is counted, and remove() takes one image's state or all of them.
  write(dir / "disk.qcow2", std::string(5000, 'd'));
  EXPECT_GE(virt::saved_state_bytes(node), uint64_t{3 << 20});
  ASSERT_TRUE(snaps.remove(node, "img"));
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(virt::saved_state_bytes(node), 0u);
  ASSERT_TRUE(snaps.remove(node, ""));
}

TEST(VmSnapshot, ResetRecordForTheManifest) {
  lab::NodeReset r;
  r.image = "target-lamp-ftp";
  r.method = "snapshot";
  r.seconds = 2.5;
  r.state_sha256 = "abc";
  r.state_taken = 1796680000;
  lab::FreshGuest f;
  f.clock_offset_before_ms = 118000.5;
  f.clock_offset_after_ms = 0.4;
  f.clock_rtt_ms = 3;
  f.reseeded = true;
  r.fresh = f;
  auto j = lab::to_json(r);
  EXPECT_EQ(j["method"], "snapshot");
  EXPECT_EQ(j["state_sha256"], "abc");
  EXPECT_EQ(j["state_taken"], 1796680000);
  EXPECT_DOUBLE_EQ(j["clock_offset_ms"]["restored"].get<double>(), 118000.5);
  EXPECT_DOUBLE_EQ(j["clock_offset_ms"]["after_correction"].get<double>(), 0.4);
  EXPECT_EQ(j["reseeded"], true);
  EXPECT_FALSE(j.contains("fallback"));
  lab::NodeReset b;
  b.image = "target-lamp-ftp";
  b.method = "boot";
  b.fallback = "saved state damaged";
  auto jb = lab::to_json(b);
  EXPECT_EQ(jb["fallback"], "saved state damaged");
  EXPECT_FALSE(jb.contains("state_sha256"));
  EXPECT_FALSE(jb.contains("clock_offset_ms"));
}

TEST(VmSnapshot, ExperimentResetKey) {
  const std::string base = std::string("name: x\ntopology: ") + TESTBED_SOURCE_DIR +
                           "/topology/two-subnet-small.yaml\nbackend: vm\n"
                           "scanners:\n  - {label: a, image: scanner-nmap-7.80}\n"
                           "command: [nmap, '{targets}']\n";
  auto none = config::parse_experiment(base, "x.yaml");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->reset, "");  // the lab picks: snapshot on VM labs of this host
  auto boot = config::parse_experiment(base + "reset: boot\n", "x.yaml");
  ASSERT_TRUE(boot) << boot.error().message;
  EXPECT_EQ(boot->reset, "boot");
  auto bad = config::parse_experiment(base + "reset: reboot\n", "x.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("x.yaml:7:"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("reboot"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("snapshot"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace testbed::backends::vm
