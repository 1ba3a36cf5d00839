// End to end, on the real lab (label e2e): `testbed run experiments/ci-smoke.yaml` builds
// the images if needed, brings the lab up, scans with two Nmap versions, captures on the
// router, writes the run directories and the report, and takes the lab down.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <map>
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

void expect_counts(const nlohmann::json& j, const test_support::Counts& c, const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(j["packets"].get<uint64_t>(), c.packets);
  EXPECT_EQ(j["bytes"].get<uint64_t>(), c.bytes);
  EXPECT_EQ(j["icmp"].get<uint64_t>(), c.icmp);
  EXPECT_EQ(j["tcp"].get<uint64_t>(), c.tcp);
  EXPECT_EQ(j["udp"].get<uint64_t>(), c.udp);
  EXPECT_EQ(j["other"].get<uint64_t>(), c.other);
}

TEST(EndToEnd, CiSmokeExperiment) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (libvirt LXC, capture)";
  auto out = util::TempDir::create("testbed-e2e", "/var/tmp");
  ASSERT_TRUE(out.ok());
  auto r = util::run_process(
      {kTestbed, "run", std::string(TESTBED_SOURCE_DIR) + "/experiments/ci-smoke.yaml", "--output",
       out->path().string(), "--baseline", "latest-good", "--junit",
       (out->path() / "junit.xml").string()},
      {.on_stdout_line = [](const std::string& l) { fprintf(stderr, "%s\n", l.c_str()); }});
  ASSERT_TRUE(r.ok());
  fprintf(stderr, "%s\n", r->err.c_str());
  ASSERT_EQ(r->exit_code, 0);

  fs::path results = test_support::run_results_dir(out->path() / "ci-smoke");
  ASSERT_FALSE(results.empty());
  for (const char* label : {"7.80", "7.95"}) {
    fs::path run = results / label / "1";
    SCOPED_TRACE(run.string());
    for (const char* f : {"capture.pcap", "nmap.xml", "nmap.log", "phases.json", "manifest.json"})
      EXPECT_TRUE(fs::exists(run / f)) << f;
    auto m = nlohmann::json::parse(*util::read_file(run / "manifest.json"));
    EXPECT_EQ(m["status"], "complete");
    EXPECT_EQ(m["capture"]["kernel_dropped"], 0);
    EXPECT_EQ(m["capture"]["interface_dropped"], 0);  // the README claims both
    EXPECT_NE(m["scanner_version"].get<std::string>().find(std::string("Nmap version ") + label),
              std::string::npos);
    EXPECT_GT(m["capture"]["packets"].get<uint64_t>(), 1000u);
  }
  for (const char* f : {"report.html", "report.md", "report.json"})
    EXPECT_TRUE(fs::exists(results / f)) << f;
  // The first night: no latest-good to compare with yet (said, not fatal); the complete run
  // becomes latest and latest-good; the verdict is valid JUnit with no failure.
  EXPECT_NE(r->err.find("running without a baseline"), std::string::npos) << r->err;
  for (const char* p : {"latest", "latest-good"})
    EXPECT_EQ(fs::read_symlink(out->path() / "ci-smoke" / p), results.filename()) << p;
  auto x = util::run_process({"xmllint", "--noout", "--schema",
                              std::string(TESTBED_SOURCE_DIR) + "/tests/nightly/junit.xsd",
                              (out->path() / "junit.xml").string()});
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->exit_code, 0) << x->err;
  auto junit = util::read_file(out->path() / "junit.xml");
  ASSERT_TRUE(junit.ok());
  EXPECT_NE(junit->find("failures=\"0\" errors=\"0\""), std::string::npos) << *junit;

  // Table 1 equals tshark's counts on the same capture.
  auto rep = nlohmann::json::parse(*util::read_file(results / "report.json"));
  ASSERT_EQ(rep["analysis"]["captures"].size(), 2u);
  for (const auto& c : rep["analysis"]["captures"]) {
    EXPECT_EQ(c["scanner"], "172.24.0.10");  // auto-detected: the lab's scanner address
    auto [sent, recv] = tshark_counts(c["pcap"].get<std::string>(), c["scanner"]);
    EXPECT_GT(sent.tcp, 1000u);
    expect_counts(c["sent"], sent, c["label"].get<std::string>() + " sent");
    expect_counts(c["received"], recv, c["label"].get<std::string>() + " received");
  }
  // The report renders.
  std::string html = *util::read_file(results / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_TRUE(rep["versions"].size() == 2u);

  // Table 2 is not trivial: the port scans differ by port, as the README says — 7.80
  // probes TCP 3007 and 3013, 7.95 probes 5985 and 5986 instead (nmap-services' top-1000
  // list changed in 7.95), and the analysis finds them unique to each version.
  std::map<std::string, std::set<int>> probed, unique;
  for (const auto& c : rep["analysis"]["captures"])
    for (const auto& p : c["port_usage"])
      if (p["proto"] == "tcp") probed[c["label"].get<std::string>()].insert(p["port"].get<int>());
  bool strobe_row = false;
  for (const auto& row : rep["analysis"]["table2"]["rows"]) {
    if (row["phase"] != "strobe") continue;
    strobe_row = true;
    for (const auto& [label, cell] : row["inputs"].items())
      for (const auto& k : cell["unique_packets"])
        if (k["proto"] == "TCP" && k.contains("dport")) unique[label].insert(k["dport"].get<int>());
  }
  ASSERT_TRUE(strobe_row) << rep["analysis"]["table2"].dump();
  for (int port : {3007, 3013}) {
    EXPECT_TRUE(probed["7.80"].count(port)) << "7.80 should probe " << port;
    EXPECT_FALSE(probed["7.95"].count(port)) << "7.95 should not probe " << port;
    EXPECT_TRUE(unique["7.80"].count(port)) << port << " unique to 7.80 in Table 2";
  }
  for (int port : {5985, 5986}) {
    EXPECT_TRUE(probed["7.95"].count(port)) << "7.95 should probe " << port;
    EXPECT_FALSE(probed["7.80"].count(port)) << "7.80 should not probe " << port;
    EXPECT_TRUE(unique["7.95"].count(port)) << port << " unique to 7.95 in Table 2";
  }
}

}  // namespace
}  // namespace testbed
