// LiveCapture against real traffic: a veth pair between two private network namespaces
// created by the test (IPv6 off, static neighbour entries, so the only packets on the wire
// are the UDP datagrams the test sends). Counts are cross-checked with capinfos/tshark.
#include "orchestrator/capture/live_capture.h"
#include "orchestrator/capture/wake_frame.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <thread>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/capture/udp_sender.h"

namespace testbed::capture {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

double realtime_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void must(const std::vector<std::string>& argv) {
  auto r = util::run_checked(argv);
  ASSERT_TRUE(r.ok()) << r.error().message;
}

/// Runs the calling thread in a named network namespace until destroyed.
class InNetns {
 public:
  explicit InNetns(const std::string& name) {
    self_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = self_ >= 0 && fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) ::close(fd);
  }
  ~InNetns() {
    if (self_ >= 0) {
      int rc = ::setns(self_, CLONE_NEWNET);
      assert(rc == 0);
      (void)rc;
      ::close(self_);
    }
  }
  bool ok() const { return ok_; }

 private:
  int self_ = -1;
  bool ok_ = false;
};

class VethPair : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string id = std::to_string(::getpid());
    ns_a_ = "testbed-cap-" + id + "-a";
    ns_b_ = "testbed-cap-" + id + "-b";
    subnet_ = "10.213." + std::to_string(::getpid() % 250) + ".";
    must({"ip", "netns", "add", ns_a_});
    must({"ip", "netns", "add", ns_b_});
    created_ = true;
    for (const auto& ns : {ns_a_, ns_b_}) {
      must({"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1"});
    }
    must({"ip", "-n", ns_a_, "link", "add", "tbcap0", "type", "veth", "peer", "name", "tbcap1",
          "netns", ns_b_});
    must({"ip", "-n", ns_b_, "link", "set", "tbcap1", "address", "02:00:00:00:00:02"});
    must({"ip", "-n", ns_a_, "addr", "add", subnet_ + "1/24", "dev", "tbcap0"});
    must({"ip", "-n", ns_a_, "link", "set", "tbcap0", "up"});
    must({"ip", "-n", ns_b_, "link", "set", "tbcap1", "up"});
    // No ARP on the wire: the peer's MAC is known. B has no address, so it drops the
    // datagrams silently (no ICMP port-unreachable replies to count).
    must({"ip", "-n", ns_a_, "neigh", "replace", subnet_ + "2", "lladdr", "02:00:00:00:00:02",
          "dev", "tbcap0", "nud", "permanent"});
    auto d = util::TempDir::create("capture-test");
    ASSERT_TRUE(d.ok());
    dir_.emplace(std::move(*d));
  }
  void TearDown() override {
    if (!mount_.empty()) util::run_process({"umount", "-l", mount_.string()}).ok();
    if (created_) {
      util::run_process({"ip", "netns", "del", ns_a_}).ok();
      util::run_process({"ip", "netns", "del", ns_b_}).ok();
    }
  }

  /// Starts a capture on tbcap1 (namespace B: it sees exactly what A sends).
  util::Result<std::unique_ptr<LiveCapture>> start(CaptureOptions o) {
    InNetns in(ns_b_);
    if (!in.ok()) return util::fail("cannot enter namespace {}", ns_b_);
    if (o.interface.empty()) o.interface = "tbcap1";
    return LiveCapture::start(o);
  }

  /// Sends n UDP datagrams of `size` payload bytes from A to B's address.
  void send_udp(int n, int size) { must(testing::send_udp_argv(ns_a_, n, size, subnet_ + "2")); }

  std::string ns_a_, ns_b_, subnet_;
  bool created_ = false;
  std::optional<util::TempDir> dir_;
  fs::path mount_;
};

uint64_t capinfos_packets(const fs::path& file) {
  auto r = util::run_checked({"capinfos", "-c", "-M", file.string()});
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return UINT64_MAX;
  const std::string key = "Number of packets:";
  const size_t at = r->out.find(key);
  if (at == std::string::npos) return UINT64_MAX;
  return std::strtoull(r->out.c_str() + at + key.size(), nullptr, 10);
}

uint64_t tshark_packets(const fs::path& file, const std::string& filter = "") {
  std::vector<std::string> argv = {"tshark", "-n",     "-r", file.string(),
                                   "-T",     "fields", "-e", "frame.number"};
  if (!filter.empty()) {
    argv.push_back("-Y");
    argv.push_back(filter);
  }
  auto r = util::run_checked(argv);
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return UINT64_MAX;
  uint64_t lines = 0;
  for (char c : r->out) lines += c == '\n';
  return lines;
}

TEST_F(VethPair, CountsEqualWhatWasSentAndWhatTsharkReads) {
  const fs::path out = dir_->path() / "capture.pcap";
  CaptureOptions o;
  o.output = out;
  o.stop_grace = 300ms;
  auto cap = start(o);
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  EXPECT_TRUE(fs::exists(out.string() + ".part"));
  EXPECT_FALSE(fs::exists(out));
  const double before = realtime_now();
  constexpr int kSent = 2000;
  send_udp(kSent, 200);
  // packets_so_far() follows the capture while it runs.
  for (int i = 0; i < 50 && (*cap)->packets_so_far() < kSent; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ((*cap)->packets_so_far(), uint64_t{kSent});
  auto st = (*cap)->stop();
  const double after = realtime_now();
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->packets_written, uint64_t{kSent});
  EXPECT_EQ(st->bytes_written, uint64_t{kSent} * (14 + 20 + 8 + 200));
  EXPECT_EQ(st->bytes_on_wire, st->bytes_written);
  EXPECT_EQ(st->kernel_dropped, 0u);
  EXPECT_EQ(st->interface_dropped, 0u);
  EXPECT_GE(st->kernel_received, uint64_t{kSent});
  // Time stamps are CLOCK_REALTIME: inside the window the test measured with that clock.
  EXPECT_GE(st->first_ts, before - 0.001);
  EXPECT_LE(st->last_ts, after);
  EXPECT_LE(st->first_ts, st->last_ts);
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
  ASSERT_TRUE(fs::exists(out));
  EXPECT_EQ(capinfos_packets(out), uint64_t{kSent});
  EXPECT_EQ(tshark_packets(out, "udp.dstport == 9999"), uint64_t{kSent});
  // Nanosecond pcap (magic a1b23c4d, little-endian on this host).
  auto head = util::read_file(out);
  ASSERT_TRUE(head.ok());
  ASSERT_GE(head->size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>((*head)[0]), 0x4d);
  EXPECT_EQ(static_cast<unsigned char>((*head)[3]), 0xa1);
}

// The wake frame (runner: a lingering masscan) leaves the host side of a veth and arrives
// at its node: exactly one 60-byte frame, EtherType 0x88B5, addressed to the node's MAC.
TEST_F(VethPair, AWakeFrameReachesThePeerAndNothingElse) {
  const fs::path out = dir_->path() / "wake.pcap";
  CaptureOptions o;
  o.output = out;
  o.stop_grace = 300ms;
  auto cap = start(o);
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  {
    InNetns in(ns_a_);
    ASSERT_TRUE(in.ok());
    auto sent = send_wake_frame("tbcap0", "02:00:00:00:00:02");
    ASSERT_TRUE(sent.ok()) << sent.error().message;
    auto missing = send_wake_frame("tbnosuch0", "02:00:00:00:00:02");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("tbnosuch0"), std::string::npos);
    auto bad = send_wake_frame("tbcap0", "02:00:00:00:00");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("'02:00:00:00:00'"), std::string::npos);
  }
  for (int i = 0; i < 50 && (*cap)->packets_so_far() < 1; ++i) std::this_thread::sleep_for(20ms);
  auto st = (*cap)->stop();
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->packets_written, 1u);
  EXPECT_EQ(st->bytes_written, 60u);
  EXPECT_EQ(tshark_packets(out, "eth.type == 0x88b5 && eth.dst == 02:00:00:00:00:02"), 1u);
}

TEST_F(VethPair, FilterKeepsOnlyMatchingPackets) {
  const fs::path out = dir_->path() / "filtered.pcap";
  CaptureOptions o;
  o.output = out;
  o.stop_grace = 200ms;
  o.bpf_filter = "udp and udp[8:4] < 10";  // first 4 payload bytes = datagram index
  auto cap = start(o);
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  send_udp(100, 40);
  auto st = (*cap)->stop();
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->packets_written, 10u);
  EXPECT_EQ(tshark_packets(out), 10u);
}

// `lab capture -w - --count N`: the pcap stream goes to a descriptor (here a file opened by
// the test, as a shell redirect would), holds exactly the first N packets, and the capture
// says it is finished without being stopped.
TEST_F(VethPair, StreamToADescriptorStopsAtMaxPackets) {
  const fs::path out = dir_->path() / "stream.pcap";
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  CaptureOptions o;
  o.output_fd = fd;
  o.max_packets = 25;
  o.stop_grace = 0ms;
  o.bpf_filter = "udp";
  auto cap = start(o);
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  EXPECT_FALSE((*cap)->finished());
  send_udp(100, 40);
  for (int i = 0; i < 50 && !(*cap)->finished(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE((*cap)->finished());
  auto st = (*cap)->stop();
  ASSERT_TRUE(st.ok()) << st.error().message;
  ::close(fd);
  EXPECT_EQ(st->packets_written, 25u);
  EXPECT_EQ(tshark_packets(out), 25u);
  EXPECT_EQ(tshark_packets(out, "udp && frame[42:4] == 00:00:00:18"), 1u) << "the 25th";
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
}

// A reader that goes away (EPIPE) ends the capture with an error that says so.
TEST_F(VethPair, StreamWhoseReaderLeftFinishesWithAnError) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  ::close(fds[0]);  // nobody reads
  std::signal(SIGPIPE, SIG_IGN);
  CaptureOptions o;
  o.output_fd = fds[1];
  o.stop_grace = 0ms;
  auto cap = start(o);
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  send_udp(10, 40);
  for (int i = 0; i < 50 && !(*cap)->finished(); ++i) std::this_thread::sleep_for(100ms);
  EXPECT_TRUE((*cap)->finished());
  auto st = (*cap)->stop();
  ::close(fds[1]);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("Broken pipe"), std::string::npos) << st.error().message;
}

TEST_F(VethPair, FullDiskFailsAndLeavesNoCompleteLookingFile) {
  mount_ = dir_->path() / "small";
  fs::create_directories(mount_);
  must({"mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount_.string()});
  const fs::path out = mount_ / "capture.pcap";
  CaptureOptions o;
  o.output = out;
  o.stop_grace = 200ms;
  auto cap = start(o);
  ASSERT_TRUE(cap.ok()) << cap.error().message;
  send_udp(1000, 1000);  // ~1 MB into 64 KiB
  auto st = (*cap)->stop();
  ASSERT_FALSE(st.ok()) << "wrote " << st->packets_written << " packets into 64 KiB";
  EXPECT_NE(st.error().message.find("No space left on device"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
}

TEST_F(VethPair, MissingInterfaceIsAClearError) {
  CaptureOptions o;
  o.interface = "tbnosuchif0";
  o.output = dir_->path() / "x.pcap";
  auto cap = LiveCapture::start(o);
  ASSERT_FALSE(cap.ok());
  EXPECT_NE(cap.error().message.find("'tbnosuchif0'"), std::string::npos) << cap.error().message;
  EXPECT_NE(cap.error().message.find("does not exist"), std::string::npos) << cap.error().message;
  EXPECT_FALSE(fs::exists(o.output.string() + ".part"));
}

TEST_F(VethPair, BadFilterIsAClearError) {
  CaptureOptions o;
  o.output = dir_->path() / "x.pcap";
  o.bpf_filter = "udp and and";
  auto cap = start(o);
  ASSERT_FALSE(cap.ok());
  EXPECT_NE(cap.error().message.find("udp and and"), std::string::npos) << cap.error().message;
}

TEST_F(VethPair, AbandonedCaptureLeavesNoFile) {
  const fs::path out = dir_->path() / "abandoned.pcap";
  {
    CaptureOptions o;
    o.output = out;
    auto cap = start(o);
    ASSERT_TRUE(cap.ok()) << cap.error().message;
    send_udp(5, 10);
  }  // destroyed without stop()
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
}

}  // namespace
}  // namespace testbed::capture
