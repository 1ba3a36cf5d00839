#include "orchestrator/util/subprocess.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

namespace testbed::util {
namespace {

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(Subprocess, ArgumentsAreNotParsedByAShell) {
  auto r = run_process({"echo", "$(id)", ";", "a b"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "$(id) ; a b\n");
}

TEST(Subprocess, StdinAndLineCallback) {
  std::vector<std::string> lines;
  ProcessOptions o;
  o.stdin_data = "one\ntwo\nthree";
  o.on_stdout_line = [&](const std::string& l) { lines.push_back(l); };
  auto r = run_process({"cat"}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "three"}));
}

TEST(Subprocess, CheckedFailureQuotesCommand) {
  auto r = run_checked({"sh", "-c", "echo broken >&2; exit 1"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("broken"), std::string::npos);
  EXPECT_NE(r.error().message.find("status 1"), std::string::npos);
}

TEST(Subprocess, MissingProgram) {
  EXPECT_FALSE(run_process({"/nonexistent/program"}).ok());
  EXPECT_FALSE(have_program("no-such-program-testbed"));
  EXPECT_TRUE(have_program("sh"));
}

TEST(Subprocess, TimeoutKills) {
  ProcessOptions o;
  o.timeout = std::chrono::milliseconds(200);
  auto r = run_process({"sleep", "30"}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 128 + 15);
}

// A cancelled child is stopped with everything it started (its own process group): the
// shell and the `sleep` it left in the background; one that ignores SIGTERM is killed
// after the grace period.
TEST(Subprocess, CancelStopsTheChildsWholeProcessGroup) {
  std::atomic<bool> cancel{false};
  ProcessOptions o;
  o.cancel = &cancel;
  o.cancel_grace = std::chrono::milliseconds(500);
  pid_t grandchild = 0;
  o.on_stdout_line = [&](const std::string& l) {
    grandchild = std::atoi(l.c_str());
    cancel = true;
  };
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_process({"sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait; sleep 30"}, o);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(r->exit_code, 128 + 9) << "the shell ignores SIGTERM: SIGKILL after the grace";
  EXPECT_LT(took, std::chrono::seconds(5));
  ASSERT_GT(grandchild, 0);
  // The background sleep went with its group (it may linger briefly as a zombie).
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string s;
    std::getline(stat, s);
    gone = s.empty() || s.find(") Z") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "the grandchild " << grandchild << " still runs";
}

TEST(Subprocess, AlreadyCancelledStopsAtOnce) {
  std::atomic<bool> cancel{true};
  ProcessOptions o;
  o.cancel = &cancel;
  auto r = run_process({"sleep", "30"}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(r->exit_code, 128 + 15);
}

TEST(Subprocess, FormatArgvQuotes) {
  EXPECT_EQ(format_argv({"nmap", "-oX", "a b", "it's"}), "nmap -oX 'a b' 'it'\\''s'");
}

}  // namespace
}  // namespace testbed::util
