// `testbed host check` against a real lab host (tests/remote-hosts/lab-hosts.sh: its own
// namespaces, libvirtd and sshd on this machine), its failures one at a time: a tool
// hidden in the host's mount namespace, an unknown and a changed host key, libvirtd
// stopped, too little space; and `testbed run` refusing an unready host before it
// creates anything. Label lab (root; no VM is started).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "orchestrator/util/files.h"
#include "tests/remote-hosts/lab_hosts.h"
#include "tests/support/testbed_cli.h"

namespace testbed {
namespace {

namespace fs = std::filesystem;
using test_support::LabHosts;

struct Out {
  int rc;
  std::string text;
};

Out testbed_cli(const std::vector<std::string>& args) {
  auto l = test_support::launch(args, nullptr);
  return {l.exit_code, l.log};
}

class LabHostCheck : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) return;
    auto h = LabHosts::up({"A"});
    ASSERT_TRUE(h.ok()) << h.error().message;
    hosts_ = h->release();
  }
  static void TearDownTestSuite() {
    delete hosts_;
    hosts_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(::geteuid(), 0u) << "needs root (namespaces, sshd)"; }
  /// The URI of host A with another known_hosts file.
  static std::string uri_with_known_hosts(const fs::path& kh) {
    return std::regex_replace(hosts_->uri("A"), std::regex("known_hosts=[^&]*"),
                              "known_hosts=" + kh.string());
  }
  static inline LabHosts* hosts_ = nullptr;
};

TEST_F(LabHostCheck, AReadyHostPasses) {
  auto o = testbed_cli({"host", "check", hosts_->uri("A")});
  EXPECT_EQ(o.rc, 0) << o.text;
  for (const char* s : {"ready", "driver QEMU", "TCG", "tcpdump, ip, sha256sum", "free at"})
    EXPECT_NE(o.text.find(s), std::string::npos) << s << "\n" << o.text;
}

TEST_F(LabHostCheck, AMissingToolIsNamedWithItsPackage) {
  const fs::path empty = hosts_->state() / "not-a-program";
  std::ofstream(empty) << "";
  fs::permissions(empty, fs::perms::owner_read);
  for (auto [tool, paths, package] :
       {std::tuple{"tcpdump", std::vector<std::string>{"/usr/bin/tcpdump"}, "tcpdump"},
        std::tuple{"ip", std::vector<std::string>{"/usr/bin/ip", "/usr/sbin/ip"}, "iproute2"}}) {
    SCOPED_TRACE(tool);
    for (const auto& p : paths)
      ASSERT_TRUE(hosts_->exec("A", {"mount", "--bind", empty.string(), p}).ok());
    auto o = testbed_cli({"host", "check", hosts_->uri("A")});
    for (const auto& p : paths) ASSERT_TRUE(hosts_->exec("A", {"umount", p}).ok());
    EXPECT_EQ(o.rc, 4) << o.text;
    EXPECT_NE(o.text.find(std::string(tool) + " is missing"), std::string::npos) << o.text;
    EXPECT_NE(o.text.find(std::string("apt-get install ") + package), std::string::npos) << o.text;
    EXPECT_NE(o.text.find("not ready: 1 problem"), std::string::npos) << o.text;
  }
  EXPECT_EQ(testbed_cli({"host", "check", hosts_->uri("A")}).rc, 0);
}

TEST_F(LabHostCheck, UnknownKeyRefusedUnlessAcceptedChangedKeyRefused) {
  const fs::path kh = hosts_->state() / "fresh_known_hosts";
  std::ofstream(kh) << "";
  const std::string uri = uri_with_known_hosts(kh);
  auto o = testbed_cli({"host", "check", uri});
  EXPECT_EQ(o.rc, 4) << o.text;
  EXPECT_NE(o.text.find("is not pinned"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("SHA256:"), std::string::npos) << o.text;  // the fingerprint to compare
  EXPECT_EQ(*util::read_file(kh), "");  // nothing pinned behind the user's back
  // `run` refuses the host before it creates anything.
  const fs::path exp = hosts_->state() / "unpinned.yaml";
  std::string text = *util::read_file(std::string(TESTBED_SOURCE_DIR) + "/experiments/ci-vm.yaml");
  text = std::regex_replace(text, std::regex("\\.\\./topology/"),
                            std::string(TESTBED_SOURCE_DIR) + "/topology/");
  std::ofstream(exp) << text << "uri: \"" << uri << "\"\n";
  const fs::path out = hosts_->state() / "results";
  auto r = testbed_cli({"run", exp.string(), "--output", out.string()});
  EXPECT_EQ(r.rc, 4) << r.text;
  EXPECT_NE(r.text.find("is not pinned"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("nothing was created"), std::string::npos) << r.text;
  EXPECT_FALSE(fs::exists(out)) << "a results directory was made";
  // Accepted explicitly: pinned, and the check passes.
  auto a = testbed_cli({"host", "check", "--accept-new-host-key", uri});
  EXPECT_EQ(a.rc, 0) << a.text;
  EXPECT_NE(util::read_file(kh)->find("198.18.0.11 ssh-ed25519 "), std::string::npos);
  EXPECT_EQ(testbed_cli({"host", "check", uri}).rc, 0);
  // A changed key is refused, even with --accept-new-host-key, and not overwritten.
  const std::string other = "198.18.0.11 ssh-ed25519 "
                            "AAAAC3NzaC1lZDI1NTE5AAAAIJI25QKFo2Q+aoYIsCOkB+GLvO5YZ1tOmxlWsp0+kMQw\n";
  std::ofstream(kh) << other;
  auto c = testbed_cli({"host", "check", "--accept-new-host-key", uri});
  EXPECT_EQ(c.rc, 4) << c.text;
  EXPECT_NE(c.text.find("changed"), std::string::npos) << c.text;
  EXPECT_EQ(*util::read_file(kh), other);
}

TEST_F(LabHostCheck, StoppedLibvirtdAndTooLittleSpace) {
  auto pid = hosts_->exec("A", {"cat", "/run/libvirt/libvirtd.pid"});
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(hosts_->exec("A", {"kill", pid->substr(0, pid->find('\n'))}).ok());
  for (int i = 0; i < 50 && hosts_->exec("A", {"kill", "-0", pid->substr(0, pid->find('\n'))}).ok();
       ++i)
    ::usleep(100000);
  auto o = testbed_cli({"host", "check", hosts_->uri("A")});
  EXPECT_EQ(o.rc, 4) << o.text;
  EXPECT_NE(o.text.find("libvirt does not answer"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("start libvirtd"), std::string::npos) << o.text;
  ASSERT_TRUE(hosts_->exec("A", {"libvirtd", "-d", "-p", "/run/libvirt/libvirtd.pid"}).ok());
  bool back = false;
  for (int i = 0; i < 30 && !back; ++i) {
    back = hosts_->exec("A", {"virsh", "-c", "qemu:///system", "version"}).ok();
    if (!back) ::sleep(1);
  }
  ASSERT_TRUE(back);
  auto s = testbed_cli({"host", "check", "--min-free", "1000T", hosts_->uri("A")});
  EXPECT_EQ(s.rc, 4) << s.text;
  EXPECT_NE(s.text.find("the images need 1024000.0 GiB"), std::string::npos) << s.text;
  EXPECT_EQ(testbed_cli({"host", "check", hosts_->uri("A")}).rc, 0);
}

}  // namespace
}  // namespace testbed
