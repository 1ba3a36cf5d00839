#include "orchestrator/capture/remote_capture.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace testbed::capture {
namespace fs = std::filesystem;
using util::fail;

namespace {

constexpr uint32_t kMagicMicro = 0xa1b2c3d4;
constexpr uint32_t kMagicNano = 0xa1b23c4d;
constexpr uint32_t kMaxRecord = 256u << 20;  // no link type has packets this large

uint32_t bswap(uint32_t v) { return __builtin_bswap32(v); }

}  // namespace

uint32_t PcapStreamCounter::u32(const unsigned char* p) const {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return swapped_ ? bswap(v) : v;
}

util::Status PcapStreamCounter::feed(std::string_view data) {
  while (!data.empty()) {
    if (!in_header_) {  // skipping a record's packet bytes
      const uint64_t take = std::min<uint64_t>(need_, data.size());
      need_ -= take;
      data.remove_prefix(take);
      if (need_ == 0) {
        in_header_ = true;
        need_ = 16;
      }
      continue;
    }
    const size_t take = std::min<size_t>(need_ - pending_.size(), data.size());
    pending_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (pending_.size() < need_) break;
    const auto* p = reinterpret_cast<const unsigned char*>(pending_.data());
    if (!header_done_) {
      uint32_t magic;
      std::memcpy(&magic, p, 4);
      if (magic == bswap(kMagicMicro) || magic == bswap(kMagicNano)) {
        swapped_ = true;
        magic = bswap(magic);
      }
      if (magic != kMagicMicro && magic != kMagicNano)
        return fail("the capture stream is not pcap (magic {:#010x})", magic);
      nano_ = magic == kMagicNano;
      header_done_ = true;
      need_ = 16;
    } else {
      const double ts = u32(p) + u32(p + 4) * (nano_ ? 1e-9 : 1e-6);
      const uint32_t incl = u32(p + 8);
      if (incl > kMaxRecord)
        return fail("the capture stream is corrupt: record {} claims {} bytes", records_ + 1, incl);
      if (records_ == 0) first_ts_ = ts;
      last_ts_ = ts;
      ++records_;
      captured_ += incl;
      on_wire_ += u32(p + 12);
      if (incl > 0) {
        in_header_ = false;
        need_ = incl;
      }
    }
    pending_.clear();
  }
  return {};
}

TcpdumpCounters parse_tcpdump_counters(std::string_view text) {
  TcpdumpCounters c;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line(text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    unsigned long long n = 0;
    char rest[64] = {};
    if (std::sscanf(line.c_str(), "%llu packet%*[s] %63[^\n]", &n, rest) < 2 &&
        std::sscanf(line.c_str(), "%llu packet %63[^\n]", &n, rest) < 2)
      continue;
    const std::string r = rest;
    if (r == "captured") {
      c.captured = n;
      c.seen = true;
    } else if (r == "received by filter") {
      c.received = n;
    } else if (r == "dropped by kernel") {
      c.kernel_dropped = n;
    } else if (r == "dropped by interface") {
      c.interface_dropped = n;
    }
  }
  return c;
}

std::vector<std::string> tcpdump_argv(const CaptureOptions& o) {
  std::vector<std::string> argv = {"tcpdump",   "-i",
                                   o.interface, "-n",
                                   "-s",        std::to_string(o.snaplen),
                                   "-B",        std::to_string(std::max(1, o.buffer_bytes / 1024)),
                                   "-U",        "--time-stamp-precision=nano",
                                   "-w",        "-"};
  if (o.max_packets > 0) argv.insert(argv.end(), {"-c", std::to_string(o.max_packets)});
  if (!o.bpf_filter.empty()) argv.push_back(o.bpf_filter);
  return argv;
}

util::Result<std::unique_ptr<RemoteCapture>> RemoteCapture::start(const remote::SshTarget& host,
                                                                  const CaptureOptions& opts) {
  std::unique_ptr<RemoteCapture> c(new RemoteCapture());
  c->host_ = host;
  c->opts_ = opts;
  if (opts.output_fd < 0) c->part_ = opts.output.string() + ".part";
  auto session = remote::SshSession::connect(host);
  if (!session)
    return fail("capture of {} on lab host {}: {}", opts.interface, host.host,
                session.error().message);
  c->session_ = std::make_unique<remote::SshSession>(std::move(*session));
  if (opts.output_fd >= 0) {  // our own descriptor: fclose must not close the caller's
    const int fd = ::fcntl(opts.output_fd, F_DUPFD_CLOEXEC, 3);
    c->file_ = fd >= 0 ? ::fdopen(fd, "wb") : nullptr;
    if (!c->file_) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      return fail("cannot write to descriptor {}: {}", opts.output_fd, std::strerror(err));
    }
  } else {
    c->file_ = std::fopen(c->part_.c_str(), "wbe");
    if (!c->file_) return fail("cannot create '{}': {}", c->part_.string(), std::strerror(errno));
  }
  c->thread_ = std::thread([p = c.get()] { p->run(); });

  std::unique_lock lock(c->mu_);
  const auto deadline =
      std::chrono::steady_clock::now() + host.connect_timeout + std::chrono::seconds(10);
  c->cv_.wait_until(lock, deadline, [&] { return c->listening_ || c->ended_; });
  if (c->listening_) return c;
  lock.unlock();
  // Not listening: tcpdump failed (or hangs); the destructor ends it and removes the file.
  c->stop_ = true;
  c->thread_.join();
  std::string why = c->err_text_;
  while (!why.empty() && why.back() == '\n') why.pop_back();
  if (why.empty()) why = c->error_.empty() ? "tcpdump did not start listening" : c->error_;
  if (c->exit_status_ == 127) why = "tcpdump is not installed there (apt-get install tcpdump)";
  c->stopped_ = true;
  c->discard("").ok();
  return fail("capture of {} on lab host {}: {}", opts.interface, host.host, why);
}

void RemoteCapture::run() {
  remote::ExecOptions o;
  o.stop = &stop_;
  o.on_out_data = [this](std::string_view d) {
    if (!error_.empty()) return;
    const bool stream = opts_.output_fd >= 0;  // a reader waits: pass it on at once
    if (std::fwrite(d.data(), 1, d.size(), file_) != d.size() ||
        (stream && std::fflush(file_) != 0)) {
      error_ = stream ? fmt::format("writing the pcap stream failed: {}", std::strerror(errno))
                      : fmt::format("cannot write '{}': {}", part_.string(), std::strerror(errno));
      finished_ = true;
      return;
    }
    if (auto st = counter_.feed(d); !st) error_ = st.error().message;
    packets_.store(counter_.records(), std::memory_order_relaxed);
  };
  o.on_err_line = [this](std::string_view l) {
    err_text_.append(l).push_back('\n');
    if (l.find("listening on") != std::string_view::npos) {
      std::lock_guard lock(mu_);
      listening_ = true;
      cv_.notify_all();
    }
  };
  auto r = session_->exec(tcpdump_argv(opts_), o);
  if (!r && error_.empty()) error_ = r.error().message;
  if (r) exit_status_ = r->exit_status;
  std::lock_guard lock(mu_);
  ended_ = true;
  finished_ = true;
  cv_.notify_all();
}

util::Status RemoteCapture::discard(const std::string& why) {
  if (file_) std::fclose(file_);
  file_ = nullptr;
  std::error_code ec;
  if (!part_.empty()) fs::remove(part_, ec);
  if (why.empty()) return {};
  return fail("capture of {} on lab host {}: {}{}", opts_.interface, host_.host, why,
              part_.empty() ? "" : "; no file written");
}

util::Result<CaptureStats> RemoteCapture::stop() {
  if (stopped_) return fail("capture already stopped");
  stopped_ = true;
  std::this_thread::sleep_for(opts_.stop_grace);
  stop_ = true;
  thread_.join();
  if (!error_.empty()) return discard(error_).error();
  if (exit_status_ != 0)
    return discard(fmt::format("tcpdump ended with status {}: {}", exit_status_, err_text_))
        .error();
  const TcpdumpCounters k = parse_tcpdump_counters(err_text_);
  if (!k.seen) return discard("tcpdump did not report its counters: " + err_text_).error();
  if (!counter_.at_boundary())
    return discard("the capture stream ended inside a record (connection cut?)").error();
  if (counter_.records() != k.captured)
    return discard(fmt::format("{} packets arrived but tcpdump captured {}", counter_.records(),
                               k.captured))
        .error();
  const bool stream = opts_.output_fd >= 0;
  if (std::fflush(file_) != 0 || (!stream && ::fsync(fileno(file_)) != 0))
    return discard(fmt::format("cannot write '{}': {}",
                               stream ? "the pcap stream" : part_.string(), std::strerror(errno)))
        .error();
  std::fclose(file_);
  file_ = nullptr;
  if (!stream) {
    std::error_code ec;
    fs::rename(part_, opts_.output, ec);
    if (ec)
      return discard(fmt::format("cannot rename '{}': {}", part_.string(), ec.message())).error();
  }
  CaptureStats s;
  s.packets_written = counter_.records();
  s.bytes_written = counter_.bytes_captured();
  s.bytes_on_wire = counter_.bytes_on_wire();
  s.kernel_received = k.received;
  // Packets the kernel handed to tcpdump's ring but tcpdump had not written when TERM
  // ended it (its read timeout is 1 s: a stop_grace under that can cut them off) are as
  // lost as those the kernel dropped, and are counted with them.
  const uint64_t undelivered =
      k.received > k.kernel_dropped + k.captured ? k.received - k.kernel_dropped - k.captured : 0;
  s.kernel_dropped = k.kernel_dropped + undelivered;
  s.interface_dropped = k.interface_dropped;
  s.first_ts = counter_.first_ts();
  s.last_ts = counter_.last_ts();
  return s;
}

RemoteCapture::~RemoteCapture() {
  if (thread_.joinable()) {
    stop_ = true;
    thread_.join();
  }
  if (!stopped_ || file_) discard("").ok();
}

}  // namespace testbed::capture
