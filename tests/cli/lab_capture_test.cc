// `testbed lab capture`'s refusals, through the built binary on a lab that exists only as
// state (lab.json + topology.yaml on libvirt's test:///default): an unknown lab, a target
// that is not a network or node interface of the lab, a bad filter, count or duration are
// one "error:" line and exit 2, and nothing is written; a target of the lab whose device is
// absent fails (1) with nothing on standard output, which belongs to the pcap stream. The
// live capture itself: tests/cli/lab_capture_live_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

class LabCaptureArgs : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("cli-capture");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_.emplace(std::move(*t));
    const fs::path lab = labs() / "caplab";
    fs::create_directories(lab);
    std::ofstream(lab / "lab.json")
        << R"({"name": "caplab", "uri": "test:///default", "backend": "lxc"})";
    fs::copy_file(fs::path(TESTBED_SOURCE_DIR) / "topology/two-subnet-small.yaml",
                  lab / "topology.yaml");
  }
  fs::path labs() const { return tmp_->path() / "labs"; }
  fs::path out() const { return tmp_->path() / "out.pcap"; }

  /// testbed lab capture ARGS --state-dir <the test's>.
  util::ProcessResult capture(std::vector<std::string> args) const {
    std::vector<std::string> argv = {(fs::path(TESTBED_BINARY_DIR) / "testbed").string(), "lab",
                                     "capture"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--state-dir", labs().string()});
    util::ProcessOptions po;
    po.timeout = std::chrono::seconds(60);
    auto r = util::run_process(argv, po);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : util::ProcessResult{};
  }

  /// Exit 2, one error line saying `want`, nothing on standard output, no file.
  void expect_refused(const std::vector<std::string>& args, const std::string& want) const {
    auto r = capture(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_NE(r.err.find(want), std::string::npos) << "want: " << want << "\ngot: " << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(fs::exists(out()));
    EXPECT_FALSE(fs::exists(out().string() + ".part"));
  }

  std::optional<util::TempDir> tmp_;
};

TEST_F(LabCaptureArgs, UnknownLabIsBadInput) {
  expect_refused({"nolab", "scan", "-w", out().string()},
                 "no lab 'nolab' (nothing in " + labs().string() + ")");
  expect_refused({"No_Lab", "scan", "-w", out().string()}, "lab name 'No_Lab' must match");
}

TEST_F(LabCaptureArgs, TargetsOutsideTheLabAreRefusedNamingTheAllowedOnes) {
  const std::string allowed =
      "capture on one of: mgmt, scan, targets, router:mgmt, router:scan, router:targets, "
      "scanner:mgmt, scanner:scan, target1:mgmt, target1:targets";
  // A host interface, a node interface the topology does not have, a node that is not
  // there, another lab's bridge name pattern and an empty target.
  for (const std::string t : {"eth0", "lo", "scanner:targets", "target2:targets", "virbr0",
                              "router:", ":scan"}) {
    SCOPED_TRACE(t);
    expect_refused({"caplab", t, "-w", out().string()},
                   "error: '" + t + "' is not a network or node interface of lab 'caplab'; " +
                       allowed);
  }
  expect_refused({"caplab", "eth0", "-w", "-"}, allowed);
}

TEST_F(LabCaptureArgs, BadFilterCountDurationAndOutputAreBadInput) {
  expect_refused({"caplab", "scan", "-w", out().string(), "-f", "icmp and"},
                 "error: -f: bad filter 'icmp and': ");
  expect_refused({"caplab", "scan", "-w", out().string(), "--count", "0"},
                 "error: --count: '0' is not a count: give a whole number from 1");
  expect_refused({"caplab", "scan", "-w", out().string(), "--count", "-3"},
                 "'-3' is not a count");
  expect_refused({"caplab", "scan", "-w", out().string(), "--duration", "0"},
                 "error: --duration: '0' is not a duration: give seconds above 0");
  expect_refused({"caplab", "scan", "-w", out().string(), "--duration", "soon"},
                 "'soon' is not a duration");
  expect_refused({"caplab", "scan", "-w", (tmp_->path() / "nosuch/x.pcap").string()},
                 "no directory " + (tmp_->path() / "nosuch").string());
}

// The target is the lab's, so it is accepted; its bridge does not exist on test:///default,
// so the capture fails (1) — and standard output, the pcap stream's, stays empty.
TEST_F(LabCaptureArgs, ALabTargetWithoutItsDeviceFailsAndKeepsStdoutClean) {
  for (const std::string t : {"scan", "scanner:scan"}) {
    SCOPED_TRACE(t);
    auto r = capture({"caplab", t, "-w", "-", "--count", "1"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("is not a network or node interface"), std::string::npos) << r.err;
  }
  auto f = capture({"caplab", "scan", "-w", out().string()});
  EXPECT_EQ(f.exit_code, 1) << f.err;
  EXPECT_FALSE(fs::exists(out()));
  EXPECT_FALSE(fs::exists(out().string() + ".part"));
}

}  // namespace
}  // namespace testbed
