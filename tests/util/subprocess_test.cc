#include "orchestrator/util/subprocess.h"

#include <gtest/gtest.h>

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

TEST(Subprocess, FormatArgvQuotes) {
  EXPECT_EQ(format_argv({"nmap", "-oX", "a b", "it's"}), "nmap -oX 'a b' 'it'\\''s'");
}

}  // namespace
}  // namespace testbed::util
