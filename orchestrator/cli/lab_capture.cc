// `testbed lab capture LAB TARGET [-w FILE|-] [--count N] [--duration S] [-f BPF]`: watch a
// lab link live. TARGET is a network of the lab (its bridge) or NODE:NETWORK (that node's
// host-side veth or tap); nothing outside the lab is opened. The capture is the runner's
// (capture::start_capture: libpcap here, tcpdump over SSH on a remote lab host), into a
// file (complete or absent, as every capture here) or a pcap stream on standard output
// that nothing else is written to. It ends at --count packets, after --duration seconds or
// at SIGINT/SIGTERM, and says on standard error how many packets the kernel dropped.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "orchestrator/capture/capture.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {
namespace fs = std::filesystem;

struct CaptureArgs {
  std::string name;
  std::string target;
  std::string write;  ///< FILE, or "-" / empty: standard output
  uint64_t count = 0;
  double duration = 0;
  std::string filter;
  std::string state_root = "/var/lib/testbed/labs";
};

/// The host device of `target`: a target of the lab by name, or one of their devices
/// (`lab status` prints the capture interface). Anything else is refused, naming them.
util::Result<std::string> resolve_target(const lab::Lab& lab, const std::string& target) {
  const auto targets = lab.capture_targets();
  std::vector<std::string> names;
  for (const auto& [name, dev] : targets) {
    if (target == name || target == dev) return dev;
    names.push_back(name);
  }
  return util::fail("'{}' is not a network or node interface of lab '{}'; capture on one of: {}",
                    target, lab.name(), fmt::join(names, ", "));
}

/// Bad input said before the lab is opened: the filter, the output.
std::optional<int> check_arguments(const CaptureArgs& a, bool to_stdout) {
  if (auto s = capture::check_filter(a.filter); !s) {
    util::log_error("-f: {}", s.error().message);
    return kExitBadInput;
  }
  if (to_stdout && ::isatty(STDOUT_FILENO)) {
    util::log_error(
        "standard output is a terminal, not a place for pcap: give -w FILE, or pipe it "
        "(-w - | tshark -r -)");
    return kExitBadInput;
  }
  if (!to_stdout) {
    const fs::path dir = fs::absolute(a.write).parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      util::log_error("-w {}: no directory {}", a.write, dir.string());
      return kExitBadInput;
    }
  }
  return std::nullopt;
}

/// Waits until the capture ends by itself (--count, a closed pipe), --duration passed or
/// SIGINT/SIGTERM came, showing the packet count on standard error.
void wait_for_end(const capture::Capture& c, const CaptureArgs& a) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto limit = std::chrono::duration<double>(a.duration);
  util::Progress progress("capture", 10.0);
  while (!util::interrupted() && !c.finished() &&
         (a.duration <= 0 || clock::now() - start < limit)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    progress.update(fmt::format("{} packets", c.packets_so_far()));
  }
  const char* why = util::interrupted()  ? util::interrupt_signal_name()
                    : c.finished()      ? "the capture ended"
                                        : "--duration passed";
  progress.finish(fmt::format("{} packets ({})", c.packets_so_far(), why));
}

int run_capture(const CaptureArgs& a) {
  const bool to_stdout = a.write.empty() || a.write == "-";
  if (auto rc = check_arguments(a, to_stdout)) return *rc;
  if (auto rc = check_lab_exists(a.name, a.state_root)) return *rc;
  lab::LabOptions lo;
  lo.state_root = a.state_root;
  auto lab = lab::Lab::open(a.name, lo);
  if (!lab) {
    util::log_error("{}", lab.error().message);
    return kExitFailure;
  }
  auto dev = resolve_target(**lab, a.target);
  if (!dev) {
    util::log_error("{}", dev.error().message);
    return kExitBadInput;
  }
  capture::CaptureOptions o;
  o.interface = *dev;
  if (to_stdout)
    o.output_fd = STDOUT_FILENO;
  else
    o.output = a.write;
  o.max_packets = a.count;
  o.bpf_filter = a.filter;
  std::optional<remote::SshTarget> host;
  if ((*lab)->lab_host()) host = remote::target_of(*(*lab)->lab_host());
  // libpcap drains what the kernel holds at stop; tcpdump hands packets over up to 1 s
  // late (RemoteCapture::stop).
  o.stop_grace = std::chrono::milliseconds(host ? 1500 : 0);

  util::catch_interrupts();
  ::signal(SIGPIPE, SIG_IGN);  // a reader that goes away is a write error, said below
  auto c = capture::start_capture(o, host);
  if (!c) {
    util::log_error("{}", c.error().message);
    return kExitFailure;
  }
  util::log_info("capturing on {} ({} of lab {}{}) into {}; Ctrl-C stops", *dev, a.target,
                 a.name, host ? " on " + host->host : "",
                 to_stdout ? std::string("standard output") : a.write);
  wait_for_end(**c, a);
  auto st = (*c)->stop();
  if (!st) {
    util::log_error("{}", st.error().message);
    return kExitFailure;
  }
  // Always said, also with -q: a capture that dropped packets is not the traffic.
  fmt::print(stderr, "{} packets captured on {}; dropped: {} by the kernel, {} by the interface\n",
             st->packets_written, *dev, st->kernel_dropped, st->interface_dropped);
  return kExitOk;
}

}  // namespace

void add_lab_capture_subcommand(CLI::App& lab, CliContext& ctx) {
  auto a = std::make_shared<CaptureArgs>();
  auto* c = lab.add_subcommand(
      "capture",
      "Watch a lab link live: capture on a lab network or a node's interface into a pcap file "
      "or standard output (for tshark or Wireshark); ends at --count, --duration or Ctrl-C");
  c->footer(
      "TARGET is a network of the lab (its bridge: every node on it) or NODE:NETWORK (that\n"
      "node's interface on it); nothing outside the lab is captured. The capture is the one\n"
      "`testbed run` takes (over SSH on a remote lab host). Progress and, at the end, the\n"
      "packets the kernel dropped go to standard error; with -w - standard output carries\n"
      "the pcap stream and nothing else.\n"
      "Exit codes: 0 the capture ended (--count, --duration, Ctrl-C/SIGTERM) and the file or\n"
      "stream is complete, 1 the capture failed (no permission, device gone, writing failed;\n"
      "no file is left), 2 bad input (unknown lab, a target outside the lab, bad filter,\n"
      "output a terminal; nothing was started).\n"
      "Example: testbed lab capture ci-smoke scan -w - | tshark -r -\n"
      "         testbed lab capture ci-smoke scanner:scan -w scan.pcap --count 100 -f icmp");
  c->add_option("name", a->name, "Lab name")->required();
  c->add_option("target", a->target,
                "A network of the lab (e.g. scan) or NODE:NETWORK (e.g. scanner:scan)")
      ->required();
  c->add_option("-w,--write", a->write,
                "pcap file (written as FILE.part, renamed when complete), or - for standard "
                "output (the default when it is not a terminal)");
  c->add_option("-c,--count", a->count, "Stop after N packets")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (!v.empty() && v.size() <= 12 && v.find_first_not_of("0123456789") == v.npos &&
                std::stoull(v) > 0)
              return {};
            return fmt::format("'{}' is not a count: give a whole number from 1", v);
          },
          "N"));
  c->add_option("-d,--duration", a->duration, "Stop after S seconds")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            char* end = nullptr;
            const double d = std::strtod(v.c_str(), &end);
            if (!v.empty() && end && *end == '\0' && d > 0 && d < 1e9) return {};
            return fmt::format("'{}' is not a duration: give seconds above 0, e.g. 30 or 0.5", v);
          },
          "S"));
  c->add_option("-f,--filter", a->filter, "BPF filter, as tcpdump's (e.g. 'icmp or arp')");
  c->add_option("--state-dir", a->state_root, "Where lab state lives (keys, overlays, lab.json)")
      ->capture_default_str();
  c->callback([a, &ctx] { ctx.exit_code = run_capture(*a); });
}

}  // namespace testbed::cli
