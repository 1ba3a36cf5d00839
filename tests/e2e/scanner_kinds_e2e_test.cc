// End to end, on the real lab (label e2e): `testbed run experiments/ci-scanner-kinds.yaml`
// scans one target with masscan and with ZMap (raw Ethernet frames through the lab router,
// {scan_interface} and {router_mac} filled in from the lab), captures on the router,
// fetches each tool's result file and writes the report. Table 1 equals tshark's counts;
// each run records its scanner kind; `testbed analyze` of a run directory reads the kind
// from it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/support/testbed_cli.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;
using test_support::tshark_counts;

const std::string kTestbed = std::string(TESTBED_BINARY_DIR) + "/testbed";

TEST(EndToEnd, MasscanAndZmapKinds) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (libvirt LXC, capture)";
  auto out = util::TempDir::create("testbed-e2e-kinds", "/var/tmp");
  ASSERT_TRUE(out.ok());
  auto r = util::run_process(
      {kTestbed, "run", std::string(TESTBED_SOURCE_DIR) + "/experiments/ci-scanner-kinds.yaml",
       "--output", out->path().string()},
      {.on_stdout_line = [](const std::string& l) { fprintf(stderr, "%s\n", l.c_str()); }});
  ASSERT_TRUE(r.ok());
  fprintf(stderr, "%s\n", r->err.c_str());
  ASSERT_EQ(r->exit_code, 0);

  fs::path results = test_support::run_results_dir(out->path() / "ci-scanner-kinds");
  ASSERT_FALSE(results.empty());
  struct Want {
    const char* label;
    const char* kind;
    const char* result;
    const char* log;
    const char* version;
  };
  for (const Want& w : {Want{"masscan", "masscan", "masscan.out", "masscan.log", "1.3.2"},
                        Want{"zmap", "zmap", "zmap.csv", "zmap.log", "zmap 2.1.1"}}) {
    fs::path run = results / w.label / "1";
    SCOPED_TRACE(run.string());
    for (const char* f : {"capture.pcap", w.result, w.log, "phases.json", "manifest.json"})
      EXPECT_TRUE(fs::exists(run / f)) << f;
    auto m = nlohmann::json::parse(*util::read_file(run / "manifest.json"));
    EXPECT_EQ(m["status"], "complete");
    EXPECT_EQ(m["scanner_kind"], w.kind);
    EXPECT_EQ(m["capture"]["kernel_dropped"], 0);
    EXPECT_EQ(m["capture"]["interface_dropped"], 0);
    EXPECT_NE(m["scanner_version"].get<std::string>().find(w.version), std::string::npos)
        << m["scanner_version"];
    // The command as run: the lab's scan interface and router MAC filled in.
    std::string argv = m["scanner_command"].dump();
    EXPECT_EQ(argv.find('{'), std::string::npos) << argv;
    EXPECT_NE(argv.find("\"scan\""), std::string::npos) << argv;
    // The timeline: one port-scan interval.
    auto tl = nlohmann::json::parse(*util::read_file(run / "phases.json"));
    ASSERT_EQ(tl["intervals"].size(), 1u) << tl.dump();
    EXPECT_EQ(tl["intervals"][0]["phase"], "port-scan");
    // No wake frame (EtherType 0x88B5, masscan's only) ever reaches the capture point.
    auto wake = util::run_checked({"tshark", "-n", "-r", (run / "capture.pcap").string(), "-Y",
                                   "eth.type == 0x88b5", "-T", "fields", "-e", "frame.number"});
    ASSERT_TRUE(wake.ok()) << wake.error().message;
    EXPECT_EQ(wake->out, "");
  }
  // masscan 1.3.2 may linger after its countdown; woken, it exits 0 and closes its output
  // ("# end"), and its countdown arrives line by line (the PTY's lone '\r' ends a line).
  auto mm = nlohmann::json::parse(*util::read_file(results / "masscan/1/manifest.json"));
  EXPECT_EQ(mm["scan"]["exit_status"], 0);
  EXPECT_LE(mm["scan"].value("wake_frames", nlohmann::json::array()).size(), 5u);
  auto out_file = util::read_file(results / "masscan/1/masscan.out");
  ASSERT_TRUE(out_file.ok());
  EXPECT_TRUE(out_file->ends_with("# end\n")) << *out_file;
  auto mlog = util::read_file(results / "masscan/1/masscan.log");
  ASSERT_TRUE(mlog.ok());
  size_t countdown_lines = 0;
  std::istringstream lines(*mlog);
  for (std::string l; std::getline(lines, l);) countdown_lines += l.find("waiting ") != std::string::npos &&
                                                                  l.find("waiting ") == l.rfind("waiting ");
  EXPECT_GE(countdown_lines, 2u) << *mlog;

  auto rep = nlohmann::json::parse(*util::read_file(results / "report.json"));
  ASSERT_EQ(rep["analysis"]["captures"].size(), 2u);
  for (const auto& c : rep["analysis"]["captures"]) {
    const std::string label = c["label"].get<std::string>();
    SCOPED_TRACE(label);
    EXPECT_EQ(c["scanner"], "172.24.0.10");
    auto [sent, recv] = tshark_counts(c["pcap"].get<std::string>(), c["scanner"]);
    // masscan: 4 ports, ZMap: port 80, of 1 target: the SYN probes and an answer to each
    // (SYN-ACK from the open FTP, HTTP and MySQL ports; RST from 22, where the target's
    // sshd listens on its mgmt address only).
    const std::set<int> want_ports = label == "masscan" ? std::set<int>{21, 22, 80, 3306}
                                                        : std::set<int>{80};
    const std::set<int> want_open = label == "masscan" ? std::set<int>{21, 80, 3306}
                                                       : std::set<int>{80};
    EXPECT_GE(sent.tcp, want_ports.size());
    EXPECT_GE(recv.tcp, want_ports.size());
    for (auto [j, t] : {std::pair{c["sent"], sent}, std::pair{c["received"], recv}}) {
      EXPECT_EQ(j["packets"].get<uint64_t>(), t.packets);
      EXPECT_EQ(j["bytes"].get<uint64_t>(), t.bytes);
      EXPECT_EQ(j["tcp"].get<uint64_t>(), t.tcp);
      EXPECT_EQ(j["icmp"].get<uint64_t>(), t.icmp);
      EXPECT_EQ(j["udp"].get<uint64_t>(), t.udp);
    }
    // Every probe port is in the port-usage figure; the open ones are in the result file.
    std::set<int> ports;
    for (const auto& p : c["port_usage"]) ports.insert(p["port"].get<int>());
    EXPECT_EQ(ports, want_ports);
    ASSERT_TRUE(c.contains(label)) << "the result summary keyed by kind";
    std::set<std::string> open;
    for (const auto& o : c[label]["open_ports"]) open.insert(o.get<std::string>());
    std::set<std::string> want;
    for (int p : want_open) want.insert("172.24.1.10 " + std::to_string(p) + "/tcp");
    EXPECT_EQ(open, want) << c[label]["open_ports"].dump();
  }

  // `testbed analyze` on a run directory reads the kind it recorded.
  auto a = util::run_process({kTestbed, "analyze", "--json", (results / "zmap" / "1").string()});
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->exit_code, 0) << a->err;
  EXPECT_NE(a->err.find("zmap.csv"), std::string::npos) << a->err;
  auto aj = nlohmann::json::parse(a->out);
  EXPECT_TRUE(aj["captures"][0].contains("zmap"));
}

}  // namespace
}  // namespace testbed
