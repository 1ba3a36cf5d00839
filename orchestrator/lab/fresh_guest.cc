#include "orchestrator/lab/fresh_guest.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <fmt/format.h>

#include "orchestrator/util/hash.h"

namespace testbed::lab {
namespace {

// One command per input line, one answer line each; `use integer` keeps nanoseconds
// exact (clock values fit in 64 bits). ioctl numbers from <linux/random.h>:
// RNDADDENTROPY = _IOW('R', 3, int[2]), RNDRESEEDCRNG = _IO('R', 7).
const char* const kScript = R"PERL(use strict; use integer; $| = 1;
sub now { my $t = "\0" x 16; syscall(228, 0, $t) == 0 or die "clock_gettime: $!\n";
  my ($s, $n) = unpack("q<q<", $t); return $s * 1000000000 + $n; }
sub setnow { my $v = shift;
  syscall(227, 0, pack("q<q<", $v / 1000000000, $v % 1000000000)) == 0 or die "clock_settime: $!\n"; }
sub conns { my $n = 0; for my $f ("/proc/net/tcp", "/proc/net/tcp6") {
  open(my $h, "<", $f) or next; <$h>; while (<$h>) { my @c = split; $n++ if $c[3] eq "01"; } }
  return $n; }
print "ready\n";
while (my $l = <STDIN>) {
  my @w = split ' ', $l; next unless @w;
  if ($w[0] eq "probe") { print "now ", now(), "\n"; }
  elsif ($w[0] eq "shift") { setnow(now() + $w[1]); print "shifted\n"; }
  elsif ($w[0] eq "seed") { my $b = pack("H*", $w[1]);
    open(my $r, "+<", "/dev/urandom") or die "/dev/urandom: $!\n";
    ioctl($r, 0x40085203, pack("ii", 8 * length($b), length($b)) . $b) or die "RNDADDENTROPY: $!\n";
    ioctl($r, 0x5207, 0) or die "RNDRESEEDCRNG: $!\n"; print "seeded\n"; }
  elsif ($w[0] eq "neigh") { system("ip neigh flush all >/dev/null 2>&1"); print "flushed ", conns(), "\n"; }
  elsif ($w[0] eq "bye") { last; }
}
)PERL";

int64_t host_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  while (fd >= 0 && got < bytes) {
    ssize_t n = ::read(fd, b.data() + got, bytes - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (fd >= 0) ::close(fd);
  std::string hex;
  for (unsigned char c : b) hex += fmt::format("{:02x}", c);
  return got == bytes ? hex : std::string();
}

// The conversation, driven by the guest's answers (on_line), written into a pipe that
// the SSH exec streams to the guest's standard input.
class Conversation {
 public:
  Conversation(int to_guest, bool reseed) : fd_(to_guest), reseed_(reseed) {}

  void on_line(std::string_view line) {
    if (line == "ready") return probe();
    if (line.rfind("now ", 0) == 0) return on_probe(std::strtoll(line.data() + 4, nullptr, 10));
    if (line == "shifted") {
      phase_ = kAfter;
      best_rtt_ = -1;
      probes_ = 0;
      return probe();
    }
    if (line == "seeded") {
      out_.reseeded = true;
      return send("neigh");
    }
    if (line.rfind("flushed ", 0) == 0) {
      // Ours is one of them.
      out_.other_tcp_connections = std::max(0, std::atoi(line.data() + 8) - 1);
      done_ = true;
      send("bye");
      ::close(fd_);
      fd_ = -1;
    }
  }
  bool done() const { return done_; }
  const FreshGuest& result() const { return out_; }
  std::string error;

 private:
  enum Phase { kBefore, kAfter };
  static constexpr int kProbes = 3;  // the one with the shortest round trip counts

  void send(const std::string& line) {
    if (fd_ < 0) return;
    std::string l = line + "\n";
    if (::write(fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size()))
      error = "cannot write to the guest's input";
  }
  void probe() {
    sent_ns_ = host_now_ns();
    send("probe");
  }
  void on_probe(int64_t guest_ns) {
    const int64_t back = host_now_ns();
    const int64_t rtt = back - sent_ns_;
    if (best_rtt_ < 0 || rtt < best_rtt_) {
      best_rtt_ = rtt;
      best_offset_ = guest_ns - (sent_ns_ + rtt / 2);
    }
    if (++probes_ < kProbes) return probe();
    const double offset_ms = static_cast<double>(best_offset_) / 1e6;
    out_.clock_rtt_ms = static_cast<double>(best_rtt_) / 1e6;
    if (phase_ == kBefore) {
      out_.clock_offset_before_ms = offset_ms;
      return send(fmt::format("shift {}", -best_offset_));
    }
    out_.clock_offset_after_ms = offset_ms;
    if (!reseed_) return send("neigh");
    std::string hex = random_hex(64);
    if (hex.empty()) {
      error = "cannot read this host's /dev/urandom";
      return send("neigh");
    }
    send("seed " + hex);
  }

  int fd_;
  bool reseed_;
  Phase phase_ = kBefore;
  int probes_ = 0;
  int64_t sent_ns_ = 0;
  int64_t best_rtt_ = -1;
  int64_t best_offset_ = 0;
  bool done_ = false;
  FreshGuest out_;
};

}  // namespace

const std::string& fresh_guest_script() {
  static const std::string s = kScript;
  return s;
}

util::Result<FreshGuest> refresh_guest(remote::SshSession& session, bool reseed) {
  const auto t0 = std::chrono::steady_clock::now();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return util::fail("pipe: {}", std::strerror(errno));
  Conversation c(p[1], reseed);
  remote::ExecOptions eo;
  eo.stdin_fd = p[0];
  eo.timeout = std::chrono::seconds(30);
  eo.on_line = [&](std::string_view line) { c.on_line(line); };
  auto r = session.exec({"perl", "-e", fresh_guest_script()}, eo);
  ::close(p[0]);
  if (!c.done()) ::close(p[1]);
  if (!r) return util::fail("refreshing the restored guest: {}", r.error().message);
  if (r->exit_status != 0 || !c.done() || !c.error.empty())
    return util::fail("refreshing the restored guest failed (exit {}): {}{}", r->exit_status,
                      c.error, r->err);
  FreshGuest out = c.result();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace testbed::lab
