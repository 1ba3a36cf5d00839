// `testbed lab capture` on a real LXC lab (label `lab`; ci-smoke's topology), through the
// built CLI as a user runs it, while the scanner pings the target through the router:
//  - `lab capture LAB scan -w - --count 10 -f icmp | tshark -r -` reads the same frames
//    (addresses, ICMP type and sequence, IP id, length, in order) as the project's own
//    capturer (capture::LiveCapture, the runner's) took on the same bridge, and the
//    capture reports its kernel drops on standard error;
//  - SIGINT to `lab capture LAB scanner:scan -w FILE` ends it with exit 0, leaves no
//    process of it (checked by the PID started) and a pcap tshark reads, with no .part.
// Traffic only between lab nodes. One lab for both.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "orchestrator/capture/live_capture.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/support/live_lab.h"
#include "tests/support/testbed_cli.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;
using test_support::launch;
using test_support::testbed_binary;

const std::string kLab = "tbcap";
const std::string kTarget = "172.24.1.10";  // target1 on the targets network

/// One line per frame: source, destination, ICMP type, sequence, IP id, length.
std::vector<std::string> icmp_frames(const std::string& tshark_out) {
  std::vector<std::string> out;
  std::istringstream in(tshark_out);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(l);
  return out;
}

const std::vector<std::string> kFields = {"-T",      "fields",    "-e", "ip.src",   "-e",
                                          "ip.dst",  "-e",        "icmp.type", "-e", "icmp.seq",
                                          "-e",      "ip.id",     "-e", "frame.len"};

std::string shq(const std::string& s) { return "'" + s + "'"; }

/// The file's text, or "" when it cannot be read (yet).
std::string text_of(const fs::path& p) {
  auto t = util::read_file(p);
  return t ? *t : "";
}

class LabCapture : public test_support::LiveLab {
 protected:
  static void SetUpTestSuite() {
    if (!util::have_program("tshark")) {
      skip_ = "tshark is not installed (apt-get install tshark)";
      return;
    }
    bring_up(kLab, "tb-capture-test");
  }
  static void TearDownTestSuite() { take_down(); }

  /// `count` echo requests from the scanner to the target, through the router.
  static void ping(int count) {
    auto r = tb({"lab", "exec", kLab, "scanner", "--", "ping", "-n", "-c", std::to_string(count),
                 "-i", "0.2", "-W", "2", kTarget});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  static std::vector<std::string> tshark_frames(const fs::path& pcap) {
    std::vector<std::string> argv = {"tshark", "-n", "-r", pcap.string()};
    argv.insert(argv.end(), kFields.begin(), kFields.end());
    auto r = util::run_process(argv);
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : r.error().message);
    return icmp_frames(r.ok() ? r->out : "");
  }

};

TEST_F(LabCapture, FramesPipedToTsharkEqualTheOwnCapture) {
  auto lab = lab::Lab::open(kLab);
  ASSERT_TRUE(lab.ok()) << lab.error().message;
  const fs::path own_pcap = dir_->path() / "own.pcap";
  capture::CaptureOptions o;
  o.interface = (*lab)->bridge("scan");
  o.output = own_pcap;
  o.bpf_filter = "icmp";
  auto own = capture::LiveCapture::start(o);
  ASSERT_TRUE(own.ok()) << own.error().message;

  // testbed's exit code to a file, its stderr to another, its stdout into tshark.
  const fs::path err = dir_->path() / "pipe.err", rc = dir_->path() / "pipe.rc";
  std::string tshark = "tshark -n -r -";
  for (const auto& f : kFields) tshark += " " + f;
  const std::string pipeline = "{ " + shq(testbed_binary()) + " lab capture " + kLab +
                               " scan -w - --count 10 -f icmp --duration 120 2>" +
                               shq(err.string()) + "; echo $? >" + shq(rc.string()) + "; } | " +
                               tshark;
  util::Result<util::ProcessResult> piped = util::fail("not run");
  std::thread t([&] { piped = util::run_process({"/bin/sh", "-c", pipeline}); });
  std::string log;
  for (int i = 0; i < 300 && log.find("capturing on") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = text_of(err);
  }
  EXPECT_NE(log.find("capturing on " + (*lab)->bridge("scan")), std::string::npos) << log;
  ping(5);  // 5 requests and 5 replies on the scan bridge: --count 10 ends the capture
  t.join();
  auto own_stats = (*own)->stop();
  ASSERT_TRUE(own_stats.ok()) << own_stats.error().message;

  ASSERT_TRUE(piped.ok()) << piped.error().message;
  EXPECT_EQ(piped->exit_code, 0) << piped->err;
  EXPECT_EQ(text_of(rc), "0\n") << text_of(err);
  const auto via_pipe = icmp_frames(piped->out);
  const auto via_own = tshark_frames(own_pcap);
  ASSERT_EQ(via_pipe.size(), 10u) << piped->out << text_of(err);
  EXPECT_EQ(via_pipe, via_own);
  // The sequence numbers 1..5, each a request (8) from the scanner and a reply (0) to it.
  for (int seq = 1; seq <= 5; ++seq) {
    int requests = 0, replies = 0;
    for (const auto& l : via_pipe) {
      std::istringstream in(l);
      std::string src, dst;
      int type = -1, s = -1;
      in >> src >> dst >> type >> s;
      if (s != seq) continue;
      requests += src == "172.24.0.10" && dst == kTarget && type == 8;
      replies += src == kTarget && dst == "172.24.0.10" && type == 0;
    }
    EXPECT_EQ(requests, 1) << "seq " << seq;
    EXPECT_EQ(replies, 1) << "seq " << seq;
  }
  log = text_of(err);
  EXPECT_NE(log.find("10 packets captured on " + (*lab)->bridge("scan") +
                     "; dropped: 0 by the kernel, 0 by the interface"),
            std::string::npos)
      << log;
}

TEST_F(LabCapture, SigintEndsItCleanlyWithAReadablePcap) {
  const fs::path pcap = dir_->path() / "sigint.pcap";
  pid_t started = -1;
  bool sent = false;
  auto l = launch({"lab", "capture", kLab, "scanner:scan", "-w", pcap.string(), "-f", "icmp"},
                  [&](const std::string& line, pid_t pid) {
                    if (sent || line.find("capturing on") == std::string::npos) return;
                    started = pid;
                    ping(3);
                    ::kill(pid, SIGINT);
                    sent = true;
                  });
  ASSERT_TRUE(sent) << l.log;
  EXPECT_EQ(l.exit_code, 0) << l.log;
  EXPECT_NE(l.log.find("6 packets captured on"), std::string::npos) << l.log;
  // launch() reaped it: the PID is gone, and nothing else captures into the file.
  errno = 0;
  EXPECT_EQ(::kill(started, 0), -1);
  EXPECT_EQ(errno, ESRCH) << "process " << started << " is still there";
  auto left = util::run_process({"pgrep", "-f", pcap.string()});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->out, "") << "still capturing into " << pcap;
  EXPECT_FALSE(fs::exists(pcap.string() + ".part"));
  const auto frames = tshark_frames(pcap);
  EXPECT_EQ(frames.size(), 6u);
}

}  // namespace
}  // namespace testbed
