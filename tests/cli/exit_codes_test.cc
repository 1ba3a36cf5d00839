// Every verb × {bad input, unknown name, success where it needs no lab}: the exit code and
// the first line of stdout and stderr, against tests/cli/golden/exit_codes.txt (the exit-code
// table of docs/cli.md, "Exit codes"). TESTBED_REGENERATE=1 rewrites the golden file; review
// the diff. Runs the built `testbed` binary with the source tree as working directory; the
// lab verbs get a private --state-dir (and test:///default, libvirt's mock hypervisor, where
// a libvirt call is made), so nothing here touches a real lab, the image cache or libvirtd.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string what;               ///< verb and situation, e.g. "lab status: unknown lab"
  std::vector<std::string> args;  ///< after `testbed`; $TMP is the test's temp dir
  int expected;                   ///< the exit code README's table promises
};

/// Makes a message independent of the run: log time stamps removed, temp and source
/// paths replaced.
std::string normalise(std::string s, const std::string& tmp) {
  static const std::regex stamp(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ )");
  s = std::regex_replace(s, stamp, "");
  for (const auto& [from, to] : {std::pair<std::string, std::string>{tmp, "$TMP"},
                                 {std::string(TESTBED_SOURCE_DIR), "$SRC"}})
    for (size_t p; !from.empty() && (p = s.find(from)) != std::string::npos;)
      s.replace(p, from.size(), to);
  return s;
}

/// The line that says what happened: the first "error:" line if there is one (progress
/// lines come before it; "FILE:LINE:COL: error:" counts), else the first non-empty line.
std::string message_line(const std::string& s, const std::string& tmp) {
  std::istringstream in(s);
  std::string line, first;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    line = normalise(line, tmp);
    if (line.compare(util::location_prefix(line), 7, "error: ") == 0) return line;
    if (first.empty()) first = line;
  }
  return first;
}

std::string replace_tmp(std::string s, const std::string& tmp) {
  for (size_t p; (p = s.find("$TMP")) != std::string::npos;) s.replace(p, 4, tmp);
  return s;
}

class CliExitCodes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("cli-test");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    fs::path t0 = tmp_->path();
    fs::create_directories(t0 / "labs");
    fs::create_directories(t0 / "images");
    fs::create_directories(t0 / "empty");
    std::ofstream(t0 / "broken.yaml") << "name: broken\nscanners: [\n";
    std::ofstream(t0 / "empty.yaml") << "";
    std::ofstream(t0 / "local.bin") << "x";
    // ci-smoke with an image no recipe defines (7.59 for 7.95).
    std::ofstream(t0 / "noimage.yaml")
        << "name: noimage\ntopology: " << TESTBED_SOURCE_DIR
        << "/topology/two-subnet-small.yaml\nscanners:\n  - {label: \"7.59\", image: "
           "scanner-nmap-7.59}\ncommand: [nmap, -oX, \"{xml}\", \"{targets}\"]\n";
    std::ofstream(t0 / "not-a-pcap.pcap") << "hello\n";
    std::ofstream(t0 / "newer-model.json")
        << R"({"format": "testbed-identify-model", "schema_version": 99})";
    // A valid experiment whose libvirt URI names a socket nobody listens on.
    std::ofstream(t0 / "sockless.yaml")
        << "name: sockless\ntopology: " << TESTBED_SOURCE_DIR
        << "/topology/two-subnet-small.yaml\nbackend: lxc\nuri: lxc:///system?socket="
        << (t0 / "no-libvirt-sock").string()
        << "\nscanners:\n  - {label: \"7.80\", image: scanner-nmap-7.80}\n"
           "command: [nmap, -T4, -A, -v, -oX, \"{xml}\", \"{targets}\"]\n";
    // A results directory (two versions, one run each) for report, diff and export.
    using namespace report::testing;
    fs::path r = t0 / "results";
    write_plan(r, {"7.80", "7.93"}, 1);
    write_run(r, {"7.80", 1});
    ScanSpec b{"7.93", 1};
    b.extra_ports = {8888};
    write_run(r, b);
  }
  std::unique_ptr<util::TempDir> tmp_;
};

TEST_F(CliExitCodes, EveryVerbMatchesTheGoldenTable) {
  const std::vector<Case> cases = {
      {"no verb", {}, 2},
      {"unknown verb", {"nosuchverb"}, 2},
      {"unknown global flag", {"--nosuchflag", "version"}, 2},
      {"misspelt verb", {"analyse", "x.pcap"}, 2},
      {"unknown option, no verb", {"--foo"}, 2},
      {"--help", {"--help"}, 0},

      {"run: experiment file missing", {"run", "nosuch.yaml"}, 2},
      {"run: YAML syntax error", {"run", "$TMP/broken.yaml"}, 2},
      {"run: image without a recipe", {"run", "$TMP/noimage.yaml"}, 2},
      {"run: bad --repeat", {"run", "experiments/nmap7.yaml", "--repeat", "0"}, 2},
      {"run: libvirtd does not answer", {"run", "$TMP/sockless.yaml"}, 4},
      {"run: --baseline not a directory",
       {"run", "experiments/nmap7.yaml", "--baseline", "$TMP/nosuch"},
       2},

      {"analyze: no input", {"analyze"}, 2},
      {"analyze: capture missing", {"analyze", "nosuch.pcap"}, 2},
      {"analyze: not a capture", {"analyze", "$TMP/not-a-pcap.pcap"}, 2},
      {"analyze: bad --scanner-ip",
       {"analyze", "--scanner-ip", "300.1.1.1",
        "tests/analysis/data/nmap793-loopback/capture.pcap"},
       2},
      {"analyze: negative --unique-limit",
       {"analyze", "--unique-limit", "-1", "tests/analysis/data/nmap793-loopback/capture.pcap"},
       2},
      {"analyze: a capture", {"analyze", "tests/analysis/data/nmap793-loopback/capture.pcap"}, 0},

      {"report: not a results directory", {"report", "$TMP/empty"}, 2},
      {"report: directory missing", {"report", "$TMP/nosuch"}, 2},
      {"report: negative --unique-limit", {"report", "--unique-limit", "-1", "$TMP/results"}, 2},
      {"report: results directory", {"report", "$TMP/results"}, 0},

      {"signatures: directory missing", {"signatures", "$TMP/nosuch"}, 2},
      {"signatures: not a results directory", {"signatures", "$TMP/empty"}, 2},

      {"fingerprint: directory missing", {"fingerprint", "$TMP/nosuch", "-o", "$TMP/m.json"}, 2},
      {"fingerprint: not a results directory", {"fingerprint", "$TMP/empty", "-o", "$TMP/m.json"}, 2},
      {"fingerprint: no model file named", {"fingerprint", "$TMP/results"}, 2},
      {"fingerprint: results directory", {"fingerprint", "$TMP/results", "-o", "$TMP/m.json"}, 0},

      {"identify: capture missing", {"identify", "nosuch.pcap"}, 2},
      {"identify: not a capture", {"identify", "$TMP/not-a-pcap.pcap"}, 2},
      {"identify: no scanner found",
       {"identify", "--scanner", "198.51.100.7", "tests/analysis/data/nmap793-loopback/capture.pcap"},
       2},
      {"identify: model of a newer schema",
       {"identify", "--model", "$TMP/newer-model.json", "tests/analysis/data/nmap793-loopback/capture.pcap"},
       2},
      {"identify: a capture",
       {"identify", "--json", "tests/analysis/data/nmap793-loopback/capture.pcap"},
       0},

      {"diff: one argument", {"diff", "$TMP/results"}, 2},
      {"diff: directory missing", {"diff", "$TMP/results", "$TMP/nosuch"}, 2},
      {"diff: not a results directory", {"diff", "$TMP/results", "$TMP/empty"}, 2},
      {"diff: same directory", {"diff", "$TMP/results", "$TMP/results"}, 0},
      {"diff: no latest pointer", {"diff", "$TMP/results", "latest"}, 2},

      {"export: not a results directory", {"export", "$TMP/empty", "--version", "7.80"}, 2},
      {"export: no --version", {"export", "$TMP/results"}, 2},
      {"export: unknown version", {"export", "$TMP/results", "--version", "7.99", "-o", "$TMP/x.pcap"}, 2},
      {"export: unknown phase",
       {"export", "$TMP/results", "--version", "7.93", "--phase", "os", "-o", "$TMP/x.pcap"}, 2},
      {"export: directory of the file missing",
       {"export", "$TMP/results", "--version", "7.93", "-o", "$TMP/nosuch/x.pcap"}, 1},
      {"export: unique packets", {"export", "$TMP/results", "--version", "7.93", "-o", "$TMP/x.pcap"}, 0},

      {"results: not a results directory", {"results", "$TMP/empty"}, 2},
      {"results: directory missing", {"results", "$TMP/nosuch"}, 2},
      {"results: results directory", {"results", "$TMP/results"}, 0},
      {"results: a run directory", {"results", "--json", "$TMP/results/7.80/1"}, 0},

      {"validate: YAML syntax error", {"validate", "--kind", "experiment", "$TMP/broken.yaml"}, 2},
      {"validate: YAML syntax error, no --kind", {"validate", "$TMP/broken.yaml"}, 2},
      {"validate: empty file", {"validate", "$TMP/empty.yaml"}, 2},
      {"validate: image without a recipe", {"validate", "$TMP/noimage.yaml"}, 2},
      {"validate: file missing", {"validate", "nosuch.yaml"}, 2},
      {"validate: the committed experiment", {"validate", "experiments/nmap7.yaml"}, 0},

      {"lab: no subcommand", {"lab"}, 2},
      {"lab: misspelt subcommand", {"lab", "statuss"}, 2},
      {"lab up: topology missing", {"lab", "up", "nosuch.yaml", "--state-dir", "$TMP/labs"}, 2},
      {"lab up: bad --name",
       {"lab", "up", "topology/two-subnet.yaml", "--name", "UX_Lab", "--state-dir", "$TMP/labs"},
       2},
      {"lab up: libvirtd does not answer",
       {"lab", "--uri", "lxc:///system?socket=$TMP/no-libvirt-sock", "up",
        "topology/two-subnet.yaml", "--state-dir", "$TMP/labs"},
       4},
      {"lab status: bad name", {"lab", "status", "UX_Lab", "--state-dir", "$TMP/labs"}, 2},
      {"lab status: unknown lab", {"lab", "status", "nolab", "--state-dir", "$TMP/labs"}, 2},
      {"lab status: no labs", {"lab", "status", "--state-dir", "$TMP/labs"}, 0},
      // lab exec: every failure of testbed's own is 255 (the rest is the command's status).
      {"lab exec: no command", {"lab", "exec", "--state-dir", "$TMP/labs", "nolab", "scanner"},
       255},
      {"lab exec: unknown option",
       {"lab", "exec", "--nosuch", "--state-dir", "$TMP/labs", "nolab", "scanner", "--", "true"},
       255},
      {"lab exec: unknown lab",
       {"lab", "exec", "--state-dir", "$TMP/labs", "nolab", "scanner", "--", "true"},
       255},
      {"lab cp: unknown lab",
       {"lab", "cp", "nolab", "$TMP/local.bin", "scanner:/tmp/x", "--state-dir", "$TMP/labs"},
       2},
      {"lab cp: missing argument", {"lab", "cp", "nolab", "$TMP/local.bin"}, 2},
      {"lab reset: unknown lab",
       {"lab", "reset", "nolab", "target1", "--state-dir", "$TMP/labs"},
       2},
      {"lab down: bad name", {"lab", "down", "UX_Lab", "--state-dir", "$TMP/labs"}, 2},
      {"lab down: unknown lab", {"lab", "down", "nolab", "--state-dir", "$TMP/labs"}, 2},
      {"lab down: unknown lab, --ignore-missing",
       {"lab", "--uri", "test:///default", "down", "nolab", "--ignore-missing", "--state-dir",
        "$TMP/labs"},
       0},

      {"image: no subcommand", {"image"}, 2},
      {"image build: unknown image",
       {"image", "build", "nosuchimage", "--cache", "$TMP/images"},
       2},
      {"image build: names and --all",
       {"image", "build", "router", "--all", "--cache", "$TMP/images"},
       2},
      {"image rm: unknown image", {"image", "rm", "nosuchimage", "--cache", "$TMP/images"}, 2},
      {"image rm: no name", {"image", "rm", "--cache", "$TMP/images"}, 2},
      {"image list: empty cache", {"image", "list", "--cache", "$TMP/images"}, 0},

      {"gc: unknown option", {"gc", "--nosuch"}, 2},
      {"gc: libvirtd does not answer",
       {"gc", "--uri", "lxc:///system?socket=$TMP/no-libvirt-sock", "--state-dir", "$TMP/labs"},
       4},
      {"gc: nothing to collect",
       {"gc", "--dry-run", "--uri", "test:///default", "--state-dir", "$TMP/labs"},
       0},

      {"prune: no --keep", {"prune", "$TMP"}, 2},
      {"prune: a results directory, not its parent", {"prune", "$TMP/results", "--keep", "1"}, 2},
      {"prune: nothing to remove", {"prune", "$TMP", "--keep", "1", "--dry-run"}, 0},

      {"nightly: no subcommand", {"nightly"}, 2},
      {"nightly install: bad --at",
       {"nightly", "install", "experiments/nmap7.yaml", "--at", "25:00", "--cron-dir", "$TMP"},
       2},
      {"nightly status: no job",
       {"nightly", "status", "nmap7", "--cron-dir", "$TMP", "--unit-dir", "$TMP"},
       2},
      {"nightly remove: no job",
       {"nightly", "remove", "nmap7", "--cron-dir", "$TMP", "--unit-dir", "$TMP"},
       2},

      {"history: no results directory in it", {"history", "$TMP/empty"}, 2},
      {"history: one results directory, not its experiment", {"history", "$TMP/results"}, 2},

      {"lab capture: unknown lab",
       {"lab", "capture", "nolab", "scan", "-w", "$TMP/x.pcap", "--state-dir", "$TMP/labs"},
       2},
      {"lab graph: topology missing", {"lab", "graph", "nosuch.yaml"}, 2},
      {"lab graph: dot", {"lab", "graph", "topology/two-subnet.yaml", "--format", "dot"}, 0},

      {"host check: not a remote lab host", {"host", "check", "qemu:///system"}, 2},
      {"host check: bad --min-free",
       {"host", "check", "--min-free", "lots", "qemu+ssh://root@lab1/system"},
       2},

      {"version: extra argument", {"version", "extra"}, 2},
      {"version", {"version"}, 0},
  };
  const fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  ASSERT_TRUE(fs::exists(bin)) << bin << " (tests/cli depends on the testbed target)";
  const std::string tmp = tmp_->path().string();
  std::string table;
  for (const Case& c : cases) {
    std::vector<std::string> argv = {bin.string()};
    for (const auto& a : c.args) argv.push_back(replace_tmp(a, tmp));
    util::ProcessOptions po;
    po.cwd = TESTBED_SOURCE_DIR;
    po.timeout = std::chrono::seconds(60);
    po.extra_env = {"TESTBED_IMAGE_DIR=" + tmp + "/images"};
    auto r = util::run_process(argv, po);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->exit_code, c.expected)
        << c.what << "\nstdout: " << r->out << "\nstderr: " << r->err;
    std::string cmd = "testbed";
    for (const auto& a : c.args) cmd += " " + a;
    table += "## " + c.what + "\n$ " + cmd + "\nexit " + std::to_string(r->exit_code) + "\n";
    if (auto o = message_line(r->out, tmp); !o.empty()) table += "out: " + o + "\n";
    if (auto e = message_line(r->err, tmp); !e.empty()) table += "err: " + e + "\n";
    table += "\n";
  }
  const fs::path golden = fs::path(TESTBED_SOURCE_DIR) / "tests/cli/golden/exit_codes.txt";
  const char* regen = std::getenv("TESTBED_REGENERATE");
  if (regen && std::string(regen) == "1") {
    std::ofstream(golden, std::ios::binary) << table;
    return;
  }
  std::ifstream in(golden, std::ios::binary);
  ASSERT_TRUE(in) << "missing " << golden << " (run with TESTBED_REGENERATE=1)";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), table) << golden << " differs; TESTBED_REGENERATE=1 rewrites it";
}

}  // namespace
}  // namespace testbed

namespace testbed {
namespace {

// Issue 19 item 5: global flags after the verb; a message about a file starts with its
// FILE:LINE:COL: (no time stamp unless --timestamps), so an editor can jump to it.
TEST(CliOptions, GlobalFlagsAfterTheVerbAndLocatedMessages) {
  const std::string bin = (std::filesystem::path(TESTBED_BINARY_DIR) / "testbed").string();
  auto t = util::TempDir::create("cli-options");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const std::string broken = (t->path() / "broken.yaml").string();
  std::ofstream(broken) << "name: broken\nscanners: [\n";
  util::ProcessOptions po;
  po.cwd = TESTBED_SOURCE_DIR;

  auto q = util::run_process(
      {bin, "analyze", "-q", "tests/analysis/data/nmap793-loopback/capture.pcap"}, po);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->exit_code, 0) << q->err;
  EXPECT_EQ(q->err, "") << "-q after the verb silences the info lines";
  EXPECT_NE(q->out.find("## Table 1"), std::string::npos);

  auto plain = util::run_process({bin, "validate", "--kind", "experiment", broken}, po);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->exit_code, 2);
  EXPECT_EQ(plain->err.rfind(broken + ":2:11: error: YAML syntax error", 0), 0u) << plain->err;

  auto stamped =
      util::run_process({bin, "validate", "--kind", "experiment", broken, "--timestamps"}, po);
  ASSERT_TRUE(stamped.ok());
  EXPECT_EQ(stamped->exit_code, 2);
  EXPECT_TRUE(std::regex_search(stamped->err, std::regex(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ )")))
      << stamped->err;
  EXPECT_NE(stamped->err.find(broken + ":2:11: error: YAML syntax error"), std::string::npos);

  // `lab`'s --uri also after its subcommand.
  auto uri = util::run_process({bin, "lab", "down", "nolab", "--ignore-missing", "--uri",
                                "test:///default", "--state-dir", t->path().string()},
                               po);
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->exit_code, 0) << uri->err;
}

// The same --unique-limit default in analyze and report (was 20 and 100).
TEST(CliOptions, UniqueLimitDefaultIsTheSameInAnalyzeAndReport) {
  const std::string bin = (std::filesystem::path(TESTBED_BINARY_DIR) / "testbed").string();
  auto a = util::run_process({bin, "analyze", "--help"});
  auto r = util::run_process({bin, "report", "--help"});
  ASSERT_TRUE(a.ok() && r.ok());
  const std::regex def(R"(--unique-limit[^\n]*\n?[^\n]*\(default (\d+))");
  std::smatch ma, mr;
  ASSERT_TRUE(std::regex_search(a->out, ma, def)) << a->out;
  ASSERT_TRUE(std::regex_search(r->out, mr, def)) << r->out;
  EXPECT_EQ(ma[1].str(), mr[1].str());
}

}  // namespace
}  // namespace testbed
