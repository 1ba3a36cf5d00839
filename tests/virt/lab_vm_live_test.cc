// The VM backend for real (label `lab`): topology/two-subnet-small.yaml as QEMU guests on
// qemu:///system under TCG (QEMU's emulator, so it runs on any host), booted from the VM
// images built here (the image fixture builds them). Asserts from inside the guests what
// lab_live_test.cc asserts of containers: isolation, routes only through the router, the
// router forwarding scan <-> targets only and dropping what the scan side sends to
// itself, lab DNS; then snapshot resets (a restored guest loses what changed, runs its
// services, draws new random numbers and has the host's time within 50 ms), a damaged
// saved state falling back to a boot, a forced boot, gc and down leaving nothing: no
// domain, network, tap, overlay, saved state or QEMU process.
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <filesystem>

#include "orchestrator/config/topology.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/backends/vm/xml.h"
#include "orchestrator/lab/gc.h"
#include "orchestrator/lab/kept_states.h"
#include "orchestrator/lab/fresh_guest.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/naming.h"
#include "tests/virt/live_lab_helpers.h"

namespace testbed::virt {
using backends::vm::VmXml;
using lab::Lab;
using lab::LabOptions;
using lab::collect_garbage;
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using live::dead_pid;
using live::run_on;

std::string host_links() {
  auto r = util::run_checked({"ip", "-o", "link", "show"});
  return r ? r->out : "";
}

// QEMU processes whose command line names this lab's domains.
std::string qemu_processes_of(const std::string& lab) {
  auto r = util::run_process({"pgrep", "-af", "qemu-system.*" + domain_name(lab, "")});
  return r ? r->out : "";
}

TEST(VmLab, TcgUpSafetyResetGcDown) {
  ASSERT_EQ(::geteuid(), 0u) << "the VM lab needs root (libvirt QEMU, taps)";
  for (const char* img : {"router", "scanner-nmap-7.80", "target-lamp-ftp"})
    ASSERT_TRUE(
        images::find_image(img, images::default_cache_root(), config::BackendKind::kVm).ok())
        << "VM image '" << img << "' is not built (the images fixture builds it)";
  auto topo =
      config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml");
  ASSERT_TRUE(topo.ok()) << topo.error().message;
  auto state = util::TempDir::create("tb-vmlab-test", "/var/tmp");
  ASSERT_TRUE(state.ok());
  LabOptions o;
  o.name = "tbvmtest";
  o.backend = config::BackendKind::kVm;
  o.accel = "tcg";
  o.state_root = state->path();
  o.owner_pid = dead_pid();  // so `gc` below considers it abandoned
  (void)Lab::destroy(o.name, o);
  auto t0 = Clock::now();
  auto up = Lab::up(*topo, o);
  ASSERT_TRUE(up.ok()) << up.error().message;
  Lab& lab = **up;
  RecordProperty("vm_lab_up_seconds",
                 std::to_string(std::chrono::duration<double>(Clock::now() - t0).count()));

  // --- what ran: QEMU guests under TCG, recorded for the manifests.
  auto prov = lab.provenance();
  EXPECT_EQ(prov["uri"], "qemu:///system");
  EXPECT_EQ(prov["backend"], "vm");
  EXPECT_EQ(prov["accel"], "tcg");
  EXPECT_FALSE(prov["qemu_version"].empty());
  auto conn = open_connection("qemu:///system");
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  for (const auto& n : lab.node_names()) {
    DomainHandle d(virDomainLookupByName(conn->get(), lab.node(n).domain.c_str()));
    ASSERT_TRUE(d) << n;
    char* x = virDomainGetXMLDesc(d.get(), 0);
    std::string xml = x;
    free(x);
    EXPECT_NE(xml.find("<domain type='qemu'"), std::string::npos) << n;
    EXPECT_NE(xml.find("/testbed/vm-init"), std::string::npos) << n;
    // `virsh list --title` says which lab, node and image a domain is.
    EXPECT_NE(xml.find("<title>testbed lab tbvmtest: "), std::string::npos) << xml;
    // The guest's own console is kept per node for diagnosis.
    EXPECT_TRUE(fs::exists(lab.state_dir() / "nodes" / n / "console.log")) << n;
  }

  // --- networks: isolated; only mgmt carries a host address.
  for (const auto& net : topo->networks) {
    NetworkHandle h(virNetworkLookupByName(conn->get(), network_name("tbvmtest", net.name).c_str()));
    ASSERT_TRUE(h) << net.name;
    char* x = virNetworkGetXMLDesc(h.get(), 0);
    std::string xml = x;
    free(x);
    EXPECT_EQ(xml.find("<forward"), std::string::npos) << xml;
    auto r = util::run_checked({"ip", "-j", "addr", "show", "dev", lab.bridge(net.name)});
    ASSERT_TRUE(r.ok()) << r.error().message;
    if (net.role == config::NetworkRole::kMgmt)
      EXPECT_NE(r->out.find("\"local\":\"10.250.0.1\""), std::string::npos) << r->out;
    else
      EXPECT_EQ(r->out.find("\"family\":\"inet\""), std::string::npos) << r->out;
  }
  // The capture point is the router's scan tap, named by testbed, on the host.
  EXPECT_EQ(lab.capture_interface(), lab.node("router").host_devs.at("scan"));
  EXPECT_NE(host_links().find(": " + lab.capture_interface() + ":"), std::string::npos);

  // --- every node: its own name, interfaces named as the lab's networks, no default route.
  for (const auto& n : lab.node_names()) {
    EXPECT_EQ(run_on(lab, n, "hostname"), n + "\n");
    EXPECT_EQ(run_on(lab, n, "ip -4 route show default"), "") << n;
    int rc = 0;
    run_on(lab, n, "ip route get 192.0.2.1", &rc);
    EXPECT_NE(rc, 0) << n << " has a route to a non-lab address";
    for (const auto& [net, addr] : lab.node(n).addresses)
      EXPECT_NE(run_on(lab, n, "ip -4 -o addr show dev " + net).find(addr + "/"),
                std::string::npos)
          << n << " " << net;
  }
  int rc = 0;
  std::string out = run_on(lab, "scanner", "ip route get 10.250.0.1 from 172.24.0.10 2>&1", &rc);
  EXPECT_NE(rc, 0) << "the scan address reaches the host's mgmt address: " << out;

  // --- the router, from inside: forwarding on, FORWARD drops all but scan <-> targets.
  EXPECT_EQ(run_on(lab, "router", "cat /proc/sys/net/ipv4/ip_forward"), "1\n");
  std::string fwd = run_on(lab, "router", "iptables -S FORWARD");
  EXPECT_NE(fwd.find("-P FORWARD DROP"), std::string::npos) << fwd;
  EXPECT_NE(fwd.find("-A FORWARD -i scan -o targets -j ACCEPT"), std::string::npos) << fwd;
  EXPECT_NE(fwd.find("-A FORWARD -i targets -o scan -j ACCEPT"), std::string::npos) << fwd;
  EXPECT_EQ(std::count(fwd.begin(), fwd.end(), '\n'), 3) << fwd;
  // The scanner reaches the target through the router only: TTL 1 dies at the router.
  const std::string target = lab.node("target1").addresses.at("targets");
  std::string ttl1 = run_on(lab, "scanner", "ping -n -c1 -W3 -t1 " + target + " 2>&1", &rc);
  EXPECT_NE(ttl1.find("From 172.24.0.1"), std::string::npos) << ttl1;
  EXPECT_NE(ttl1.find("exceeded"), std::string::npos) << ttl1;
  std::string ttl2 = run_on(lab, "scanner", "ping -n -c1 -W3 -t2 " + target + " 2>&1");
  EXPECT_NE(ttl2.find("1 received"), std::string::npos) << ttl2;
  // ... and the router drops what the scan side addresses to the router itself.
  out = run_on(lab, "scanner", "ping -n -c1 -W2 172.24.0.1 2>&1", &rc);
  EXPECT_NE(rc, 0) << out;
  // The mgmt network does not forward: the target's mgmt address is not reachable from
  // the scanner's scan address (the router has no mgmt <-> lab forwarding).
  out = run_on(lab, "scanner", "ping -n -c1 -W2 -I 172.24.0.10 10.250.0.10 2>&1", &rc);
  EXPECT_NE(rc, 0) << out;
  // Lab DNS through the router.
  EXPECT_NE(run_on(lab, "scanner", "getent hosts target1.lab").find(target), std::string::npos);

  // --- snapshot resets (the default on VM labs): lab up saved the scanner's and the
  // target's running states; a reset restores one into a fresh disk layer.
  EXPECT_EQ(lab.reset_mode(), "snapshot");
  EXPECT_EQ(prov["reset"], "snapshot");
  const fs::path saved = lab.state_dir() / "nodes" / "target1" / "states" / "target-lamp-ftp";
  for (const char* f : {"memory.save", "disk.qcow2", "config.tar", "state.json"})
    EXPECT_TRUE(fs::exists(saved / f)) << f;
  EXPECT_FALSE(fs::exists(lab.state_dir() / "nodes" / "router" / "states")) << "never reset";
  run_on(lab, "target1", "touch /root/dirty && sync");
  std::vector<std::string> uuids;
  for (int i = 0; i < 2; ++i) {
    auto r0 = Clock::now();
    auto rs = lab.reset_node("target1");
    ASSERT_TRUE(rs.ok()) << rs.error().message;
    RecordProperty("vm_snapshot_reset_seconds_" + std::to_string(i + 1),
                   std::to_string(std::chrono::duration<double>(Clock::now() - r0).count()));
    const lab::NodeReset& r = lab.last_resets().at("target1");
    EXPECT_EQ(r.method, "snapshot");
    EXPECT_TRUE(r.fallback.empty()) << r.fallback;
    ASSERT_TRUE(r.fresh.has_value());
    EXPECT_TRUE(r.fresh->reseeded);
    EXPECT_EQ(r.fresh->other_tcp_connections, 0);
    EXPECT_LT(std::abs(r.fresh->clock_offset_after_ms), 50.0);
    // Changes made since the state was taken are gone; the services run (sshd answers
    // on mgmt, Apache on the targets network).
    run_on(lab, "target1", "test ! -e /root/dirty");
    int rc = 0;
    run_on(lab, "scanner", "timeout 5 bash -c 'echo > /dev/tcp/" + target + "/80'", &rc);
    EXPECT_EQ(rc, 0) << "Apache does not answer after a restore";
    // The kernel RNG was reseeded: two restores of one state draw different numbers.
    uuids.push_back(run_on(lab, "target1", "cat /proc/sys/kernel/random/uuid"));
    // The guest clock, measured independently of the correction: within 50 ms.
    auto session = remote::SshSession::connect(lab.ssh_target("target1"));
    ASSERT_TRUE(session.ok()) << session.error().message;
    auto again = lab::refresh_guest(*session);
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_LT(std::abs(again->clock_offset_before_ms), 50.0)
        << "rtt " << again->clock_rtt_ms << " ms";
    // The restore made new taps: the host gives them no IPv6 (no link-local address on
    // a lab link), as after a boot.
    for (const auto& [net, dev] : lab.node("target1").host_devs) {
      auto off = util::read_file("/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6");
      ASSERT_TRUE(off.ok()) << dev;
      EXPECT_EQ(*off, "1\n") << dev;
      auto a = util::run_checked({"ip", "-j", "addr", "show", "dev", dev});
      ASSERT_TRUE(a.ok()) << a.error().message;
      EXPECT_EQ(a->out.find("\"inet6\""), std::string::npos) << dev << ": " << a->out;
    }
  }
  EXPECT_NE(uuids[0], uuids[1]);

  // --- a damaged saved state: the reset boots instead, says why, and takes a new state;
  // the reset after that restores again.
  {
    std::fstream f(saved / "memory.save", std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good());
    f.seekp(-100, std::ios::end);
    f.write("corrupt", 7);
  }
  auto rb = lab.reset_node("target1");
  ASSERT_TRUE(rb.ok()) << rb.error().message;
  EXPECT_EQ(lab.last_resets().at("target1").method, "boot");
  EXPECT_NE(lab.last_resets().at("target1").fallback.find("damaged"), std::string::npos)
      << lab.last_resets().at("target1").fallback;
  EXPECT_TRUE(fs::exists(saved / "state.json")) << "a new state is taken after the boot";
  run_on(lab, "target1", "test ! -e /root/dirty");
  ASSERT_TRUE(lab.reset_node("target1").ok());
  EXPECT_EQ(lab.last_resets().at("target1").method, "snapshot");

  // --- a forced boot (`lab reset --boot`): a fresh overlay, back up and healthy.
  run_on(lab, "target1", "touch /root/dirty && sync");
  auto r0 = Clock::now();
  auto rs = lab.reset_node("target1", "", /*boot=*/true);
  ASSERT_TRUE(rs.ok()) << rs.error().message;
  RecordProperty("vm_reset_seconds",
                 std::to_string(std::chrono::duration<double>(Clock::now() - r0).count()));
  EXPECT_EQ(lab.last_resets().at("target1").method, "boot");
  run_on(lab, "target1", "test ! -e /root/dirty");

  // --- a node that does not come up: the error names it and shows its console.
  {
    auto nr = lab.wait_ready("scanner", std::chrono::milliseconds(1));
    (void)nr;  // may pass or fail within 1 ms; what matters is the next check
    DomainHandle d(virDomainLookupByName(conn->get(), lab.node("scanner").domain.c_str()));
    ASSERT_TRUE(d);
    ASSERT_EQ(virDomainDestroy(d.get()), 0);
    auto dead = lab.wait_ready("scanner", std::chrono::milliseconds(3000));
    ASSERT_FALSE(dead.ok());
    EXPECT_NE(dead.error().message.find("node 'scanner'"), std::string::npos)
        << dead.error().message;
    EXPECT_NE(dead.error().message.find("last lines of its console"), std::string::npos)
        << dead.error().message;
    EXPECT_NE(dead.error().message.find("testbed-vm-init"), std::string::npos)
        << dead.error().message;
  }

  // --- gc: the owner is gone, so everything goes; a second gc finds nothing.
  LabOptions go;
  go.uri = "qemu:///system";
  go.state_root = o.state_root;
  auto gc = collect_garbage(go, false);
  ASSERT_TRUE(gc.ok()) << gc.error().message;
  EXPECT_GE(gc->removed.size(), 3u + 3u + 1u);  // domains, networks, state dir
  auto gc2 = collect_garbage(go, false);
  ASSERT_TRUE(gc2.ok());
  EXPECT_TRUE(gc2->removed.empty());
  ASSERT_TRUE(lab.down().ok()) << "down is idempotent";

  // --- nothing left.
  auto b = LibvirtBackend::connect("qemu:///system", std::make_unique<VmXml>());
  ASSERT_TRUE(b.ok());
  auto objs = (*b)->list_objects();
  ASSERT_TRUE(objs.ok());
  for (const auto& ob : *objs) EXPECT_NE(ob.meta.lab, "tbvmtest") << ob.name;
  EXPECT_EQ(host_links().find("tb" + lab_tag("tbvmtest")), std::string::npos) << host_links();
  EXPECT_EQ(qemu_processes_of("tbvmtest"), "");
  EXPECT_FALSE(fs::exists(lab.state_dir())) << "saved states go with the lab's state dir";
}

// keep_states: the next lab of this name restores every node from the states the last
// one kept (the router's too) instead of booting, with the keys the guests know; a lab
// made without the option boots and leaves no keep behind.
TEST(VmLab, KeptStatesRestoreTheNextLab) {
  ASSERT_EQ(::geteuid(), 0u) << "the VM lab needs root (libvirt QEMU, taps)";
  auto topo =
      config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml");
  ASSERT_TRUE(topo.ok()) << topo.error().message;
  auto state = util::TempDir::create("tb-vmkept-test", "/var/tmp");
  ASSERT_TRUE(state.ok());
  LabOptions o;
  o.name = "tbvmkept";
  o.backend = config::BackendKind::kVm;
  o.accel = "tcg";
  o.state_root = state->path();
  o.keep_states = true;
  (void)Lab::destroy(o.name, o);
  const fs::path kept = lab::kept_dir(o.state_root, o.name);
  {
    auto up = Lab::up(*topo, o);
    ASSERT_TRUE(up.ok()) << up.error().message;
    for (const auto& n : (*up)->node_names())
      EXPECT_TRUE(fs::exists((*up)->state_dir() / "nodes" / n / "states")) << n << " not saved";
    run_on(**up, "target1", "touch /root/from-the-first-lab && sync");
    ASSERT_TRUE((*up)->down().ok());
  }
  for (const char* n : {"router", "scanner", "target1"})
    EXPECT_TRUE(fs::exists(kept / "nodes" / n / "states")) << n;
  EXPECT_TRUE(fs::exists(kept / "id_ed25519"));

  auto t0 = Clock::now();
  auto again = Lab::up(*topo, o);
  ASSERT_TRUE(again.ok()) << again.error().message;
  RecordProperty("vm_lab_up_from_kept_states_seconds",
                 std::to_string(std::chrono::duration<double>(Clock::now() - t0).count()));
  Lab& lab = **again;
  EXPECT_FALSE(fs::exists(kept)) << "taken back";
  for (const char* n : {"router", "scanner", "target1"}) {
    ASSERT_TRUE(lab.last_resets().count(n)) << n << " was not restored at up";
    const lab::NodeReset& r = lab.last_resets().at(n);
    EXPECT_EQ(r.method, "snapshot") << n;
    EXPECT_TRUE(r.fallback.empty()) << n << ": " << r.fallback;
    ASSERT_TRUE(r.fresh.has_value()) << n;
    EXPECT_TRUE(r.fresh->reseeded) << n;
    EXPECT_LT(std::abs(r.fresh->clock_offset_after_ms), 50.0) << n;
    EXPECT_EQ(run_on(lab, n, "hostname"), std::string(n) + "\n");
  }
  // The pristine state, not the first lab's changes; and the lab works: the scanner
  // reaches the target through the restored router.
  int rc = 0;
  run_on(lab, "target1", "test ! -e /root/from-the-first-lab", &rc);
  EXPECT_EQ(rc, 0) << "a change made after the state was taken came back";
  const std::string target = lab.node("target1").addresses.at("targets");
  std::string ping = run_on(lab, "scanner", "ping -n -c1 -W5 " + target + " 2>&1", &rc);
  EXPECT_EQ(rc, 0) << ping;
  for (const auto& [net, dev] : lab.node("router").host_devs) {
    auto off = util::read_file("/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6");
    ASSERT_TRUE(off.ok()) << dev;
    EXPECT_EQ(*off, "1\n") << dev;
  }
  ASSERT_TRUE(lab.down().ok());
  EXPECT_TRUE(fs::exists(kept / "nodes" / "router" / "states")) << "kept again";

  // Without the option: the keep is not touched by a lab that does not ask for it, and a
  // lab of another testbed build or accel would delete it (kept_states_test.cc).
  LabOptions plain = o;
  plain.keep_states = false;
  plain.wait_until_ready = false;  // started, not waited for: enough to see it boots
  auto boots = Lab::up(*topo, plain);
  ASSERT_TRUE(boots.ok()) << boots.error().message;
  EXPECT_TRUE((*boots)->last_resets().empty()) << "a lab without keep_states restored";
  ASSERT_TRUE((*boots)->down().ok());
  EXPECT_TRUE(fs::exists(kept)) << "left for a lab that asks for it";
  std::error_code ec;
  fs::remove_all(kept.parent_path(), ec);
}

}  // namespace
}  // namespace testbed::virt
