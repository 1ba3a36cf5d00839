// RemoteCapture end to end: tcpdump runs over SSH on a "lab host" — a private sshd the
// test starts on 127.0.0.1 — and captures the host end of a veth pair whose other end is
// in a private network namespace. The test sends UDP datagrams from that namespace to a
// MAC no interface has (a static neighbour entry), so the host drops them before IP
// (nothing is routed anywhere) while tcpdump, promiscuous, sees each one.
#include "orchestrator/capture/remote_capture.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <thread>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/capture/udp_sender.h"
#include "tests/remote/sshd_server.h"

namespace testbed::capture {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void must(const std::vector<std::string>& argv) {
  auto r = util::run_checked(argv);
  ASSERT_TRUE(r.ok()) << r.error().message;
}

double realtime_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class RemoteCaptureTest : public remote::test_sshd::SshServer {
 protected:
  void SetUp() override {
    const std::string id = std::to_string(::getpid() % 100000);
    ns_ = "testbed-rcap-" + id;
    host_if_ = "tbrcap" + id;
    subnet_ = "10.214." + std::to_string(::getpid() % 250) + ".";
    must({"ip", "netns", "add", ns_});
    created_ = true;
    must({"ip", "netns", "exec", ns_, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
          "net.ipv6.conf.default.disable_ipv6=1"});
    must({"ip", "-n", ns_, "link", "add", "tbrc0", "type", "veth", "peer", "name", host_if_,
          "netns", "1"});
    must({"sysctl", "-qw", "net.ipv6.conf." + host_if_ + ".disable_ipv6=1"});
    must({"ip", "link", "set", host_if_, "address", "02:00:00:00:00:07"});
    must({"ip", "-n", ns_, "addr", "add", subnet_ + "1/24", "dev", "tbrc0"});
    must({"ip", "-n", ns_, "link", "set", "tbrc0", "up"});
    must({"ip", "link", "set", host_if_, "up"});
    // The datagrams' destination MAC is nobody's: dropped by the host, seen by tcpdump.
    must({"ip", "-n", ns_, "neigh", "replace", subnet_ + "2", "lladdr", "02:00:00:00:00:02", "dev",
          "tbrc0", "nud", "permanent"});
    auto d = util::TempDir::create("rcap-test");
    ASSERT_TRUE(d.ok());
    out_.emplace(std::move(*d));
  }
  void TearDown() override {
    if (created_) util::run_process({"ip", "netns", "del", ns_}).ok();  // takes the veth too
  }
  CaptureOptions options() {
    CaptureOptions o;
    o.interface = host_if_;
    o.output = out_->path() / "remote.pcap";
    o.bpf_filter = "udp port 9999";
    o.stop_grace = 1500ms;  // tcpdump's read timeout is 1 s
    return o;
  }
  void send_udp(int n, int size) { must(testing::send_udp_argv(ns_, n, size, subnet_ + "2")); }

  std::string ns_, host_if_, subnet_;
  bool created_ = false;
  std::optional<util::TempDir> out_;
};

TEST_F(RemoteCaptureTest, StreamsEveryPacketIntoALocalPcap) {
  const double t0 = realtime_now();
  auto c = RemoteCapture::start(target(), options());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(fs::exists(options().output));  // only .part while capturing
  send_udp(500, 1000);
  auto s = (*c)->stop();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->packets_written, 500u);
  EXPECT_EQ(s->kernel_dropped, 0u);
  EXPECT_EQ(s->kernel_received, 500u);
  EXPECT_EQ(s->bytes_on_wire, 500u * (14 + 20 + 8 + 1000));
  EXPECT_GE(s->first_ts, t0 - 1);
  EXPECT_LE(s->last_ts, realtime_now() + 1);
  ASSERT_TRUE(fs::exists(options().output));
  EXPECT_FALSE(fs::exists(options().output.string() + ".part"));
  // The file is what tshark reads, with nanosecond time stamps.
  auto t = util::run_checked({"tshark", "-n", "-r", options().output.string(), "-T", "fields", "-e",
                              "udp.dstport", "-e", "frame.time_epoch"});
  ASSERT_TRUE(t.ok()) << t.error().message;
  size_t lines = 0;
  for (char ch : t->out) lines += ch == '\n';
  EXPECT_EQ(lines, 500u);
  EXPECT_EQ(t->out.substr(0, 5), "9999\t");
  auto info = util::run_checked({"capinfos", "-M", options().output.string()});
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->out.find("nanoseconds"), std::string::npos) << info->out;
}

// `lab capture -w - --count N` on a remote lab: the stream goes to a descriptor as it
// arrives (here a file opened by the test, as a shell redirect would), tcpdump stops by
// itself after N packets, and the capture says it finished before it is stopped.
TEST_F(RemoteCaptureTest, StreamsToADescriptorAndStopsAtMaxPackets) {
  const fs::path out = out_->path() / "stream.pcap";
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  auto o = options();
  o.output_fd = fd;
  o.max_packets = 40;
  auto c = RemoteCapture::start(target(), o);
  ASSERT_TRUE(c.ok()) << c.error().message;
  send_udp(100, 100);
  for (int i = 0; i < 100 && !(*c)->finished(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE((*c)->finished()) << "tcpdump -c 40 did not end by itself";
  auto s = (*c)->stop();
  ::close(fd);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->packets_written, 40u);
  EXPECT_FALSE(fs::exists(o.output)) << "the file is not written in stream mode";
  EXPECT_FALSE(fs::exists(o.output.string() + ".part"));
  auto t = util::run_checked({"tshark", "-n", "-r", out.string(), "-T", "fields", "-e",
                              "udp.dstport"});
  ASSERT_TRUE(t.ok()) << t.error().message;
  size_t lines = 0;
  for (char ch : t->out) lines += ch == '\n';
  EXPECT_EQ(lines, 40u);
}

TEST_F(RemoteCaptureTest, MissingInterfaceIsAClearError) {
  auto o = options();
  o.interface = "tbnosuch0";
  auto c = RemoteCapture::start(target(), o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("tbnosuch0"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("127.0.0.1"), std::string::npos) << c.error().message;
  EXPECT_FALSE(fs::exists(o.output.string() + ".part"));
}

TEST_F(RemoteCaptureTest, UnknownHostKeyIsRefused) {
  auto t = target();
  t.known_hosts_file = out_->path() / "empty_known_hosts";
  remote::test_sshd::write_text(t.known_hosts_file, "");
  auto c = RemoteCapture::start(t, options());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("lab host"), std::string::npos) << c.error().message;
}

TEST_F(RemoteCaptureTest, AbandonedCaptureLeavesNoFileAndNoTcpdump) {
  {
    auto c = RemoteCapture::start(target(), options());
    ASSERT_TRUE(c.ok()) << c.error().message;
    send_udp(10, 100);
  }
  EXPECT_FALSE(fs::exists(options().output));
  EXPECT_FALSE(fs::exists(options().output.string() + ".part"));
  // tcpdump on our interface is gone (TERM to its process group over SSH).
  bool gone = false;
  for (int i = 0; i < 40 && !gone; ++i) {
    auto r = util::run_process({"pgrep", "-f", "tcpdump -i " + host_if_});
    gone = r.ok() && r->exit_code != 0;
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone);
}

}  // namespace
}  // namespace testbed::capture
