// The scope guard for masscan and ZMap, table-driven like guard_test.cc: every spelling
// each tool accepts of every option that names hosts, reads them from a file, spoofs a
// source or picks where frames go, beside its allowed lab counterpart. The lab is
// topology/two-subnet-small.yaml: mgmt 10.250.0.0/24 (the host is .1), scan 172.24.0.0/24
// (scanner .10, router .1), targets 172.24.1.0/24.
#include <gtest/gtest.h>

#include "orchestrator/config/topology.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/scanners/zmap/options.h"

namespace testbed::scanners {
namespace {

struct Case {
  std::vector<std::string> args;  ///< after the kind's base command
  bool refused;
  std::string why;                ///< a part of the refusal (empty when allowed)
  size_t index = 0;               ///< the refused argument's position in args, from 1
};

const std::vector<std::string> kMasscanBase = {"masscan",      "--adapter", "{scan_interface}",
                                               "--router-mac", "{router_mac}", "-oL",
                                               "{output}",     "{targets}"};
const std::vector<std::string> kZmapBase = {
    "zmap", "-i", "{scan_interface}", "-G", "{router_mac}", "-b", std::string(zmap::kLabBlocklist),
    "-o",   "{output}", "{targets}"};

const std::vector<Case> kMasscan = {
    // --- Targets: operands, ranges, lists, and every --range alias.
    {{"8.8.8.8"}, true, "'8.8.8.8' is outside the lab's target subnets", 1},
    {{"172.24.1.1-172.24.2.9"}, true, "range '172.24.1.1-172.24.2.9' is not inside", 1},
    {{"172.24.1.10-172.24.1.1"}, true, "not an IPv4 address, CIDR block or range", 1},
    {{"172.24.1.10,8.8.8.8"}, true, "'8.8.8.8' is outside", 1},
    {{"0.0.0.0/0"}, true, "outside the lab's target subnets", 1},
    {{"10.250.0.1"}, true, "outside", 1},
    {{"::1"}, true, "not an IPv4 address", 1},
    {{"[fe80::1]"}, true, "not an IPv4 address", 1},
    {{"--range", "8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--range=8.8.8.8"}, true, "'8.8.8.8' is outside", 1},
    {{"--range:8.8.8.8"}, true, "'8.8.8.8' is outside", 1},
    {{"--ip", "1.1.1.1-1.1.1.9"}, true, "not inside", 2},
    {{"--dst-ip=8.8.8.8/8"}, true, "outside", 1},
    {{"--target-ip", "8.8.8.8"}, true, "outside", 2},
    {{"--ranges", "172.24.1.10 8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"172.24.1.10-172.24.1.20"}, false, ""},
    {{"172.24.1.10,172.24.1.12"}, false, ""},
    {{"--range", "172.24.1.0/25"}, false, ""},
    {{"--range=172.24.1.10-172.24.1.12"}, false, ""},
    // --- Target files, config files, the whole Internet: refused.
    {{"-iL", "hosts.txt"}, true, "reads targets or settings from a file", 1},
    {{"--includefile", "hosts.txt"}, true, "from a file", 1},
    {{"--includefile=hosts.txt"}, true, "from a file", 1},
    {{"-c", "scan.conf"}, true, "from a file", 1},
    {{"-cscan.conf"}, true, "from a file", 1},
    {{"--conf", "scan.conf"}, true, "from a file", 1},
    {{"--config=scan.conf"}, true, "from a file", 1},
    {{"--resume", "paused.conf"}, true, "from a file", 1},
    {{"-iR"}, true, "the whole Internet", 1},
    {{"--readscan", "x.bin"}, true, "reads an earlier scan", 1},
    // --- Exclusions: lab targets; the file form refused.
    {{"--exclude", "8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--exclude=255.255.255.255"}, true, "outside", 1},
    {{"--exclude-range:1.0.0.0-1.0.0.9"}, true, "not inside", 1},
    {{"--exclude-ip", "10.250.0.1"}, true, "outside", 2},
    {{"--excludefile", "x.txt"}, true, "from a file", 1},
    {{"--excludefile=/etc/masscan/exclude.conf"}, true, "from a file", 1},
    {{"--exclude", "172.24.1.11"}, false, ""},
    {{"--exclude-ranges=172.24.1.11-172.24.1.12"}, false, ""},
    // --- Spoofed source: lab addresses only, every alias and -S.
    {{"-S", "10.9.9.9"}, true, "'10.9.9.9' is outside the lab's scan and targets", 2},
    {{"-S10.9.9.9"}, true, "'10.9.9.9' is outside", 1},
    {{"--adapter-ip", "8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--source-ip=8.8.8.8"}, true, "outside", 1},
    {{"--spoof-ip:1.2.3.4"}, true, "outside", 1},
    {{"--src-ip", "172.24.0.10-172.24.2.10"}, true, "not inside", 2},
    {{"--adapter-ip", "{source_ip}"}, false, ""},
    {{"--adapter-ip", "172.24.0.20"}, false, ""},
    {{"-S172.24.0.20-172.24.0.22"}, false, ""},
    // --- Adapter and MACs: the scan interface, the lab router, the scanner's own MAC.
    {{"-e", "mgmt"}, true, "not the scanner's scan-side interface", 2},
    {{"-emgmt"}, true, "not the scanner's scan-side interface", 1},
    {{"-i", "eth0"}, true, "interface 'eth0'", 2},
    {{"-ieth0"}, true, "interface 'eth0'", 1},
    {{"--adapter=lo"}, true, "interface 'lo'", 1},
    {{"--interface", "mgmt"}, true, "interface 'mgmt'", 2},
    {{"--router-mac", "00:11:22:33:44:55"}, true, "frames must go to the lab router", 2},
    {{"--router-mac=ff-ff-ff-ff-ff-ff"}, true, "frames must go to the lab router", 1},
    {{"--dest-mac:00:11:22:33:44:55"}, true, "frames must go to the lab router", 1},
    {{"--router-ip", "10.250.0.1"}, true, "ARP for a router address", 1},
    {{"--adapter-mac", "02:00:00:00:00:01"}, true, "another MAC address", 1},
    {{"--source-mac=02:00:00:00:00:01"}, true, "another MAC address", 1},
    {{"--adapter-vlan", "5"}, true, "another VLAN", 1},
    {{"-e", "scan"}, false, ""},
    {{"-escan"}, false, ""},
    // --- Output: the result file is {output}, as XML or list.
    {{"-oJ", "{output}"}, true, "-oX (XML) or -oL (list)", 1},
    {{"-oB", "/tmp/x"}, true, "-oX (XML) or -oL (list)", 1},
    {{"--output-filename", "/tmp/x"}, true, "must be {output}", 2},
    {{"-oX", "{output}"}, false, ""},
    // --- Other refusals and unknowns.
    {{"--banners"}, true, "banner grabbing", 1},
    {{"--arpscan"}, true, "ARP-scans", 1},
    {{"--nostatus"}, true, "hides the status line", 1},
    {{"--pcap", "x.pcap"}, true, "second capture", 1},
    {{"--nosuch", "1"}, true, "not a masscan option the guard knows", 1},
    {{"-T4"}, true, "not a masscan option the guard knows", 1},
    {{"scanme.example"}, true, "not an IPv4 address", 1},
    {{"{oops}"}, true, "the only placeholder that stands alone", 1},
    {{"-p", "{targets}"}, true, "a placeholder belongs", 2},
    // --- Everyday commands.
    {{"-p", "21,22,80,443", "--rate", "1000", "--wait", "2"}, false, ""},
    {{"-p80", "--rate=100000", "--retries", "1", "--seed", "7", "--open-only"}, false, ""},
    {{"--ports", "0-1023", "-sS", "-Pn", "-n", "--ttl", "64", "--randomize-hosts"}, false, ""},
};

const std::vector<Case> kZmap = {
    // --- Targets: operands only, addresses and CIDR blocks (no ranges, no names).
    {{"8.8.8.8"}, true, "'8.8.8.8' is outside the lab's target subnets", 1},
    {{"0.0.0.0/0"}, true, "outside", 1},
    {{"172.24.1.1-172.24.1.9"}, true, "not an IPv4 address or CIDR", 1},
    {{"scanme.example"}, true, "not an IPv4 address", 1},
    {{"--", "8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"172.24.1.10"}, false, ""},
    {{"172.24.1.0/28"}, false, ""},
    // --- Target files (whitelists), config files: refused in every spelling.
    {{"-w", "allow.txt"}, true, "from a file", 1},
    {{"-wallow.txt"}, true, "from a file", 1},
    {{"--whitelist-file=allow.txt"}, true, "from a file", 1},
    {{"--white", "allow.txt"}, true, "from a file", 1},  // an abbreviation getopt accepts
    {{"-I", "ips.txt"}, true, "not a ZMap option", 1},  // 2.1.1 has no -I
    {{"-C", "/etc/zmap/zmap.conf"}, true, "from a file", 1},
    {{"--config=x.conf"}, true, "from a file", 1},
    {{"-qC", "x.conf"}, true, "from a file", 1},
    // --- Blocklists: only the image's empty lab blocklist.
    {{"-b", "/etc/zmap/blacklist.conf"}, true, "the only one allowed", 2},
    {{"-b/tmp/x"}, true, "the only one allowed", 1},
    {{"--blacklist-file", "/dev/null"}, true, "the only one allowed", 2},
    {{"--black=/tmp/x"}, true, "the only one allowed", 1},
    // --- Spoofed source: lab addresses, no ranges.
    {{"-S", "10.9.9.9"}, true, "'10.9.9.9' is outside", 2},
    {{"-S10.9.9.9"}, true, "'10.9.9.9' is outside", 1},
    {{"--source-ip=8.8.8.8"}, true, "'8.8.8.8' is outside", 1},
    {{"--source-ip", "172.24.0.10-172.24.0.12"}, true, "not an IPv4 address", 2},
    {{"-qS8.8.8.8"}, true, "'8.8.8.8' is outside", 1},
    {{"-S", "{source_ip}"}, false, ""},
    {{"--source-ip=172.24.0.20"}, false, ""},
    // --- Interface, gateway MAC, source MAC, IP layer.
    {{"-i", "mgmt"}, true, "not the scanner's scan-side interface", 2},
    {{"-imgmt"}, true, "interface 'mgmt'", 1},
    {{"--interface=eth0"}, true, "interface 'eth0'", 1},
    {{"-G", "00:11:22:33:44:55"}, true, "frames must go to the lab router", 2},
    {{"-G00:11:22:33:44:55"}, true, "frames must go to the lab router", 1},
    {{"--gateway-mac=ff:ff:ff:ff:ff:ff"}, true, "frames must go to the lab router", 1},
    {{"--gateway", "00:11:22:33:44:55"}, true, "frames must go to the lab router", 2},
    {{"--source-mac", "02:00:00:00:00:01"}, true, "another MAC address", 1},
    {{"-X"}, true, "kernel's routing", 1},
    {{"--vpn"}, true, "kernel's routing", 1},
    {{"-i", "scan"}, false, ""},
    // --- Output and probes.
    {{"-o", "/tmp/x.csv"}, true, "must be {output}", 2},
    {{"--output-file=/tmp/x"}, true, "must be {output}", 1},
    {{"--probe-args=file:/etc/passwd"}, true, "payload files", 1},
    // --- Unknown or ambiguous options, placeholders.
    {{"--nosuch"}, true, "not a ZMap option", 1},
    {{"-Z"}, true, "not a ZMap option", 1},
    {{"--out", "x"}, true, "ambiguous", 1},
    {{"--rate"}, true, "needs a value", 1},
    {{"{oops}"}, true, "the only placeholder that stands alone", 1},
    // --- Everyday commands.
    {{"-p", "80", "-r", "1000", "-c", "2", "-M", "tcp_synscan"}, false, ""},
    {{"--target-port=80", "--rate=5000", "-O", "csv", "-f", "saddr,sport,classification,success"}, false, ""},
    {{"-qv", "5", "-P", "2", "--seed", "7", "--disable-syslog", "-T", "1"}, false, ""},
};

class RawGuard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml");
    ASSERT_TRUE(t) << t.error().message;
    topo_ = new config::Topology(*t);
  }
  static void TearDownTestSuite() { delete topo_; }
  static void run(const std::vector<std::string>& base, const std::vector<Case>& cases) {
    int refused = 0, allowed = 0;
    for (const auto& c : cases) {
      std::vector<std::string> cmd = base;
      cmd.insert(cmd.end(), c.args.begin(), c.args.end());
      auto r = check_command(cmd, scope_of(*topo_));
      std::string label, all;
      for (const auto& a : c.args) label += a + " ";
      for (const auto& x : r) all += "[" + std::to_string(x.index) + "] " + x.reason + "\n";
      if (!c.refused) {
        EXPECT_TRUE(r.empty()) << base[0] << " " << label << "\n" << all;
        ++allowed;
        continue;
      }
      ++refused;
      ASSERT_FALSE(r.empty()) << base[0] << " " << label << " was allowed";
      EXPECT_NE(all.find(c.why), std::string::npos) << label << "\n" << all;
      EXPECT_EQ(r[0].index, base.size() - 1 + c.index) << label << "\n" << all;
    }
    EXPECT_GT(refused, 20);
    EXPECT_GT(allowed, 5);
  }
  static config::Topology* topo_;
};
config::Topology* RawGuard::topo_ = nullptr;

TEST_F(RawGuard, MasscanEverySpellingRefusedAndEveryLabCounterpartAllowed) {
  run(kMasscanBase, kMasscan);
}

TEST_F(RawGuard, ZmapEverySpellingRefusedAndEveryLabCounterpartAllowed) { run(kZmapBase, kZmap); }

// Without the adapter, the router MAC, the result file or {targets}, a raw-frame scanner
// would pick the default route's interface and gateway: each is required.
TEST_F(RawGuard, AdapterRouterMacOutputAndTargetsAreRequired) {
  auto r = check_command({"masscan", "-p80", "172.24.1.10"}, scope_of(*topo_));
  std::string all;
  for (const auto& x : r) all += x.reason + "\n";
  for (const char* need : {"-oL {output}", "{targets}", "--adapter {scan_interface}",
                           "--router-mac {router_mac}"})
    EXPECT_NE(all.find(need), std::string::npos) << need << "\n" << all;
  r = check_command({"zmap", "-p", "80", "172.24.1.10"}, scope_of(*topo_));
  all.clear();
  for (const auto& x : r) all += x.reason + "\n";
  for (const char* need : {"-o {output}", "{targets}", "-i {scan_interface}", "-G {router_mac}"})
    EXPECT_NE(all.find(need), std::string::npos) << need << "\n" << all;
}

TEST_F(RawGuard, LiteralTargetsIncludeRangesAndRangeOptions) {
  EXPECT_EQ(literal_targets({"masscan", "-p80", "172.24.1.10-172.24.1.12", "--range",
                             "172.24.1.20", "{targets}", "-S", "172.24.0.10"}),
            (std::vector<std::string>{"172.24.1.10-172.24.1.12", "172.24.1.20"}));
  EXPECT_EQ(literal_targets({"zmap", "-p", "80", "172.24.1.10", "-S", "172.24.0.10", "{targets}"}),
            (std::vector<std::string>{"172.24.1.10"}));
}

}  // namespace
}  // namespace testbed::scanners
