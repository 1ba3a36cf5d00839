// `testbed host check` judged from facts (backends::vm::judge_host) and host keys compared with a
// known_hosts file (remote::compare_host_keys): every missing piece of a lab host, one at
// a time, named with what to install. No server: the facts are made here (label unit).
#include <gtest/gtest.h>

#include "orchestrator/remote/host_key.h"
#include "orchestrator/util/files.h"
#include "orchestrator/backends/vm/host_check.h"

namespace testbed::backends::vm {
namespace {

namespace fs = std::filesystem;
using remote::HostKeyState;

const std::string kKey1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJI25QKFo2Q+aoYIsCOkB+GLvO5YZ1tOmxlWsp0+kMQw";
const std::string kKey2 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHd3F2uCjaeGCjrN++umI0EkeszAMaPdNJBVHkDFkV2W";

/// A lab host with everything in place.
HostFacts ready_host() {
  HostFacts f;
  f.uri = "qemu+ssh://root@lab1/system";
  f.login.host = "lab1";
  f.login.identity_file = "/root/.ssh/id_ed25519";
  f.login.known_hosts_file = "/root/.ssh/known_hosts";
  f.key.state = HostKeyState::kPinned;
  f.key.fingerprint = "SHA256:abc";
  f.driver = "QEMU";
  f.pool_path = "/var/lib/testbed/pool";
  f.free_bytes = 20ull << 30;
  return f;
}

std::string all(const std::vector<HostProblem>& ps) {
  std::string s;
  for (const auto& p : ps) s += p.what + " => " + p.fix + "\n";
  return s;
}

TEST(HostCheck, AReadyHostHasNoProblem) {
  auto f = ready_host();
  EXPECT_TRUE(judge_host(f, 4ull << 30).empty()) << all(judge_host(f, 4ull << 30));
  EXPECT_EQ(host_accel(f), "TCG");
  f.dev_kvm = f.cpu_virtualisation = true;
  EXPECT_EQ(host_accel(f), "KVM");
  f.cpu_virtualisation = false;  // /dev/kvm without VMX/SVM runs no guest (docs/lab-host.md)
  EXPECT_EQ(host_accel(f), "TCG");
  EXPECT_NE(format_host_report(ready_host(), {}).find("ready\n"), std::string::npos);
}

struct Case {
  const char* name;
  void (*spoil)(HostFacts&);
  const char* what;  ///< in the problem
  const char* fix;   ///< in its fix
};

const Case kCases[] = {
    {"unknown host key", [](HostFacts& f) { f.key.state = HostKeyState::kUnknown; },
     "is not pinned", "--accept-new-host-key"},
    {"changed host key", [](HostFacts& f) { f.key.state = HostKeyState::kChanged; }, "changed",
     "ssh-keygen -R"},
    {"no sshd", [](HostFacts& f) { f.key.state = HostKeyState::kUnreachable; },
     "offers no SSH host key", "openssh-server"},
    {"login refused", [](HostFacts& f) { f.ssh_error = "Access denied"; }, "cannot log in",
     "authorized_keys"},
    {"no tcpdump", [](HostFacts& f) { f.missing_tools = {"tcpdump"}; }, "tcpdump is missing",
     "apt-get install tcpdump"},
    {"no ip", [](HostFacts& f) { f.missing_tools = {"ip"}; }, "ip is missing",
     "apt-get install iproute2"},
    {"no sha256sum", [](HostFacts& f) { f.missing_tools = {"sha256sum"}; }, "sha256sum is missing",
     "coreutils"},
    {"libvirtd down", [](HostFacts& f) { f.libvirt_error = "Failed to connect socket"; },
     "libvirt does not answer", "start libvirtd"},
    {"no QEMU driver", [](HostFacts& f) { f.driver = "LXC"; }, "not QEMU",
     "libvirt-daemon-driver-qemu"},
    {"no emulator", [](HostFacts& f) { f.emulator_error = "no emulator"; }, "no x86_64 QEMU",
     "qemu-system-x86"},
    {"no storage driver", [](HostFacts& f) { f.storage_error = "no storage"; }, "storage driver",
     "libvirt-daemon"},
    {"disk full", [](HostFacts& f) { f.free_bytes = 1ull << 30; }, "the images need 4.0 GiB",
     "free disk space"},
    {"df unknown", [](HostFacts& f) { f.free_bytes.reset(); }, "cannot tell the free space",
     "df"},
};

TEST(HostCheck, EachMissingPieceIsNamedWithItsFix) {
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    auto f = ready_host();
    c.spoil(f);
    auto ps = judge_host(f, 4ull << 30);
    ASSERT_EQ(ps.size(), 1u) << all(ps);
    EXPECT_NE(ps[0].what.find(c.what), std::string::npos) << ps[0].what;
    EXPECT_NE(ps[0].fix.find(c.fix), std::string::npos) << ps[0].fix;
    auto report = format_host_report(f, ps);
    EXPECT_NE(report.find("not ready: 1 problem"), std::string::npos) << report;
  }
}

TEST(HostCheck, SeveralMissingToolsAreAllNamed) {
  auto f = ready_host();
  f.missing_tools = {"tcpdump", "ip"};
  f.free_bytes = 0;
  auto ps = judge_host(f, 1);
  EXPECT_EQ(ps.size(), 3u) << all(ps);
}

class HostKeys : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = util::TempDir::create("host-keys");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<util::TempDir>(std::move(*d));
    kh_ = dir_->path() / "known_hosts";
  }
  std::unique_ptr<util::TempDir> dir_;
  fs::path kh_;
};

TEST_F(HostKeys, PinnedUnknownChangedUnreachable) {
  const std::vector<std::string> offered = {"lab1 " + kKey1};
  EXPECT_EQ(remote::compare_host_keys("lab1", 22, offered, kh_).state, HostKeyState::kUnknown);
  ASSERT_TRUE(util::write_file_atomic(kh_, "other " + kKey2 + "\nlab1 " + kKey1 + "\n"));
  auto c = remote::compare_host_keys("lab1", 22, offered, kh_);
  EXPECT_EQ(c.state, HostKeyState::kPinned);
  EXPECT_EQ(c.fingerprint.rfind("SHA256:", 0), 0u) << c.fingerprint;
  // Another port is another entry ("[lab1]:2222").
  EXPECT_EQ(remote::compare_host_keys("lab1", 2222, {"[lab1]:2222 " + kKey1}, kh_).state,
            HostKeyState::kUnknown);
  // The host offers a key the file does not pin for it: changed, refused.
  EXPECT_EQ(remote::compare_host_keys("lab1", 22, {"lab1 " + kKey2}, kh_).state,
            HostKeyState::kChanged);
  EXPECT_EQ(remote::compare_host_keys("lab1", 22, {}, kh_).state, HostKeyState::kUnreachable);
}

TEST_F(HostKeys, OnlyAnUnknownKeyIsPinned) {
  auto c = remote::compare_host_keys("lab1", 22, {"lab1 " + kKey1}, kh_);
  ASSERT_EQ(c.state, HostKeyState::kUnknown);
  ASSERT_TRUE(remote::pin_host_key(c, kh_));
  EXPECT_EQ(fs::status(kh_).permissions() & fs::perms::others_read, fs::perms::none);
  EXPECT_EQ(remote::compare_host_keys("lab1", 22, {"lab1 " + kKey1}, kh_).state,
            HostKeyState::kPinned);
  auto changed = remote::compare_host_keys("lab1", 22, {"lab1 " + kKey2}, kh_);
  ASSERT_EQ(changed.state, HostKeyState::kChanged);
  EXPECT_FALSE(remote::pin_host_key(changed, kh_));
  EXPECT_EQ(*util::read_file(kh_), "lab1 " + kKey1 + "\n");
}

}  // namespace
}  // namespace testbed::backends::vm
