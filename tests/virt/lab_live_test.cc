// The real lab on lxc:///system with the real images (label `lab`): brings up
// topology/two-subnet.yaml and asserts the safety properties on the LIVE lab, a reset,
// then garbage collection and down leave nothing behind.
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "orchestrator/backends/lxc/xml.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/lab/gc.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/naming.h"
#include "orchestrator/virt/node_storage.h"
#include "tests/host_capability.h"
#include "tests/virt/live_lab_helpers.h"

namespace testbed::virt {
using backends::lxc::LxcXml;
using lab::Lab;
using lab::LabOptions;
using lab::collect_garbage;
namespace {

using Clock = std::chrono::steady_clock;

using live::dead_pid;
using live::host_links_with_prefix;
using live::run_on;

class LiveLab : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the live lab needs root (libvirt LXC, overlay mounts)";
    for (const char* img : {"router", "scanner-nmap-7.80", "target-lamp-ftp"})
      if (!images::find_image(img).ok())
        GTEST_SKIP() << "image '" << img << "' is not built; run `testbed image build --all` "
                     << "(or the `images`-labelled tests) first";
    if (auto why = testbed::testing::libvirt_missing(); !why.empty()) GTEST_SKIP() << why;
    // The daemon is there: a failed connection is the code's failure, not a skip.
    auto b = LibvirtBackend::connect("lxc:///system", std::make_unique<LxcXml>());
    ASSERT_TRUE(b.ok()) << "libvirt is running but LXC did not connect: " << b.error().message;
  }
};

TEST_F(LiveLab, UpSafetyResetGcDown) {
  auto topo = config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet.yaml");
  ASSERT_TRUE(topo.ok()) << topo.error().message;
  auto state = util::TempDir::create("tb-lab-test", "/var/tmp");
  ASSERT_TRUE(state.ok());
  LabOptions o;
  o.name = "tbtest";
  o.state_root = state->path();
  o.owner_pid = dead_pid();       // so `gc` below considers it abandoned
  (void)Lab::destroy(o.name, o);  // leftovers of an earlier crashed run, if any
  auto t0 = Clock::now();
  auto up = Lab::up(*topo, o);
  ASSERT_TRUE(up.ok()) << up.error().message;
  Lab& lab = **up;
  double up_s = std::chrono::duration<double>(Clock::now() - t0).count();
  RecordProperty("lab_up_seconds", std::to_string(up_s));

  // --- libvirt networks: isolated.
  auto conn = open_connection("lxc:///system");
  ASSERT_TRUE(conn.ok());
  for (const auto& net : topo->networks) {
    NetworkHandle n(virNetworkLookupByName(conn->get(), network_name("tbtest", net.name).c_str()));
    ASSERT_TRUE(n) << net.name;
    char* x = virNetworkGetXMLDesc(n.get(), 0);
    std::string xml = x;
    free(x);
    EXPECT_EQ(xml.find("<forward"), std::string::npos) << xml;
    // Host addresses on the bridge: only the mgmt host address, nothing on scan/targets.
    auto r = util::run_checked({"ip", "-j", "addr", "show", "dev", lab.bridge(net.name)});
    ASSERT_TRUE(r.ok()) << r.error().message;
    if (net.role == config::NetworkRole::kMgmt) {
      EXPECT_NE(r->out.find("\"local\":\"10.250.0.1\""), std::string::npos) << r->out;
    } else {
      EXPECT_EQ(r->out.find("\"family\":\"inet\""), std::string::npos) << r->out;
      EXPECT_EQ(r->out.find("\"family\":\"inet6\",\"local\":\"fd"), std::string::npos) << r->out;
    }
  }
  EXPECT_EQ(lab.capture_interface(), lab.node("router").host_devs.at("scan"));
  EXPECT_FALSE(host_links_with_prefix(lab.capture_interface()).empty())
      << "capture veth exists on the host";
  EXPECT_EQ(lab.target_subnets(), std::vector<std::string>{"172.24.1.0/24"});

  auto prov = lab.provenance();
  EXPECT_EQ(prov["uri"], "lxc:///system");
  EXPECT_EQ(prov["topology_sha256"].size(), 64u);
  EXPECT_EQ(prov["image.scanner"].rfind("scanner-nmap-7.80@", 0), 0u) << prov["image.scanner"];
  EXPECT_FALSE(prov["libvirt_version"].empty());

  // --- a command on every node over SSH (pinned host keys, lab key).
  for (const auto& n : lab.node_names()) EXPECT_EQ(run_on(lab, n, "hostname"), n + "\n");

  // --- routes: no default route anywhere; lab addresses cannot leave through mgmt.
  for (const auto& n : lab.node_names()) {
    EXPECT_EQ(run_on(lab, n, "ip -4 route show default"), "") << n;
    int rc = 0;
    run_on(lab, n, "ip route get 192.0.2.1", &rc);
    EXPECT_NE(rc, 0) << n << " has a route to a non-lab address";
  }
  int rc = 0;
  std::string out = run_on(lab, "scanner", "ip route get 10.250.0.1 from 172.24.0.10 2>&1", &rc);
  EXPECT_NE(rc, 0) << "the scan address reaches the host's mgmt address: " << out;
  EXPECT_EQ(run_on(lab, "router", "cat /proc/sys/net/ipv4/ip_forward"), "1\n");

  // --- the scanner reaches every target only through the router: with TTL 1 the
  // router answers "time exceeded"; with TTL 2 the target answers.
  for (const auto& n : lab.node_names()) {
    if (lab.node(n).role != config::NodeRole::kTarget) continue;
    std::string addr = lab.node(n).addresses.at("targets");
    std::string ttl1 = run_on(lab, "scanner", "ping -n -c1 -W2 -t1 " + addr + " 2>&1", &rc);
    EXPECT_NE(ttl1.find("From 172.24.0.1"), std::string::npos) << ttl1;
    EXPECT_NE(ttl1.find("exceeded"), std::string::npos) << ttl1;
    std::string ttl2 = run_on(lab, "scanner", "ping -n -c1 -W2 -t2 " + addr + " 2>&1");
    EXPECT_NE(ttl2.find("1 received"), std::string::npos) << ttl2;
  }
  // The router's firewall drops traffic addressed to itself from the scan side.
  out = run_on(lab, "scanner", "ping -n -c1 -W1 172.24.0.1 2>&1", &rc);
  EXPECT_NE(rc, 0) << out;
  // --- lab DNS: names and PTR records, served by the router, nothing else.
  EXPECT_EQ(run_on(lab, "scanner", "cat /etc/resolv.conf | grep nameserver"),
            "nameserver 172.24.0.1\n");
  EXPECT_NE(run_on(lab, "scanner", "getent hosts target2.lab").find("172.24.1.11"),
            std::string::npos);
  EXPECT_NE(run_on(lab, "scanner", "getent hosts 172.24.1.12").find("target3.lab"),
            std::string::npos);

  // --- readiness failures name the failing check and show its output.
  run_on(lab, "router", "pkill -x dnsmasq; sleep 0.2; ! pgrep -x dnsmasq");
  auto nr = lab.wait_ready("router", std::chrono::milliseconds(3000));
  ASSERT_FALSE(nr.ok());
  EXPECT_NE(nr.error().message.find("check 'health.sh' failed"), std::string::npos)
      << nr.error().message;
  EXPECT_NE(nr.error().message.find("'dns'"), std::string::npos) << nr.error().message;
  ASSERT_TRUE(lab.reset_node("router").ok());

  // --- reset: fresh upper dir, back up and healthy.
  run_on(lab, "target1", "touch /root/dirty");
  auto r0 = Clock::now();
  auto rs = lab.reset_node("target1");
  ASSERT_TRUE(rs.ok()) << rs.error().message;
  RecordProperty("reset_seconds",
                 std::to_string(std::chrono::duration<double>(Clock::now() - r0).count()));
  run_on(lab, "target1", "test ! -e /root/dirty");
  auto r1 = Clock::now();
  auto all = lab.reset_nodes({"target1", "target2", "target3"});
  ASSERT_TRUE(all.ok()) << all.error().message;
  RecordProperty("reset_3_targets_seconds",
                 std::to_string(std::chrono::duration<double>(Clock::now() - r1).count()));

  // --- reopen by name.
  auto again = Lab::open("tbtest", o);
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto st = (*again)->status();
  ASSERT_TRUE(st.ok()) << st.error().message;
  for (const auto& s : *st) EXPECT_TRUE(s.running && s.ssh_reachable) << s.info.name;

  // --- gc: the owner is gone, so everything goes; a second gc finds nothing.
  LabOptions go;
  go.state_root = o.state_root;
  auto dry = collect_garbage(go, true);
  ASSERT_TRUE(dry.ok()) << dry.error().message;
  EXPECT_GE(dry->removed.size(), 5u + 3u + 1u);  // domains, networks, state dir (+ mounts)
  EXPECT_TRUE(std::filesystem::exists(lab.state_dir()));
  auto t1 = Clock::now();
  auto gc = collect_garbage(go, false);
  ASSERT_TRUE(gc.ok()) << gc.error().message;
  RecordProperty("gc_down_seconds",
                 std::to_string(std::chrono::duration<double>(Clock::now() - t1).count()));
  auto gc2 = collect_garbage(go, false);
  ASSERT_TRUE(gc2.ok());
  EXPECT_TRUE(gc2->removed.empty());
  ASSERT_TRUE(lab.down().ok()) << "down is idempotent";

  // --- nothing left: domains, networks, host interfaces, mounts, state.
  auto b = LibvirtBackend::connect("lxc:///system", std::make_unique<LxcXml>());
  ASSERT_TRUE(b.ok());
  auto objs = (*b)->list_objects();
  ASSERT_TRUE(objs.ok());
  for (const auto& ob : *objs) EXPECT_NE(ob.meta.lab, "tbtest") << ob.name;
  EXPECT_TRUE(host_links_with_prefix("tb" + lab_tag("tbtest")).empty());
  EXPECT_TRUE(mounts_under(state->path()).empty());
  EXPECT_FALSE(std::filesystem::exists(lab.state_dir()));
}

}  // namespace
}  // namespace testbed::virt

namespace testbed::virt {
namespace {

// An image whose manifest expects another Nmap than the node runs: `lab up` fails naming
// the node, the fact, the expected and the found value, and leaves nothing behind. The
// cache is a temporary one whose entries link to the real images', with the scanner's
// manifest expecting 7.93.
TEST_F(LiveLab, ExpectMismatchOnTheBootedNodeFailsLabUp) {
  namespace fs = std::filesystem;
  auto topo =
      config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml");
  ASSERT_TRUE(topo.ok()) << topo.error().message;
  auto cache = util::TempDir::create("tb-expect-cache", "/var/tmp");
  auto state = util::TempDir::create("tb-expect-state", "/var/tmp");
  ASSERT_TRUE(cache.ok() && state.ok());
  for (const char* img : {"router", "scanner-nmap-7.80", "target-lamp-ftp"}) {
    auto ref = images::find_image(img);
    ASSERT_TRUE(ref.ok()) << ref.error().message;
    fs::path dir = cache->path() / img / ref->key;
    fs::create_directories(dir);
    fs::create_directory_symlink(ref->rootfs, dir / "rootfs");
    auto m = nlohmann::json::parse(*util::read_file(ref->manifest));
    if (std::string(img) == "scanner-nmap-7.80") m["expect"]["nmap_version"] = "7.93";
    ASSERT_TRUE(util::write_file_atomic(dir / "manifest.json", m.dump()));
    fs::create_directory_symlink(ref->key, cache->path() / img / "current");
  }
  LabOptions o;
  o.name = "tbexpect";
  o.state_root = state->path();
  o.image_root = cache->path();
  auto up = Lab::up(*topo, o);
  ASSERT_FALSE(up.ok());
  const std::string& e = up.error().message;
  EXPECT_NE(e.find("node 'scanner'"), std::string::npos) << e;
  EXPECT_NE(e.find("check 'expect'"), std::string::npos) << e;
  EXPECT_NE(e.find("expected Nmap 7.93 but `nmap --version` reports 7.80"), std::string::npos)
      << e;
  EXPECT_FALSE(fs::exists(state->path() / "tbexpect")) << "nothing left behind";
  EXPECT_TRUE(mounts_under(state->path()).empty());
}

}  // namespace
}  // namespace testbed::virt
