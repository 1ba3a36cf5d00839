// The scope guard, table-driven: every spelling Nmap accepts of every option that names
// hosts or reads them from elsewhere, each beside its allowed lab-scoped counterpart.
// The lab is topology/two-subnet-small.yaml: mgmt 10.250.0.0/24 (the host is .1), scan
// 172.24.0.0/24 (scanner .10, router .1), targets 172.24.1.0/24 (target .10).
#include <gtest/gtest.h>

#include <iostream>

#include "orchestrator/config/experiment.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/files.h"

namespace testbed::scanners {
namespace {

struct Case {
  std::vector<std::string> args;  ///< after "nmap -oX {xml} {targets}"
  bool refused;
  std::string why;                ///< a part of the refusal (empty when allowed)
  size_t index = 0;               ///< the refused argument's position in args, from 1
};

const std::vector<Case> kCases = {
    // --- Targets: bare arguments anywhere, also after "--".
    {{"8.8.8.8"}, true, "'8.8.8.8' is outside the lab's target subnets", 1},
    {{"scanme.example"}, true, "not an IPv4 address or CIDR", 1},
    {{"172.24.1.1-20"}, true, "not an IPv4 address or CIDR", 1},
    {{"172.24.0.0/16"}, true, "outside the lab's target subnets", 1},
    {{"10.250.0.1"}, true, "outside the lab's target subnets", 1},  // the host, on mgmt
    {{"fe80::1"}, true, "not an IPv4 address", 1},
    {{"-"}, true, "not an IPv4 address", 1},
    {{"-n", "--", "-S", "8.8.8.8"}, true, "a target: '-S' is not an IPv4", 3},  // after --
    {{"-p", "80", "8.8.8.8"}, true, "'8.8.8.8' is outside", 3},
    {{"172.24.1.10"}, false, ""},
    {{"172.24.1.128/25"}, false, ""},
    {{"-n", "--", "172.24.1.10"}, false, ""},
    // --- Target files and random targets: refused in every spelling.
    {{"-iL", "hosts.txt"}, true, "reads its targets from a file", 1},
    {{"-iLhosts.txt"}, true, "reads its targets from a file", 1},  // -i Lhosts.txt
    {{"--iL=hosts.txt"}, true, "reads its targets from a file", 1},
    {{"-i", "hosts.txt"}, true, "reads its targets from a file", 1},
    {{"-nihosts.txt"}, true, "reads its targets from a file", 1},
    {{"-iR", "10"}, true, "random Internet addresses", 1},
    {{"--iR=10"}, true, "random Internet addresses", 1},
    {{"-iR10"}, true, "reads its targets from a file", 1},  // -i R10
    // --- Exclusions: lab targets only; the file form is refused.
    {{"--exclude", "8.8.8.8"}, true, "outside the lab's target subnets", 2},
    {{"--exclude=scanme.example"}, true, "not an IPv4 address", 1},
    {{"-exclude", "172.24.1.5,8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--excl", "172.24.1.5"}, true, "ambiguous", 1},
    {{"--exclude", "172.24.1.5"}, false, ""},
    {{"-exclude=172.24.1.5,172.24.1.6"}, false, ""},
    {{"--excludefile", "x.txt"}, true, "reads exclusions from a file", 1},
    {{"--excludef=x.txt"}, true, "reads exclusions from a file", 1},
    {{"-excludefile", "x.txt"}, true, "reads exclusions from a file", 1},
    // --- Spoofed source (-S): an address of the lab's scan or targets networks.
    {{"-S", "10.9.9.9"}, true, "'10.9.9.9' is outside the lab's scan and targets", 2},
    {{"-S10.9.9.9"}, true, "'10.9.9.9' is outside", 1},
    {{"-nS10.9.9.9"}, true, "'10.9.9.9' is outside", 1},
    {{"-nAS", "10.250.0.1"}, true, "'10.250.0.1' is outside", 2},
    {{"-S", "172.24.0.10"}, false, ""},
    {{"-S172.24.0.20"}, false, ""},
    // --- Decoys (-D): lab addresses or ME; random decoys refused.
    {{"-D8.8.8.8"}, true, "'8.8.8.8' is outside", 1},
    {{"-D", "ME,8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"-D", "RND:10"}, true, "random decoy addresses", 2},
    {{"-nD", "RND"}, true, "random decoy addresses", 2},
    {{"-D", "172.24.0.20,ME,172.24.0.21"}, false, ""},
    {{"-D172.24.0.20"}, false, ""},
    // --- FTP bounce relay (-b): a lab target.
    {{"-b", "anonymous:x@8.8.8.8:21"}, true, "FTP relay '8.8.8.8' is outside", 2},
    {{"-b8.8.8.8"}, true, "FTP relay '8.8.8.8' is outside", 1},
    {{"-b", "ftp.example.org"}, true, "FTP relay 'ftp.example.org' is not an IPv4", 2},
    {{"-b", "ftp:ftp@172.24.1.10:21"}, false, ""},
    // --- Idle-scan zombie (-sI): a lab target.
    {{"-sI", "8.8.8.8"}, true, "zombie '8.8.8.8' is outside", 2},
    {{"--sI=8.8.8.8:80"}, true, "zombie '8.8.8.8' is outside", 1},
    {{"-sI=8.8.8.8"}, true, "zombie '8.8.8.8' is outside", 1},
    {{"-sI8.8.8.8"}, true, "not an Nmap scan type", 1},  // -s with I8.8.8.8
    {{"-sI", "172.24.1.10:80"}, false, ""},
    // --- DNS servers: lab addresses.
    {{"--dns-servers", "8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--dns=8.8.8.8"}, true, "'8.8.8.8' is outside", 1},
    {{"-dns-servers", "172.24.0.1,8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--dns-servers", "dns.example"}, true, "not an IPv4 address", 2},
    {{"--dns-servers", "172.24.0.1"}, false, ""},
    {{"-dns=172.24.0.1"}, false, ""},
    // --- Proxies: lab hosts.
    {{"--proxies", "http://8.8.8.8:8080"}, true, "proxy '8.8.8.8' is outside", 2},
    {{"--proxy", "socks4://1.2.3.4:1080"}, true, "proxy '1.2.3.4' is outside", 2},
    {{"-proxies=http://172.24.1.10:3128,socks4://9.9.9.9:1080"}, true, "'9.9.9.9' is outside", 1},
    {{"--prox", "http://172.24.1.10:3128"}, true, "ambiguous", 1},
    {{"--proxies", "172.24.1.10:3128"}, true, "not proto://host:port", 2},
    {{"--proxies", "http://172.24.1.10:3128"}, false, ""},
    // --- Interface (-e): the scanner's scan-side one only.
    {{"-e", "mgmt"}, true, "not the scanner's scan-side interface (scan)", 2},
    {{"-emgmt"}, true, "not the scanner's scan-side interface", 1},
    {{"-e", "eth0"}, true, "not the scanner's scan-side interface", 2},
    {{"-eth0"}, true, "interface 'th0'", 1},
    {{"-ne", "lo"}, true, "interface 'lo'", 2},
    {{"-e", "scan"}, false, ""},
    {{"-escan"}, false, ""},
    // --- NSE arguments: no newtargets, no outside hosts; the file form refused.
    {{"--script-args", "newtargets"}, true, "'newtargets' lets scripts add targets", 2},
    {{"--script-args=newtargets=1,max-newtargets=5"}, true, "newtargets", 1},
    {{"-script-args", "dns-brute.domain=lab,NewTargets"}, true, "newtargets", 2},
    {{"--script-a=newtargets"}, true, "ambiguous", 1},
    {{"--script-args", "dns-zone-transfer.server=8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--script-args", "http.proxy=http://8.8.8.8:3128/"}, true, "'8.8.8.8' is outside", 2},
    {{"--script-args", "target=fe80::1"}, true, "IPv6", 2},
    {{"--script-args-file", "args.txt"}, true, "reads NSE arguments from a file", 1},
    {{"--script-args", "http.useragent=testbed,dns-zone-transfer.server=172.24.0.1"}, false, ""},
    // --- Scripts: no broadcast/multicast or target-adding ones, no categories holding them.
    {{"--script", "broadcast-ping"}, true, "broadcasts, multicasts or adds targets", 2},
    {{"--script=broadcast"}, true, "category 'broadcast'", 1},
    {{"-script", "targets-asn"}, true, "adds targets", 2},
    {{"--script", "http-title,+broadcast-dhcp-discover"}, true, "broadcast-dhcp-discover", 2},
    {{"--script", "default or broadcast"}, true, "category 'broadcast'", 2},
    {{"--script", "safe"}, true, "category 'safe'", 2},
    {{"--script", "discovery"}, true, "category 'discovery'", 2},
    {{"--script", "all"}, true, "category 'all'", 2},
    {{"--script", "external"}, true, "category 'external'", 2},
    {{"--script", "broadcast-*"}, true, "is a pattern", 2},
    {{"--script", "/tmp/x.nse"}, true, "script file path", 2},
    {{"--script", "llmnr-resolve"}, true, "broadcasts", 2},
    {{"--scr=broadcast-ping"}, true, "ambiguous", 1},
    {{"--script", "default"}, false, ""},
    {{"--script=version,http-title,ssh-hostkey"}, false, ""},
    {{"-sC", "-sV"}, false, ""},
    // --- Other ways out: resume files, IPv6, data directories, route lookups, IP options.
    {{"--resume", "scan.log"}, true, "continues an earlier scan", 1},
    {{"--resu=scan.log"}, true, "continues an earlier scan", 1},
    {{"-6"}, true, "IPv6", 1},
    {{"-n6"}, true, "IPv6", 1},
    {{"--datadir", "/tmp/d"}, true, "replaces Nmap's data files", 1},
    {{"--route-dst", "8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--ip-options", "L 8.8.8.8"}, true, "'8.8.8.8' is outside", 2},
    {{"--ip-options", "\\x83\\x07\\x04\\x08\\x08\\x08\\x08"}, true, "in hex", 2},
    {{"--route-dst", "172.24.1.10"}, false, ""},
    {{"--ip-options", "R"}, false, ""},
    {{"-4"}, false, ""},
    // --- Unknown options: refused with the nearest known one.
    {{"--dnsservers", "172.24.0.1"}, true, "did you mean '--dns-servers'?", 1},
    {{"--scirpt", "default"}, true, "did you mean '--script'?", 1},
    {{"--exlude", "172.24.1.5"}, true, "did you mean '--exclude'?", 1},
    {{"-Z"}, true, "not an Nmap option", 1},
    {{"-nx"}, true, "'-x' is not an Nmap option", 1},
    {{"--open=1"}, true, "takes no value", 1},
    {{"-sB"}, true, "not an Nmap scan type", 1},
    // --- Placeholders where Nmap reads them.
    {{"-oN", "{xml}"}, true, "a placeholder belongs", 2},
    {{"-p", "{targets}"}, true, "a placeholder belongs", 2},
    {{"{oops}"}, true, "only placeholders are", 1},
    // --- Everyday commands of the study.
    {{"-T4", "-A", "-v"}, false, ""},
    {{"-sS", "-sV", "-p", "1-1000", "-Pn", "-n"}, false, ""},
    {{"-sSV", "-PS22,80", "-p80,443", "--top-ports", "100", "-d2", "-vv"}, false, ""},
    {{"-sU", "-O", "--reason", "--max-retries=2", "--unique", "--discovery-ignore-rst"}, false, ""},
    {{"--traceroute", "--spoof-mac", "0", "--osscan-guess", "-oN", "-", "--min-rate", "100"}, false, ""},
};

class Guard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml");
    ASSERT_TRUE(t) << t.error().message;
    topo_ = new config::Topology(*t);
  }
  static void TearDownTestSuite() { delete topo_; }
  static LabScope scope() { return scope_of(*topo_); }
  static std::vector<std::string> command(const std::vector<std::string>& args) {
    std::vector<std::string> c = {"nmap", "-oX", "{xml}", "{targets}"};
    c.insert(c.end(), args.begin(), args.end());
    return c;
  }
  static config::Topology* topo_;
};
config::Topology* Guard::topo_ = nullptr;

std::string joined(const std::vector<Refusal>& r) {
  std::string s;
  for (const auto& x : r) s += "[" + std::to_string(x.index) + "] " + x.reason + "\n";
  return s;
}

TEST_F(Guard, EverySpellingRefusedAndEveryLabCounterpartAllowed) {
  int refused = 0, allowed = 0;
  for (const auto& c : kCases) {
    auto cmd = command(c.args);
    auto r = check_command(cmd, scope());
    std::string label;
    for (const auto& a : c.args) label += a + " ";
    if (!c.refused) {
      EXPECT_TRUE(r.empty()) << label << "\n" << joined(r);
      ++allowed;
      continue;
    }
    ++refused;
    ASSERT_FALSE(r.empty()) << label << " was allowed";
    EXPECT_NE(r[0].reason.find(c.why), std::string::npos) << label << "\n" << joined(r);
    EXPECT_EQ(r[0].index, c.index + 3) << label << "\n" << joined(r);
  }
  // The README's figure (section "Scope guard").
  std::cout << "guard cases: " << kCases.size() << " tried, " << refused << " refused, "
            << allowed << " allowed\n";
  EXPECT_EQ(refused + allowed, static_cast<int>(kCases.size()));
}

TEST_F(Guard, TheProgramMustBeAKnownScannerKind) {
  for (const char* prog : {"bash", "/usr/bin/nmap", "nmap;id", "/usr/sbin/zmap", "masscan ", ""}) {
    auto r = check_command({prog, "-oX", "{xml}", "{targets}"}, scope());
    ASSERT_FALSE(r.empty()) << prog;
    EXPECT_EQ(r[0].index, 0u);
    EXPECT_NE(r[0].reason.find("known scanner kind (nmap, masscan, zmap)"), std::string::npos)
        << r[0].reason;
  }
  auto r = check_command({"nmpa", "-oX", "{xml}", "{targets}"}, scope());
  ASSERT_FALSE(r.empty());
  EXPECT_NE(r[0].reason.find("did you mean 'nmap'?"), std::string::npos) << r[0].reason;
  EXPECT_FALSE(check_command({}, scope()).empty());
  EXPECT_FALSE(check_command({"nmap", "-oX", "{xml}", "{targets}", "172.24.1.1\n"}, scope()).empty());
}

TEST_F(Guard, PlaceholdersAreRequired) {
  auto r = check_command({"nmap", "{targets}"}, scope());
  ASSERT_EQ(r.size(), 1u) << joined(r);
  EXPECT_NE(r[0].reason.find("needs \"-oX\", \"{xml}\""), std::string::npos);
  r = check_command({"nmap", "-oX", "{xml}"}, scope());
  ASSERT_EQ(r.size(), 1u) << joined(r);
  EXPECT_NE(r[0].reason.find("{targets}"), std::string::npos);
}

TEST_F(Guard, TargetsExpansionIsChecked) {
  auto s = scope_of(*topo_, {"172.24.1.10", "8.8.8.8"});
  auto r = check_command(command({}), s);
  ASSERT_EQ(r.size(), 1u) << joined(r);
  EXPECT_NE(r[0].reason.find("{targets} would give '8.8.8.8'"), std::string::npos) << r[0].reason;
  EXPECT_TRUE(check_command(command({}), scope_of(*topo_, {"172.24.1.10"})).empty());
}

TEST_F(Guard, EveryRefusalIsReported) {
  auto r = check_command(command({"-S10.9.9.9", "-D", "8.8.8.8", "--dns=1.1.1.1", "9.9.9.9"}), scope());
  ASSERT_EQ(r.size(), 4u) << joined(r);
  EXPECT_EQ(r[0].index, 4u);
  EXPECT_EQ(r[1].index, 6u);
  EXPECT_EQ(r[2].index, 7u);
  EXPECT_EQ(r[3].index, 8u);
}

// The messages `validate` and `run` print: file:line:col of the argument, its position,
// how Nmap reads it, and why it is refused.
TEST_F(Guard, ExperimentMessagesLocateTheArgument) {
  auto dir = util::TempDir::create("guard");
  ASSERT_TRUE(dir);
  std::string topo = std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml";
  std::string text = "name: x\ntopology: " + topo +
                     "\nscanners: [{label: a, image: b}]\n"
                     "command: [nmap, -T4, -S10.9.9.9, -oX, \"{xml}\", \"{targets}\"]\n";
  ASSERT_TRUE(util::write_file_atomic(dir->path() / "e.yaml", text));
  auto e = config::load_experiment((dir->path() / "e.yaml").string());
  ASSERT_TRUE(e) << e.error().message;
  auto st = check_experiment(*e, *topo_);
  ASSERT_FALSE(st);
  std::string want = (dir->path() / "e.yaml").string() +
                     ":4:22: command[2] '-S10.9.9.9': read by Nmap as -S 10.9.9.9 (spoofed source "
                     "address): '10.9.9.9' is outside the lab's scan "
                     "and targets networks (172.24.0.0/24, 172.24.1.0/24)";
  EXPECT_EQ(st.error().message, want);
}

TEST_F(Guard, ShippedExperimentsPass) {
  for (const char* f : {"nmap7.yaml", "ci-smoke.yaml", "capture-stress.yaml", "nmap7-ubuntu-kvm.yaml"}) {
    auto e = config::load_experiment(std::string(TESTBED_SOURCE_DIR) + "/experiments/" + f);
    ASSERT_TRUE(e) << e.error().message;
    auto t = config::load_topology(e->topology.string());
    ASSERT_TRUE(t) << t.error().message;
    auto st = check_experiment(*e, *t);
    EXPECT_TRUE(st) << f << ": " << st.error().message;
  }
}

TEST_F(Guard, LiteralTargetsAreWhatNmapReadsAsTargets) {
  EXPECT_EQ(literal_targets({"nmap", "-p", "80", "-oX", "{xml}", "1.2.3.4", "-S5.5.5.5", "{targets}",
                             "--", "-x"}),
            (std::vector<std::string>{"1.2.3.4", "-x"}));
  EXPECT_TRUE(literal_targets({"bash", "1.2.3.4"}).empty());
}

}  // namespace
}  // namespace testbed::scanners
