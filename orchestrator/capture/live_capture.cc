#include "orchestrator/capture/live_capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "orchestrator/util/log.h"

namespace testbed::capture {
namespace {

using util::fail;

constexpr int kReadTimeoutMs = 100;  // pcap_dispatch returns at least this often
constexpr int kMinStopGraceMs = 3 * kReadTimeoutMs;  // > one ring block's retire timeout
constexpr auto kFlushInterval = std::chrono::seconds(1);

double ts_seconds(const pcap_pkthdr* h) {
  // With PCAP_TSTAMP_PRECISION_NANO, tv_usec holds nanoseconds.
  return static_cast<double>(h->ts.tv_sec) + static_cast<double>(h->ts.tv_usec) * 1e-9;
}

std::string activate_error(pcap_t* p, int rc, const std::string& iface) {
  const std::string lib = pcap_geterr(p);
  switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return fmt::format(
          "capture interface '{}' does not exist ({}); is the lab up (testbed lab status)?",
          iface, lib);
    case PCAP_ERROR_PERM_DENIED:
      return fmt::format(
          "no permission to capture on '{}' ({}); run as root or grant "
          "CAP_NET_RAW and CAP_NET_ADMIN",
          iface, lib);
    case PCAP_ERROR_IFACE_NOT_UP:
      return fmt::format("capture interface '{}' is down ({})", iface, lib);
    default:
      return fmt::format("cannot start capture on '{}': {} ({})", iface, pcap_statustostr(rc), lib);
  }
}

void fsync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

util::Result<std::unique_ptr<LiveCapture>> LiveCapture::start(const CaptureOptions& opts) {
  if (opts.interface.empty()) return fail("capture: no interface given");
  const bool stream = opts.output_fd >= 0;
  if (!stream && opts.output.empty())
    return fail("capture on '{}': no output file given", opts.interface);
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle p(pcap_create(opts.interface.c_str(), errbuf));
  if (!p) return fail("cannot open capture interface '{}': {}", opts.interface, errbuf);
  // Settings before activation; each returns PCAP_ERROR_ACTIVATED only if misused.
  pcap_set_snaplen(p.get(), opts.snaplen);
  pcap_set_promisc(p.get(), 1);
  pcap_set_timeout(p.get(), kReadTimeoutMs);
  pcap_set_buffer_size(p.get(), opts.buffer_bytes);
  pcap_set_immediate_mode(p.get(), opts.immediate ? 1 : 0);
  if (pcap_set_tstamp_precision(p.get(), PCAP_TSTAMP_PRECISION_NANO) != 0) {
    return fail("capture on '{}': nanosecond time stamps not supported", opts.interface);
  }
  int rc = pcap_activate(p.get());
  if (rc < 0) return util::Error{activate_error(p.get(), rc, opts.interface)};
  if (rc > 0) {
    util::log_warn("capture on '{}': {} ({})", opts.interface, pcap_statustostr(rc),
                   pcap_geterr(p.get()));
  }
  if (!opts.bpf_filter.empty()) {
    bpf_program prog{};
    if (pcap_compile(p.get(), &prog, opts.bpf_filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      return fail("capture on '{}': bad filter '{}': {}", opts.interface, opts.bpf_filter,
                  pcap_geterr(p.get()));
    }
    int src = pcap_setfilter(p.get(), &prog);
    pcap_freecode(&prog);
    if (src != 0) {
      return fail("capture on '{}': cannot set filter '{}': {}", opts.interface, opts.bpf_filter,
                  pcap_geterr(p.get()));
    }
  }
  std::unique_ptr<LiveCapture> c(new LiveCapture());
  c->opts_ = opts;
  if (stream) {
    // A descriptor of our own: closing the dumper must not close the caller's (stdout).
    const int fd = ::fcntl(opts.output_fd, F_DUPFD_CLOEXEC, 3);
    FILE* f = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
    if (!f) {
      const int err = errno;
      if (fd >= 0) ::close(fd);
      return fail("capture on '{}': cannot write to descriptor {}: {}", opts.interface,
                  opts.output_fd, std::strerror(err));
    }
    c->dumper_.reset(pcap_dump_fopen(p.get(), f));
    if (!c->dumper_) {
      std::fclose(f);
      return fail("capture on '{}': cannot start the pcap stream: {}", opts.interface,
                  pcap_geterr(p.get()));
    }
  } else {
    c->part_ = opts.output.string() + ".part";
    c->dumper_.reset(pcap_dump_open(p.get(), c->part_.c_str()));
    if (!c->dumper_) {
      return fail("capture on '{}': cannot create '{}': {}", opts.interface, c->part_.string(),
                  pcap_geterr(p.get()));
    }
  }
  c->pcap_ = std::move(p);
  c->last_flush_ = std::chrono::steady_clock::now();
  c->thread_ = std::thread([raw = c.get()] { raw->loop(); });
  return c;
}

LiveCapture::~LiveCapture() {
  end_thread();
  if (!stopped_ && !part_.empty()) {
    // Abandoned capture: not complete, so not kept.
    dumper_.reset();
    std::error_code ec;
    std::filesystem::remove(part_, ec);
  }
}

void LiveCapture::end_thread() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  pcap_breakloop(pcap_.get());  // wakes a blocked pcap_dispatch (libpcap ≥ 1.10: eventfd)
  thread_.join();
}

void LiveCapture::on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
  reinterpret_cast<LiveCapture*>(user)->write_packet(h, bytes);
}

void LiveCapture::write_packet(const pcap_pkthdr* h, const u_char* bytes) {
  if (!write_error_.empty()) return;  // the file is already lost; keep draining the kernel
  if (opts_.max_packets > 0 && stats_.packets_written >= opts_.max_packets) return;
  errno = 0;
  pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), h, bytes);
  // pcap_dump reports nothing; stdio's error flag and errno (set by the failing write
  // inside fwrite) say what happened, so look right away, before errno is overwritten.
  if (std::ferror(pcap_dump_file(dumper_.get()))) {
    write_error_ = std::strerror(errno ? errno : EIO);
    finished_.store(true);
    return;
  }
  const double ts = ts_seconds(h);
  if (stats_.packets_written == 0) stats_.first_ts = ts;
  stats_.last_ts = ts;
  ++stats_.packets_written;
  stats_.bytes_written += h->caplen;
  stats_.bytes_on_wire += h->len;
  packets_.fetch_add(1, std::memory_order_relaxed);
  if (opts_.max_packets > 0 && stats_.packets_written == opts_.max_packets) {
    finished_.store(true);
    pcap_breakloop(pcap_.get());  // the rest of this batch is not wanted
  }
}

void LiveCapture::loop() {
  pcap_t* p = pcap_.get();
  FILE* f = pcap_dump_file(dumper_.get());
  auto check_file = [&](bool flush) {
    if (!write_error_.empty()) return;
    errno = 0;
    if (flush && pcap_dump_flush(dumper_.get()) != 0) {
      write_error_ = std::strerror(errno ? errno : EIO);
    } else if (std::ferror(f)) {
      write_error_ = std::strerror(errno ? errno : EIO);
    }
    if (!write_error_.empty()) finished_.store(true);
  };
  const bool stream = opts_.output_fd >= 0;  // a reader waits: hand packets over at once
  while (!stopping_.load()) {
    int n = pcap_dispatch(p, -1, &LiveCapture::on_packet, reinterpret_cast<u_char*>(this));
    if (n == PCAP_ERROR) {
      loop_error_ = pcap_geterr(p);
      finished_.store(true);
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool flush = (stream && n != 0) || now - last_flush_ >= kFlushInterval;
    if (flush) last_flush_ = now;
    check_file(flush);
  }
  // Whatever the kernel already holds belongs to the capture: drain it without blocking.
  if (loop_error_.empty() && pcap_setnonblock(p, 1, nullptr) == 0) {
    while (pcap_dispatch(p, -1, &LiveCapture::on_packet, reinterpret_cast<u_char*>(this)) > 0) {
    }
  }
  check_file(true);
}

util::Result<CaptureStats> LiveCapture::stop() {
  if (stopped_) return fail("capture on '{}': stop() called twice", opts_.interface);
  stopped_ = true;
  // Packets sit in the kernel ring's current block until it is retired (full, or the read
  // timeout after its first packet): the non-blocking drain below cannot see them. Wait
  // at least that long, so a stop right after the last packet (Ctrl-C, grace 0) keeps it.
  // Measured: `lab capture` stopped at once after a 3-echo ping kept 4 of its 6 frames.
  // (loop_error_ is only safe to read after join.)
  std::this_thread::sleep_for(
      std::max(opts_.stop_grace, std::chrono::milliseconds(kMinStopGraceMs)));
  end_thread();

  // Drop counters after the last packet was read, so they cover the whole capture.
  pcap_stat ps{};
  if (pcap_stats(pcap_.get(), &ps) == 0) {
    stats_.kernel_received = ps.ps_recv;
    stats_.kernel_dropped = ps.ps_drop;
    stats_.interface_dropped = ps.ps_ifdrop;
  } else {
    util::log_warn("capture on '{}': cannot read drop counters: {}", opts_.interface,
                   pcap_geterr(pcap_.get()));
  }

  const bool stream = opts_.output_fd >= 0;
  std::string error = write_error_;
  if (error.empty()) {
    FILE* f = pcap_dump_file(dumper_.get());
    errno = 0;
    if (pcap_dump_flush(dumper_.get()) != 0 || std::ferror(f)) {
      error = std::strerror(errno ? errno : EIO);
    } else if (!stream && ::fsync(fileno(f)) != 0) {
      error = std::strerror(errno);
    }
  }
  dumper_.reset();  // fclose; after a successful flush and fsync it has nothing to write
  if (stream) {  // nothing to discard: what was written has been read
    if (!error.empty())
      return fail("capture on '{}': writing the pcap stream failed after {} packets: {}",
                  opts_.interface, stats_.packets_written, error);
    if (!loop_error_.empty())
      return fail("capture on '{}': reading packets failed: {}", opts_.interface, loop_error_);
    return stats_;
  }

  auto discard = [&](const std::string& why) -> util::Error {
    std::error_code ec;
    std::filesystem::remove(part_, ec);
    return fail(
        "capture on '{}': {}; the capture is incomplete and was discarded (no file at "
        "'{}')",
        opts_.interface, why, opts_.output.string());
  };
  if (!error.empty()) {
    return discard(fmt::format("writing '{}' failed: {}", part_.string(), error));
  }
  if (!loop_error_.empty()) return discard("reading packets failed: " + loop_error_);
  std::error_code ec;
  std::filesystem::rename(part_, opts_.output, ec);
  if (ec) return discard(fmt::format("cannot rename '{}': {}", part_.string(), ec.message()));
  fsync_dir(opts_.output.parent_path());
  return stats_;
}

}  // namespace testbed::capture
