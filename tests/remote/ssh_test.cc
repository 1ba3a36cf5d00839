// End-to-end tests of SshSession against a private OpenSSH server that the test starts on
// 127.0.0.1 at a free port, with its own config, host key and authorized_keys in a temp dir.
#include "orchestrator/remote/ssh.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "tests/remote/sshd_server.h"

namespace testbed::remote {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_sshd::free_port;
using test_sshd::me;
using test_sshd::SshServer;
using test_sshd::write_text;

TEST_F(SshServer, ExecReturnsExitStatusAndSeparateStreams) {
  auto s = session();
  auto r = s.exec({"sh", "-c", "echo out; echo err >&2; exit 7"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_status, 7);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  auto ok = s.exec({"true"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->exit_status, 0);
  // A command killed by a signal reports 128+N, as a shell would.
  auto killed = s.exec({"sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  EXPECT_EQ(killed->exit_status, 128 + SIGTERM);
}

TEST_F(SshServer, StdinIsDelivered) {
  auto s = session();
  ExecOptions o;
  o.stdin_data = std::string("hello\nworld\n") + std::string(300000, 'x');
  auto r = s.exec({"cat"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, *o.stdin_data);
}

// `lab exec`'s mode: standard input streamed from a descriptor while output flows back
// raw. 4 MiB through `cat` is more than both SSH windows: writing it all before reading
// (as stdin_data does) would deadlock; the pump sends only what the window takes.
TEST_F(SshServer, StdinFdStreamsWhileRawOutputFlows) {
  auto s = session();
  std::mt19937 gen(3);
  std::string data(4 << 20, '\0');
  for (auto& c : data) c = static_cast<char>(gen() & 0xff);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread writer([&] {
    for (size_t off = 0; off < data.size();) {
      ssize_t n = ::write(fds[1], data.data() + off, data.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fds[1]);  // EOF, forwarded: cat ends
  });
  ExecOptions o;
  o.stdin_fd = fds[0];
  o.timeout = 60s;
  std::string out, err;
  o.on_out_data = [&](std::string_view d) { out.append(d); };
  o.on_err_data = [&](std::string_view d) { err.append(d); };
  auto r = s.exec({"sh", "-c", "cat; printf 'no newline' >&2"}, o);
  writer.join();
  ::close(fds[0]);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_status, 0);
  EXPECT_EQ(out.size(), data.size());
  EXPECT_TRUE(out == data) << "bytes changed on the way";
  EXPECT_EQ(err, "no newline");  // raw: nothing added, the PID marker removed
}

TEST_F(SshServer, LinesStreamAsTheyArrive) {
  auto s = session();
  std::vector<std::pair<std::string, double>> lines;
  const auto t0 = std::chrono::steady_clock::now();
  ExecOptions o;
  o.on_line = [&](std::string_view l) {
    lines.emplace_back(
        std::string(l),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  };
  auto r = s.exec({"sh", "-c", "echo a; sleep 1; echo b"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].first, "a");
  EXPECT_EQ(lines[1].first, "b");
  // Streaming means "a" arrives about a second before "b" (the command's sleep), not with
  // it at the end. Measured as a gap so that a slow command start on a loaded machine
  // (fork, shell) does not count against delivery.
  EXPECT_GE(lines[1].second - lines[0].second, 0.7)
      << "first line was not delivered before the command ended";
  EXPECT_LT(lines[0].second, 1.0);
  EXPECT_EQ(r->out, "a\nb\n");
}

// The runner stamps Nmap's lines with the host clock on arrival: the delay between a line
// being printed on the node and reaching on_line must be small. Same host here, so the
// remote `date` and our CLOCK_REALTIME are one clock.
TEST_F(SshServer, PtyLineDelayIsSmall) {
  auto s = session();
  std::vector<double> delays;
  ExecOptions o;
  o.pty = true;
  o.on_line = [&](std::string_view l) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    const double now = double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
    delays.push_back(now - std::stod(std::string(l)));
  };
  auto r = s.exec({"sh", "-c", "for i in 1 2 3 4 5; do date +%s.%N; sleep 0.2; done"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(delays.size(), 5u);
  double worst = 0;
  for (double d : delays) worst = std::max(worst, d);
  std::printf("pty line delay: worst %.1f ms over %zu lines\n", worst * 1e3, delays.size());
  EXPECT_LT(worst, 0.1);
}

TEST_F(SshServer, PtyMergesStreamsStripsCrAndIsATerminal) {
  auto s = session();
  std::vector<std::string> lines;
  ExecOptions o;
  o.pty = true;
  o.on_line = [&](std::string_view l) { lines.emplace_back(l); };
  auto r = s.exec({"sh", "-c", "echo out; echo err >&2; test -t 1 && echo tty; printf last"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->exit_status, 0);
  EXPECT_EQ(lines, (std::vector<std::string>{"out", "err", "tty", "last"}));
  EXPECT_EQ(r->out.find('\r'), std::string::npos);
  EXPECT_TRUE(r->err.empty());
}

// A status line rewritten in place with '\r' (masscan's countdown) arrives update by
// update on a PTY; "\r\n" is one line end, and `out` keeps the text without any '\r'.
TEST_F(SshServer, PtyLoneCarriageReturnEndsALine) {
  auto s = session();
  std::vector<std::string> lines;
  ExecOptions o;
  o.pty = true;
  o.on_line = [&](std::string_view l) { lines.emplace_back(l); };
  auto r = s.exec({"printf", "start\\nwait 2\\rwait 1\\rwait 0\\r\\r\\ndone\\n"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(lines, (std::vector<std::string>{"start", "wait 2", "wait 1", "wait 0", "done"}));
  EXPECT_EQ(r->out, "start\nwait 2wait 1wait 0\ndone\n");
}

TEST_F(SshServer, HostileArgumentsArriveVerbatim) {
  auto s = session();
  const fs::path pwned = dir() / "pwned";
  const std::vector<std::string> hostile = {"a b",
                                            "",
                                            "$(touch " + pwned.string() + ")",
                                            "`touch " + pwned.string() + "`",
                                            "'; touch " + pwned.string() + "; '",
                                            "\"dq\"",
                                            "back\\slash",
                                            "new\nline",
                                            "*",
                                            "~",
                                            "$HOME",
                                            "a'b'c",
                                            "'",
                                            "-n",
                                            ";|&<>(){}",
                                            "#x",
                                            "ünï"};
  std::vector<std::string> argv = {"printf", "%s\\0"};
  argv.insert(argv.end(), hostile.begin(), hostile.end());
  auto r = s.exec(argv);
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::vector<std::string> got;
  std::string cur;
  for (char c : r->out) {
    if (c == '\0') {
      got.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  EXPECT_EQ(got, hostile);
  EXPECT_FALSE(fs::exists(pwned));
  // A program name with shell syntax is a name, not a command line.
  auto r2 = s.exec({"true; touch " + pwned.string()});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->exit_status, 127);
  EXPECT_FALSE(fs::exists(pwned));
}

TEST_F(SshServer, TimeoutIsAnErrorNamingHostAndCommand) {
  auto s = session();
  ExecOptions o;
  o.timeout = 500ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = s.exec({"sh", "-c", "sleep 31; echo never"}, o);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("sleep"), std::string::npos) << r.error().message;
  EXPECT_LT(took, 3.0);
  // The session survives a timed-out command.
  auto again = s.exec({"echo", "still here"});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->out, "still here\n");
  // The command and its children were ended on the node (process group killed).
  std::this_thread::sleep_for(300ms);
  auto ps = s.exec({"pgrep", "-f", "^sleep 31$"});
  ASSERT_TRUE(ps.ok());
  EXPECT_NE(ps->exit_status, 0) << "left running: " << ps->out;
}

TEST_F(SshServer, CancelEndsACommandQuickly) {
  auto s = session();
  for (bool pty : {false, true}) {
    SCOPED_TRACE(pty ? "pty" : "no pty");
    std::atomic<bool> cancel{false};
    ExecOptions o;
    o.cancel = &cancel;
    o.pty = pty;
    std::thread t([&] {
      std::this_thread::sleep_for(300ms);
      cancel = true;
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = s.exec({"sleep", "30"}, o);
    t.join();
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("cancelled"), std::string::npos) << r.error().message;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
    // Nothing is left running on the node.
    std::this_thread::sleep_for(300ms);
    auto ps = s.exec({"pgrep", "-f", "^sleep 30$"});
    ASSERT_TRUE(ps.ok());
    EXPECT_NE(ps->exit_status, 0) << ps->out;
  }
}

TEST_F(SshServer, DroppedConnectionIsAnError) {
  auto s = session();
  // The remote shell's parent is this connection's sshd process: killing it drops us.
  auto r = s.exec_shell("kill -9 $PPID; sleep 5");
  ASSERT_FALSE(r.ok()) << "exit " << r->exit_status;
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("kill -9"), std::string::npos) << r.error().message;
}

TEST_F(SshServer, SftpRoundTripOf5MB) {
  auto s = session();
  const fs::path local = dir() / "up.bin";
  std::string data(5 << 20, '\0');
  std::mt19937 rng(42);
  for (auto& c : data) c = static_cast<char>(rng());
  write_text(local, data);
  const std::string remote = (dir() / "remote.bin").string();
  const auto t0 = std::chrono::steady_clock::now();
  auto st = s.upload(local, remote, 0600);
  ASSERT_TRUE(st.ok()) << st.error().message;
  struct stat sb {};
  ASSERT_EQ(::stat(remote.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(remote + ".part"));
  // Replacing an existing file works too.
  ASSERT_TRUE(s.upload(local, remote, 0644).ok());
  const fs::path back = dir() / "down.bin";
  st = s.download(remote, back);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(util::sha256_file(back).value(), util::sha256_hex(data));
  EXPECT_FALSE(fs::exists(back.string() + ".part"));
  // Guards against per-request stalls (Nagle + delayed ACK made this 5 s once).
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 3.0);
}

TEST_F(SshServer, DownloadOfMissingFileFailsAndLeavesNothing) {
  auto s = session();
  const fs::path back = dir() / "missing.bin";
  auto st = s.download((dir() / "does-not-exist").string(), back);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("does-not-exist"), std::string::npos) << st.error().message;
  EXPECT_FALSE(fs::exists(back));
  EXPECT_FALSE(fs::exists(back.string() + ".part"));
}

TEST_F(SshServer, UnknownHostKeyIsRefused) {
  SshTarget t = target();
  t.known_hosts_file = dir() / "known_hosts_other_host";
  // Pins a key for a different host/port only.
  write_text(t.known_hosts_file,
             known_hosts_line("127.0.0.2", port_, dir() / "host_key.pub").value() + "\n");
  auto s = SshSession::connect(t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not pinned"), std::string::npos) << s.error().message;
  write_text(t.known_hosts_file, "");
  s = SshSession::connect(t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not pinned"), std::string::npos) << s.error().message;
}

TEST_F(SshServer, ChangedHostKeyIsRefused) {
  SshTarget t = target();
  t.known_hosts_file = dir() / "known_hosts_changed";
  write_text(t.known_hosts_file,
             known_hosts_line("127.0.0.1", port_, dir() / "other_key.pub").value() + "\n");
  auto s = SshSession::connect(t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("CHANGED"), std::string::npos) << s.error().message;
}

TEST_F(SshServer, MissingKnownHostsFileIsRefused) {
  SshTarget t = target();
  t.known_hosts_file = dir() / "nope";
  auto s = SshSession::connect(t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("nope"), std::string::npos) << s.error().message;
}

TEST_F(SshServer, WrongClientKeyIsRefused) {
  SshTarget t = target();
  t.identity_file = dir() / "other_key";
  auto s = SshSession::connect(t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("refused"), std::string::npos) << s.error().message;
}

TEST_F(SshServer, NothingListeningIsAClearError) {
  SshTarget t = target();
  t.port = free_port();
  auto s = SshSession::connect(t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("cannot connect"), std::string::npos) << s.error().message;
}

TEST_F(SshServer, ConnectRetryingWaitsForAServerThenGivesUp) {
  SshTarget t = target();
  // The real server: first attempt succeeds.
  auto ok = SshSession::connect_retrying(t, 2000ms);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  // A refused host key is final: no retries, fails at once.
  t.known_hosts_file = dir() / "known_hosts_changed_2";
  write_text(t.known_hosts_file,
             known_hosts_line("127.0.0.1", port_, dir() / "other_key.pub").value() + "\n");
  auto t0 = std::chrono::steady_clock::now();
  auto bad = SshSession::connect_retrying(t, 5000ms);
  ASSERT_FALSE(bad.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2000ms);
  // Nothing listening: retried until the deadline.
  t = target();
  t.port = free_port();
  t0 = std::chrono::steady_clock::now();
  auto none = SshSession::connect_retrying(t, 600ms, 100ms);
  ASSERT_FALSE(none.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 400ms);
  EXPECT_NE(none.error().message.find("gave up after"), std::string::npos) << none.error().message;
}

// ---- a jump host (the libvirt host of a remote lab) ----

/// The test sshd as a jump host (forwarding to itself).
SshJump jump_via(const SshTarget& t) {
  SshJump j;
  j.host = t.host;
  j.port = t.port;
  j.user = t.user;
  j.identity_file = t.identity_file;
  j.known_hosts_file = t.known_hosts_file;
  return j;
}

TEST_F(SshServer, JumpHostCarriesTheConnection) {
  auto t = target();
  t.jump = jump_via(target());  // the sshd forwards to itself
  auto s = SshSession::connect(t);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto r = s->exec({"sh", "-c", "echo via jump"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->out, "via jump\n");
  EXPECT_NE(s->where().find("via"), std::string::npos) << s->where();
}

TEST_F(SshServer, JumpIsReallyUsed) {
  // The node is reachable directly, so only a jump that is used can make this fail.
  auto t = target();
  t.jump = jump_via(target());
  t.jump->port = free_port();  // nothing listens there
  auto s = SshSession::connect(t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("via"), std::string::npos) << s.error().message;
  // An unpinned jump host key is refused by the jump's ssh as well.
  t = target();
  t.jump = jump_via(target());
  t.jump->known_hosts_file = dir() / "empty_known_hosts";
  write_text(t.jump->known_hosts_file, "");
  EXPECT_FALSE(SshSession::connect(t).ok());
}

TEST(SshJumpCommand, QuotesEveryValue) {
  SshJump j;
  j.host = "lab1";
  j.port = 2222;
  j.user = "root";
  j.identity_file = "/state/key with space";
  j.known_hosts_file = "/state/known_hosts";
  auto c = jump_proxy_command(j, "10.0.0.5", 22, std::chrono::milliseconds(1500));
  EXPECT_NE(c.find("'/state/key with space'"), std::string::npos) << c;
  EXPECT_NE(c.find("'-W' '10.0.0.5:22' '--' 'lab1'"), std::string::npos) << c;
  EXPECT_NE(c.find("ConnectTimeout=2"), std::string::npos) << c;
  EXPECT_NE(c.find("UserKnownHostsFile=/state/known_hosts"), std::string::npos) << c;
  EXPECT_NE(jump_proxy_command(j, "fd00::5", 22, {}).find("'-W' '[fd00::5]:22'"), std::string::npos);
}

}  // namespace
}  // namespace testbed::remote
