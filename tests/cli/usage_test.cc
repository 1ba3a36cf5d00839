// Issue 27, item 4 (CLI): a command line testbed cannot run is said as one "error:" line that
// names what to do: "did you mean" for verbs, subcommands and options; CLI11's refusals
// reworded; --unique-limit one rule for analyze and report; key fields spelled as in the
// experiment file; `diff X latest`; and every verb's --help ends with its own exit codes and
// an example. Runs the built `testbed` (no lab, no libvirt).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

util::ProcessResult testbed(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {(fs::path(TESTBED_BINARY_DIR) / "testbed").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  util::ProcessOptions po;
  po.cwd = TESTBED_SOURCE_DIR;
  po.timeout = std::chrono::seconds(60);
  auto r = util::run_process(argv, po);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : util::ProcessResult{};
}

// `testbed ARGS` exits 2 and says `want` on stderr.
void expect_error(const std::vector<std::string>& args, const std::string& want) {
  auto r = testbed(args);
  EXPECT_EQ(r.exit_code, 2) << args[0];
  EXPECT_NE(r.err.find(want), std::string::npos) << "want: " << want << "\ngot: " << r.err;
}

TEST(CliUsage, DidYouMeanForVerbsSubcommandsAndOptions) {
  expect_error({"analyse", "x.pcap"},
               "error: unknown command 'analyse'; did you mean 'analyze'? the commands are run, "
               "analyze,");
  expect_error({"lab", "statuss"},
               "error: unknown lab subcommand 'statuss'; did you mean 'status'? the lab "
               "subcommands are up, status,");
  EXPECT_EQ(testbed({"lab", "statuss"}).err.find("A subcommand is required"), std::string::npos);
  // An option of `lab` before the subcommand takes its value, which is no subcommand.
  expect_error({"lab", "--uri", "test:///default", "stauts"}, "did you mean 'status'?");
  expect_error({"nightly", "instal"}, "did you mean 'install'?");
  expect_error({"--foo"},
               "error: unknown option '--foo' before the command; testbed's own options are "
               "-v/--verbose, -q/--quiet, --timestamps, --version, --help; a command's options "
               "go after it (testbed COMMAND --help)");
  expect_error({"--verbos", "version"},
               "unknown option '--verbos' before the command; did you mean '--verbose'?");
  // A verb's unknown option is CLI11's refusal, reworded.
  expect_error({"gc", "--nosuch"}, "error: unexpected argument: --nosuch (testbed gc --help)");
}

// testbed's own flags before the verb take no value: `-q lab status` is `lab status`
// (bench/lab/*.sh call `testbed --quiet lab up …`).
TEST(CliUsage, GlobalFlagsBeforeTheVerbTakeNoValue) {
  for (const char* flag : {"-q", "--quiet", "-v", "--verbose", "--timestamps"}) {
    auto r = testbed({flag, "version"});
    EXPECT_EQ(r.exit_code, 0) << flag << ": " << r.err;
    EXPECT_NE(r.out.find("testbed "), std::string::npos) << flag;
  }
  auto r = testbed({"--quiet", "lab", "statuss"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("did you mean 'status'?"), std::string::npos) << r.err;
}

TEST(CliUsage, MissingFilesAndArgumentsAreErrorLines) {
  for (const auto& [args, want] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"run", "nosuch.yaml"},
            "error: nosuch.yaml: no such file (argument experiment) (testbed run --help)"},
           {{"validate", "nosuch.yaml"}, "error: nosuch.yaml: no such file"},
           {{"lab", "graph", "nosuch.yaml"}, "error: nosuch.yaml: no such file"},
           {{"report", "nosuch-dir"}, "error: nosuch-dir: no such directory"},
           {{"lab", "cp", "nolab", "x"}, "error: dest is required (testbed lab cp --help)"},
       }) {
    auto r = testbed(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_EQ(r.err.rfind(want, 0), 0u) << r.err;
  }
}

TEST(CliUsage, UniqueLimitIsOneRuleForAnalyzeAndReport) {
  const std::string pcap = "tests/analysis/data/nmap793-loopback/capture.pcap";
  auto a = testbed({"analyze", "--unique-limit", "-1", pcap});
  auto r = testbed({"report", "--unique-limit", "-1", "tests"});
  EXPECT_EQ(a.exit_code, 2);
  EXPECT_EQ(r.exit_code, 2) << "report took -1 as 18446744073709551615";
  const std::string want = "--unique-limit: '-1' is not a count: give a whole number from 0 to "
                           "999999999";
  EXPECT_NE(a.err.find(want), std::string::npos) << a.err;
  EXPECT_NE(r.err.find(want), std::string::npos) << r.err;
  EXPECT_LT(a.err.size(), 200u) << "no 309-digit bound: " << a.err;
  EXPECT_EQ(testbed({"analyze", "-q", "--unique-limit", "0", pcap}).exit_code, 0);
}

TEST(CliUsage, KeyFieldsAreSpelledAsInTheExperimentFile) {
  auto h = testbed({"analyze", "--help"});
  EXPECT_NE(h.out.find("tcp_options"), std::string::npos) << h.out;
  const std::string pcap = "tests/analysis/data/nmap793-loopback/capture.pcap";
  EXPECT_EQ(testbed({"analyze", "-q", "--key-fields", "tcp_options,ttl", pcap}).exit_code, 0);
  EXPECT_EQ(testbed({"analyze", "-q", "--key-fields", "tcp-options", pcap}).exit_code, 0);
  auto bad = testbed({"analyze", "--key-fields", "ttl,tcp_option", pcap});
  EXPECT_EQ(bad.exit_code, 2);
  // The message of the experiment file's analysis.key_fields (config::key_field_problem).
  EXPECT_NE(bad.err.find("error: --key-fields: unknown key field 'tcp_option' (known: ttl, ipid, "
                         "window, tcp_options, icmp); did you mean 'tcp_options'?"),
            std::string::npos)
      << bad.err;
}

TEST(CliUsage, DiffAcceptsLatestBesideOrInTheOtherDirectory) {
  auto t = util::TempDir::create("cli-usage");
  ASSERT_TRUE(t.ok());
  const fs::path exp = t->path() / "nmap7";
  const fs::path run = exp / "20261201T020000Z";
  report::testing::write_plan(run, {"7.80"}, 1);
  report::testing::write_run(run, {"7.80", 1});
  // No pointer yet: say what to give instead, without a word about --baseline.
  auto none = testbed({"diff", run.string(), "latest"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err.find("--baseline"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("'latest' names no results directory: there is no " +
                          (exp / "latest").string()),
            std::string::npos)
      << none.err;
  EXPECT_NE(none.err.find("Give a results directory instead"), std::string::npos) << none.err;

  fs::create_directory_symlink("20261201T020000Z", exp / "latest");
  auto beside = testbed({"diff", run.string(), "latest"});
  EXPECT_EQ(beside.exit_code, 0) << beside.err;
  auto in_exp = testbed({"diff", "latest", exp.string() + "/20261201T020000Z"});
  EXPECT_EQ(in_exp.exit_code, 0) << in_exp.err;
}

// Every verb and subcommand: its --help ends with the exit codes it can return and an
// example naming it, not testbed's whole table (which `testbed --help` prints).
TEST(CliUsage, EveryHelpHasItsOwnExitCodesAndAnExample) {
  const std::vector<std::vector<std::string>> commands = {
      {"run"},         {"analyze"},        {"report"},        {"diff"},      {"export"},
      {"results"},     {"signatures"},     {"lab"},           {"lab", "up"},
      {"lab", "status"}, {"lab", "exec"},  {"lab", "cp"},     {"lab", "reset"},
      {"lab", "graph"}, {"lab", "capture"}, {"lab", "down"},   {"image"},         {"image", "build"},
      {"image", "list"}, {"image", "rm"},  {"validate"},      {"gc"},
      {"prune"},       {"nightly"},        {"nightly", "install"}, {"nightly", "remove"},
      {"nightly", "status"}, {"host"},   {"host", "check"}, {"version"},
  };
  for (const auto& c : commands) {
    std::vector<std::string> args = c;
    args.push_back("--help");
    auto r = testbed(args);
    std::string path;
    for (const auto& w : c) path += (path.empty() ? "" : " ") + w;
    EXPECT_EQ(r.exit_code, 0) << path;
    EXPECT_NE(r.out.find("Exit codes: 0 "), std::string::npos) << path << "\n" << r.out;
    EXPECT_TRUE(std::regex_search(r.out, std::regex("Examples?: (.*\\n +)*testbed " + path + "( |\\n)")))
        << path << " --help has no example of it:\n" << r.out;
    EXPECT_EQ(r.out.find("Start with:"), std::string::npos) << path << ": testbed's own footer";
  }
  auto top = testbed({"--help"});
  EXPECT_NE(top.out.find("130  interrupted"), std::string::npos) << "the whole table stays here";
}

}  // namespace
}  // namespace testbed
