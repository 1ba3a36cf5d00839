// `testbed lab exec` and `lab cp` on a real LXC lab (label `lab`), through the built CLI as a
// user runs it: standard input streamed (random bytes round trip), output byte-exact with
// stdout and stderr apart, the exit status passed through, a PTY with -t only, a killed
// `lab exec` (SIGINT, SIGTERM; with and without -t) leaves nothing running on the node,
// testbed's own failures exit 255; `lab cp` round trips both ways. Also `lab up` printing
// its nodes and addresses, and an unknown node listing the lab's nodes. One lab for all.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/subprocess.h"
#include "tests/support/live_lab.h"
#include "tests/support/testbed_cli.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;
using test_support::launch;
using test_support::testbed_binary;

const std::string kLab = "tbexec";

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

class LabExec : public test_support::LiveLab {
 protected:
  static void SetUpTestSuite() { bring_up(kLab, "tb-exec-test"); }
  static void TearDownTestSuite() { take_down(); }

  static util::ProcessResult exec(std::vector<std::string> cmd,
                                  std::optional<std::string> in = std::nullopt,
                                  std::vector<std::string> flags = {}) {
    std::vector<std::string> a = {"lab", "exec"};
    a.insert(a.end(), flags.begin(), flags.end());
    a.insert(a.end(), {kLab, "scanner", "--"});
    a.insert(a.end(), cmd.begin(), cmd.end());
    return tb(a, in);
  }
  /// /bin/sh SCRIPT run locally (for redirections from and to files).
  static int sh(const std::string& script) {
    auto r = util::run_process({"/bin/sh", "-c", script});
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r->err.empty()) << script << ": " << r->err;
    return r ? r->exit_code : -1;
  }
  static std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

  /// PIDs on the scanner whose command line contains `marker` (through a second exec).
  static std::string remote_pgrep(const std::string& marker) {
    auto r = exec({"pgrep", "-f", marker});
    return r.exit_code == 0 ? r.out : "";
  }

  /// Starts `lab exec [flags] scanner -- sh -c 'echo started; exec sleep N'`, sends `sig`
  /// once the remote command runs, and returns testbed's exit code; nothing may be left.
  static int kill_exec(int sig, const std::vector<std::string>& flags, const std::string& marker) {
    std::vector<std::string> a = {"lab", "exec"};
    a.insert(a.end(), flags.begin(), flags.end());
    a.insert(a.end(), {kLab, "scanner", "--", "sh", "-c", "echo started; exec " + marker});
    bool sent = false;
    std::string seen;
    auto l = launch(a, [&](const std::string& line, pid_t pid) {
      if (sent || line.find("started") == std::string::npos) return;
      // The remote process is there before it is killed: the test can fail.
      for (int i = 0; i < 50 && (seen = remote_pgrep(marker)).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      ::kill(pid, sig);
      sent = true;
    });
    EXPECT_TRUE(sent) << l.log;
    EXPECT_FALSE(seen.empty()) << "the remote command was never seen running";
    // TERM at once; the KILL fallback 2 s later: allow it.
    std::string left;
    for (int i = 0; i < 40 && !(left = remote_pgrep(marker)).empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(left, "") << "still running on the node after `lab exec` got signal " << sig;
    return l.exit_code;
  }

};

TEST_F(LabExec, UpListsNodesAndAddresses) {
  EXPECT_NE(up_out_->find("scanner"), std::string::npos) << *up_out_;
  EXPECT_NE(up_out_->find("10.250.0.3"), std::string::npos) << *up_out_;
  EXPECT_NE(up_out_->find("scan=172.24.0.10"), std::string::npos) << *up_out_;
  EXPECT_NE(up_out_->find("targets=172.24.1.10"), std::string::npos) << *up_out_;
}

TEST_F(LabExec, StdinStreamedAndOutputByteExact) {
  // 3 MiB through `cat`: more than the SSH windows, so input and output must flow together.
  const std::string data = random_bytes(3 << 20, 7);
  const fs::path in = dir_->path() / "in.bin", out = dir_->path() / "out.bin";
  ASSERT_TRUE(util::write_file_atomic(in, data));
  ASSERT_EQ(sh(testbed_binary() + " lab exec " + kLab + " scanner -- cat <" + q(in) + " >" +
               q(out)),
            0);
  auto back = util::read_file(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), data.size());
  EXPECT_TRUE(*back == data) << "bytes differ after the round trip";

  auto sum = exec({"sha256sum"}, data.substr(0, 100000));
  EXPECT_EQ(sum.exit_code, 0) << sum.err;
  EXPECT_EQ(sum.out.substr(0, 64), util::sha256_hex(data.substr(0, 100000)));

  auto read = exec({"sh", "-c", "read x; echo \"got:$x\""}, std::string("hello\n"));
  EXPECT_EQ(read.out, "got:hello\n");

  auto abc = exec({"printf", "abc"});
  EXPECT_EQ(abc.exit_code, 0);
  EXPECT_EQ(abc.out, "abc");  // no newline added
  EXPECT_EQ(abc.err, "");
  auto both = exec({"sh", "-c", "printf out1; printf err1 >&2; printf out2"});
  EXPECT_EQ(both.out, "out1out2");
  EXPECT_EQ(both.err, "err1");
}

TEST_F(LabExec, ExitStatusPassedAndOwnFailuresAre255) {
  EXPECT_EQ(exec({"sh", "-c", "exit 7"}).exit_code, 7);
  EXPECT_EQ(exec({"sh", "-c", "exit 2"}).exit_code, 2);
  EXPECT_EQ(exec({"true"}).exit_code, 0);
  EXPECT_EQ(exec({"sh", "-c", "kill -TERM $$"}).exit_code, 128 + SIGTERM);
  EXPECT_EQ(exec({"no-such-program-x"}).exit_code, 127);

  auto node = tb({"lab", "exec", kLab, "scaner", "--", "true"});
  EXPECT_EQ(node.exit_code, 255);
  EXPECT_NE(node.err.find("has no node 'scaner'; its nodes: router, scanner, target1"),
            std::string::npos)
      << node.err;
  EXPECT_EQ(tb({"lab", "exec", "nolab", "scanner", "--", "true"}).exit_code, 255);
  EXPECT_EQ(tb({"lab", "exec", "--nosuchflag", kLab, "scanner", "--", "true"}).exit_code, 255);
  auto reset = tb({"lab", "reset", kLab, "scaner"});
  EXPECT_EQ(reset.exit_code, 2);
  EXPECT_NE(reset.err.find("its nodes: router, scanner, target1"), std::string::npos);
}

TEST_F(LabExec, PtyOnlyWithT) {
  auto no = exec({"sh", "-c", "test -t 0 && echo tty || echo notty"});
  EXPECT_EQ(no.out, "notty\n");
  auto yes = exec({"sh", "-c", "test -t 0 && test -t 1 && tty"}, std::nullopt, {"-t"});
  EXPECT_EQ(yes.exit_code, 0) << yes.out << yes.err;
  EXPECT_EQ(yes.out.rfind("/dev/pts/", 0), 0u) << yes.out;
  EXPECT_NE(yes.out.find("\r\n"), std::string::npos) << "a terminal's output, unchanged";
}

TEST_F(LabExec, KilledExecLeavesNothingOnTheNode) {
  EXPECT_EQ(kill_exec(SIGINT, {"-n"}, "sleep 3011"), 128 + SIGINT);
  EXPECT_EQ(kill_exec(SIGTERM, {"-n"}, "sleep 3012"), 128 + SIGTERM);
  EXPECT_EQ(kill_exec(SIGHUP, {"-n"}, "sleep 3013"), 128 + SIGHUP);
  EXPECT_EQ(kill_exec(SIGTERM, {"-t", "-n"}, "sleep 3014"), 128 + SIGTERM);
}

TEST_F(LabExec, CpBothWaysByteExact) {
  const std::string data = random_bytes(700 * 1024 + 3, 11);
  const fs::path up = dir_->path() / "up.bin", down = dir_->path() / "down.bin";
  ASSERT_TRUE(util::write_file_atomic(up, data));
  auto u = tb({"lab", "cp", kLab, up.string(), "scanner:/tmp/cp-test.bin"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  auto sum = exec({"sha256sum", "/tmp/cp-test.bin"});
  EXPECT_EQ(sum.out.substr(0, 64), util::sha256_hex(data));
  auto d = tb({"lab", "cp", kLab, "scanner:/tmp/cp-test.bin", down.string()});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto back = util::read_file(down);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == data);
  // Into a directory, under the source's name.
  auto dir = tb({"lab", "cp", kLab, up.string(), "scanner:/tmp"});
  ASSERT_EQ(dir.exit_code, 0) << dir.err;
  EXPECT_EQ(exec({"cmp", "/tmp/cp-test.bin", "/tmp/up.bin"}).exit_code, 0);
  // Bad input: 2 with what is wrong.
  auto missing = tb({"lab", "cp", kLab, "scanner:/tmp/no-such-file", down.string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("scanner:/tmp/no-such-file: no such regular file"),
            std::string::npos)
      << missing.err;
  EXPECT_EQ(tb({"lab", "cp", kLab, up.string(), down.string()}).exit_code, 2);
  auto node = tb({"lab", "cp", kLab, up.string(), "scaner:/tmp/x"});
  EXPECT_EQ(node.exit_code, 2);
  EXPECT_NE(node.err.find("its nodes:"), std::string::npos) << node.err;
}

// SIGINT half-way through a long upload: exit 130, nothing of it left on the node.
TEST_F(LabExec, InterruptedCpLeavesNothing) {
  const fs::path big = dir_->path() / "big.bin";
  ASSERT_EQ(sh("truncate -s 512M " + q(big)), 0);  // sparse: the transfer is the slow part
  const std::string bin = testbed_binary();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(bin.c_str(), bin.c_str(), "lab", "cp", kLab.c_str(), big.c_str(), "scanner:/tmp/big.bin",
            static_cast<char*>(nullptr));
    _exit(127);
  }
  // Under way: the .part file exists on the node.
  bool started = false;
  for (int i = 0; i < 100 && !started; ++i) {
    started = exec({"test", "-f", "/tmp/big.bin.part"}).exit_code == 0;
    if (!started) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(started) << "the upload was never seen under way";
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130) << status;
  auto left = exec({"sh", "-c", "ls /tmp/big.bin* 2>/dev/null"});
  EXPECT_EQ(left.out, "") << "left on the node";
}

}  // namespace
}  // namespace testbed
