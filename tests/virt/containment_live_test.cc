// Containment on the lab host (label `lab`): root on the scanner node tries to leave the
// lab while the host forwards (turned on for the test, restored after). The "outside" is a
// network namespace this test makes, 198.51.100.1/24 routed from the host; a capture
// there must see nothing of the probes. Every probe is aimed at that namespace, at the
// lab's own addresses, or at link-local multicast on a lab bridge — never elsewhere.
// Also: `gc` removes the firewall table of a lab whose owner was killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>

#include "orchestrator/config/topology.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/lab/host_firewall.h"
#include "orchestrator/lab/gc.h"
#include "orchestrator/lab/lab.h"
#include "tests/virt/live_lab_helpers.h"
#include "orchestrator/virt/naming.h"
#include "tests/host_capability.h"

namespace testbed::virt {
using lab::HostFirewall;
using lab::Lab;
using lab::LabOptions;
using lab::collect_garbage;
using lab::firewall_table;
using lab::install_host_firewall;
using lab::list_host_firewalls;
using lab::remove_host_firewall;
namespace {
namespace fs = std::filesystem;

const std::string kTag = std::to_string(::getpid() % 100000);
const std::string kNs = "tbout" + kTag;
const std::string kHostDev = "tbo" + kTag + "h";
const std::string kNsDev = "tbo" + kTag + "n";

using live::dead_pid;

int sh(const std::string& script, std::string* out = nullptr) {
  auto r = util::run_process({"/bin/sh", "-c", script});
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return -1;
  if (out) *out = r->out + r->err;
  return r->exit_code;
}

std::string read_trimmed(const std::string& path) {
  auto t = util::read_file(path);
  std::string s = t ? *t : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

/// Sets a sysctl file for the test's lifetime, then puts the old value back.
class SysctlFor {
 public:
  SysctlFor(std::string path, const std::string& value) : path_(std::move(path)) {
    old_ = read_trimmed(path_);
    std::ofstream(path_) << value << "\n";
  }
  ~SysctlFor() {
    if (!old_.empty()) std::ofstream(path_) << old_ << "\n";
  }

 private:
  std::string path_, old_;
};

/// tcpdump of inbound frames on the outside namespace's interface, stopped by its PID.
class Capture {
 public:
  explicit Capture(const fs::path& file) : file_(file) {
    pid_ = fork();
    if (pid_ == 0) {
      execlp("ip", "ip", "netns", "exec", kNs.c_str(), "tcpdump", "-n", "-p", "-U", "-Q", "in",
             "-i", kNsDev.c_str(), "-w", file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Until tcpdump has the file open, nothing is captured.
    for (int i = 0; i < 100 && !fs::exists(file_); ++i) usleep(50000);
    usleep(300000);
  }
  /// Stops tcpdump; the frames it saw, one summary line each.
  std::vector<std::string> stop() {
    if (pid_ > 0) {
      usleep(1000000);  // frames still in flight, and tcpdump reading its ring
      ::kill(pid_, SIGINT);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    std::string out;
    sh("tcpdump -n -r " + file_.string() + " 2>/dev/null", &out);
    std::vector<std::string> lines;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) lines.push_back(l);
    return lines;
  }
  ~Capture() { stop(); }

 private:
  fs::path file_;
  pid_t pid_ = -1;
};

/// The outside: a namespace with 198.51.100.1/24, the host 198.51.100.254 beside it.
class Outside {
 public:
  Outside() {
    ok_ = sh("set -e; ip netns add " + kNs + "; ip link add " + kHostDev + " type veth peer name " +
             kNsDev + "; ip link set " + kNsDev + " netns " + kNs +
             "; ip netns exec " + kNs + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1" +
             "; ip netns exec " + kNs + " ip addr add 198.51.100.1/24 dev " + kNsDev +
             "; ip netns exec " + kNs + " ip link set " + kNsDev + " up" +
             "; sysctl -qw net.ipv6.conf." + kHostDev + ".disable_ipv6=1" +
             "; ip addr add 198.51.100.254/24 dev " + kHostDev + "; ip link set " + kHostDev +
             " up") == 0;
  }
  ~Outside() {
    sh("ip link del " + kHostDev + " 2>/dev/null; ip netns del " + kNs + " 2>/dev/null");
  }
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};

std::string run_on(Lab& lab, const std::string& node, const std::string& script) {
  auto r = lab.exec(node, {"/bin/sh", "-c", script});
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? r->out + r->err : "";
}

/// Sum of the packet counters of the lab's rules (both tables) whose comment contains `what`.
uint64_t dropped(const std::string& lab, const std::string& what) {
  std::string out;
  sh("nft list table inet " + firewall_table(lab) + "; nft list table bridge " +
         firewall_table(lab),
     &out);
  uint64_t n = 0;
  std::istringstream in(out);
  std::regex counter(R"(counter packets (\d+) .*comment "([^"]*)\")");
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, counter) && m[2].str().find(what) != std::string::npos)
      n += std::stoull(m[1].str());
  }
  return n;
}

class Containment : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testbed::testing::libvirt_missing(); !why.empty()) GTEST_SKIP() << why;
    if (!util::have_program("nft")) GTEST_SKIP() << "nft is not installed (make setup)";
    if (!util::have_program("tcpdump")) GTEST_SKIP() << "tcpdump is not installed";
  }
};

TEST_F(Containment, RootOnTheScannerCannotLeaveTheLab) {
  for (const char* img : {"router", "scanner-nmap-7.80", "target-lamp-ftp"})
    if (!images::find_image(img).ok()) GTEST_SKIP() << "image '" << img << "' is not built";
  auto topo = config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml");
  ASSERT_TRUE(topo) << topo.error().message;
  auto state = util::TempDir::create("tb-contain", "/var/tmp");
  ASSERT_TRUE(state);
  LabOptions o;
  o.name = "tbcontain";
  o.state_root = state->path();
  (void)Lab::destroy(o.name, o);
  auto up = Lab::up(*topo, o);
  ASSERT_TRUE(up) << up.error().message;
  Lab& lab = **up;
  const std::string table = firewall_table(lab.name());
  const std::string mgmt = lab.bridge("mgmt"), scan = lab.bridge("scan");

  // The table exists, IPv6 is off on every bridge and no bridge has an IPv6 address.
  EXPECT_EQ(sh("nft list table inet " + table + " >/dev/null"), 0);
  EXPECT_EQ(sh("nft list table bridge " + table + " >/dev/null"), 0);
  for (const auto& n : topo->networks) {
    std::string br = lab.bridge(n.name);
    EXPECT_EQ(read_trimmed("/proc/sys/net/ipv6/conf/" + br + "/disable_ipv6"), "1") << br;
    std::string addrs;
    sh("ip -6 -o addr show dev " + br, &addrs);
    EXPECT_EQ(addrs, "") << br;
  }

  Outside outside;
  ASSERT_TRUE(outside.ok());
  SysctlFor fwd4("/proc/sys/net/ipv4/ip_forward", "1");
  SysctlFor fwd6("/proc/sys/net/ipv6/conf/all/forwarding", "1");
  const std::string scan_mac = read_trimmed("/sys/class/net/" + scan + "/address");
  ASSERT_FALSE(scan_mac.empty());

  // The lab still works with the table in place (bridged traffic passes): the scanner
  // reaches the target through the router, and SSH (these commands) works.
  EXPECT_NE(run_on(lab, "scanner", "ping -c 1 -W 2 172.24.1.10 && echo OK").find("OK"),
            std::string::npos);

  auto cap = std::make_unique<Capture>(state->path() / "outside.pcap");
  // Each probe: what root on the scanner tries. All aim at 198.51.100.1 (the namespace),
  // the host's own mgmt address, or link-local multicast.
  const std::vector<std::pair<std::string, std::string>> probes = {
      {"default route via the host's mgmt address",
       "while ip rule del priority 100 2>/dev/null; do :; done; "
       "ip route replace default via 10.250.0.1 dev mgmt; ping -c 2 -W 1 198.51.100.1; "
       "nmap -n -Pn -sS -p 22,80,443 --max-retries 0 198.51.100.1"},
      {"UDP and ICMP via the host with a spoofed outside source",
       "ip addr add 198.51.100.77/32 dev mgmt; ping -c 2 -W 1 -I 198.51.100.77 198.51.100.1; "
       "nmap -n -Pn -sU -p 53 -S 198.51.100.77 -e mgmt --max-retries 0 198.51.100.1"},
      {"spoofed lab sources (the router's, the host's own) via mgmt",
       "nmap -n -Pn -sS -p 80 -S 172.24.0.1 -e mgmt --max-retries 0 198.51.100.1; "
       "nmap -n -Pn -sS -p 80 -S 10.250.0.1 -e mgmt --max-retries 0 198.51.100.1"},
      {"frames to the scan bridge's MAC (no host address there)",
       "ip neigh replace 172.24.0.254 lladdr " + scan_mac + " dev scan nud permanent; "
       "ip route replace 198.51.100.0/24 via 172.24.0.254 dev scan onlink; "
       "ping -c 2 -W 1 -I 172.24.0.10 198.51.100.1; "
       "nmap -n -Pn -sS -p 80 -e scan --max-retries 0 198.51.100.1"},
      {"IPv6 link-local on the lab bridges",
       "sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.mgmt.disable_ipv6=0 "
       "net.ipv6.conf.scan.disable_ipv6=0; sleep 2; ping -6 -c 2 -W 1 -I mgmt ff02::1; "
       "ping -6 -c 2 -W 1 -I scan ff02::2; ip -6 route add ::/0 dev mgmt; "
       "ping -6 -c 2 -W 1 ::ffff:198.51.100.1"},
      {"DNS through the router",
       "getent hosts leak-probe.example; getent hosts 1.100.51.198.in-addr.arpa"},
      {"new connections to the host over mgmt",
       "nmap -n -Pn -sS -p 22,111,53 -e mgmt --max-retries 1 10.250.0.1"},
  };
  std::string to_host;
  for (const auto& [what, script] : probes) {
    std::string out = run_on(lab, "scanner", script);
    if (what.find("new connections") != std::string::npos) to_host = out;
    std::fprintf(stderr, "--- %s\n%s\n", what.c_str(), out.c_str());
  }
  auto seen = cap->stop();
  std::string leaked;
  for (const auto& l : seen) leaked += l + "\n";
  EXPECT_TRUE(seen.empty()) << "frames reached the outside:\n" << leaked;
  // The host itself dropped them (the table's counters), and its mgmt ports look filtered
  // (no RST, no answer) to the node.
  EXPECT_GT(dropped(lab.name(), "out of " + mgmt), 0u);
  EXPECT_GT(dropped(lab.name(), "out of " + scan) + dropped(lab.name(), "to the host"), 0u);
  EXPECT_NE(to_host.find("22/tcp  filtered"), std::string::npos) << to_host;
  // Spoofing the host's (or another node's) mgmt address was stopped at the port, so the
  // other nodes still reach the host: SSH to the target works (checked below).
  EXPECT_GT(dropped(lab.name(), "spoof"), 0u);
  EXPECT_EQ(to_host.find(" open "), std::string::npos) << to_host;
  std::printf("containment probes: %zu tried, %zu leaked (frames seen outside)\n", probes.size(),
              seen.size());

  // The capture can see: the host's own datagram to the outside arrives there.
  Capture control(state->path() / "control.pcap");
  EXPECT_EQ(sh("bash -c 'echo probe > /dev/udp/198.51.100.1/9'"), 0);
  EXPECT_FALSE(control.stop().empty()) << "the outside capture sees nothing at all";

  // SSH from the host still works after all that; lab down removes the table.
  EXPECT_NE(run_on(lab, "target1", "echo alive").find("alive"), std::string::npos);
  ASSERT_TRUE(lab.down());
  EXPECT_NE(sh("nft list table inet " + table + " 2>/dev/null"), 0) << "table left after down";
  EXPECT_NE(sh("nft list table bridge " + table + " 2>/dev/null"), 0) << "table left after down";
}

// A lab whose owner was killed leaves its table; gc removes it (and keeps a live owner's).
TEST_F(Containment, GcRemovesAKilledLabsTable) {
  auto state = util::TempDir::create("tb-gcfw", "/var/tmp");
  ASSERT_TRUE(state);
  LabOptions o;
  o.state_root = state->path();
  HostFirewall dead{"tbgcdead", "tbgc0-mgmt", *util::parse_cidr("10.250.0.0/24"),
                    {"tbgc0-mgmt", "tbgc0-scan"}, {{"tbgc0-x", "10.250.0.3"}}, {"tbgc0-x"}, dead_pid(), 0};
  HostFirewall live{"tbgclive", "tbgc1-mgmt", *util::parse_cidr("10.250.0.0/24"),
                    {"tbgc1-mgmt"}, {}, {}, ::getpid(), 0};
  ASSERT_TRUE(install_host_firewall(dead));
  ASSERT_TRUE(install_host_firewall(live));
  auto listed = list_host_firewalls();
  ASSERT_TRUE(listed) << listed.error().message;
  bool found = false;
  for (const auto& t : *listed)
    if (t.lab == "tbgcdead") found = t.owner_pid == dead.owner_pid;
  EXPECT_TRUE(found) << "the table records its owner";

  auto rep = collect_garbage(o, /*dry_run=*/false);
  ASSERT_TRUE(rep) << rep.error().message;
  std::string removed;
  for (const auto& r : rep->removed) removed += r + "\n";
  EXPECT_NE(removed.find("nft table inet testbed-tbgcdead"), std::string::npos) << removed;
  EXPECT_NE(sh("nft list table inet testbed-tbgcdead 2>/dev/null"), 0) << "gc left the table";
  EXPECT_NE(sh("nft list table bridge testbed-tbgcdead 2>/dev/null"), 0) << "gc left the table";
  EXPECT_EQ(sh("nft list table inet testbed-tbgclive >/dev/null"), 0) << "gc removed a live lab's";
  EXPECT_TRUE(remove_host_firewall("tbgclive"));
  EXPECT_TRUE(remove_host_firewall("tbgclive")) << "removing twice is fine";
}

}  // namespace
}  // namespace testbed::virt
