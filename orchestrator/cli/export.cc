// `testbed export RESULTS_DIR --version V` — the unique packets of one scanner version (the
// report's list, Table 2's method) as a pcap of their own (orchestrator/report/export.h).
#include "orchestrator/report/export.h"

#include <fmt/ranges.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "orchestrator/analysis/capture_file.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/interrupt.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace fs = std::filesystem;
namespace {

struct ExportArgs {
  std::string results_dir;
  std::string output;
  std::string direction = "sent";
  report::ExportOptions opts;
};

/// unique-<version>.pcap, the label's characters a file name can hold.
std::string default_output(const std::string& version) {
  std::string name = "unique-";
  for (char ch : version)
    name += (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-') ? ch : '_';
  return name + ".pcap";
}

util::Status write_stdout(const std::string& bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0)
    return util::fail("cannot write the pcap to standard output: {}", std::strerror(errno));
  return {};
}

int run_export(ExportArgs a) {
  const bool to_stdout = a.output == "-";
  if (to_stdout && isatty(STDOUT_FILENO)) {
    util::log_error("-o -: standard output is a terminal; pipe it (| tshark -r -) or redirect it "
                    "(> FILE.pcap), or give -o FILE.pcap");
    return kExitBadInput;
  }
  auto dir = pick_results_dir(a.results_dir);
  if (!dir) return kExitBadInput;
  util::catch_interrupts();  // Ctrl-C stops the analysis; nothing is written
  a.opts.cancel = &util::interrupt_flag();
  a.opts.replies = a.direction == "all";
  auto e = report::export_unique(*dir, a.opts);
  if (util::interrupted()) {
    util::log_warn("interrupted (nothing written)");
    return kExitInterrupted;
  }
  if (!e) {
    util::log_error("{}", e.error().message);
    return kExitBadInput;
  }
  const fs::path out = a.output.empty() ? default_output(a.opts.version) : a.output;
  // The whole file or nothing: a temporary file beside it renamed over it, or one write.
  auto st = to_stdout ? write_stdout(e->pcap) : util::write_file_atomic(out, e->pcap);
  if (!st) {
    util::log_error("{}", st.error().message);
    return kExitFailure;
  }
  const std::string phase = a.opts.phase.empty() ? "" : ", phase " + a.opts.phase;
  util::log_info("{}: {} unique packet{} ({} grouping{}; compared with {}) -> {} frame{}{} of {} "
                 "(link type {}) written to {}",
                 e->run, e->unique, e->unique == 1 ? "" : "s", e->grouping, phase,
                 e->others.empty() ? std::string("no other version")
                                   : fmt::format("{}", fmt::join(e->others, ", ")),
                 e->frames.size(), e->frames.size() == 1 ? "" : "s",
                 a.opts.replies ? fmt::format(" and {} answering them", e->replies) : "",
                 e->capture.string(),
                 analysis::link_type_name(e->link_type), to_stdout ? "standard output" : out.string());
  if (e->unique == 0)
    util::log_warn("{} has no unique packets{}: the file holds no frames", e->run, phase);
  if (!to_stdout) std::cout << out.string() << '\n';
  return kExitOk;
}

}  // namespace

void add_export_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<ExportArgs>();
  auto* sub = app.add_subcommand(
      "export",
      "Write the unique packets of one scanner version (Table 2's method: what it sends that "
      "no other version of the experiment sends; the report's list) as a pcap: the frames of "
      "its run's capture, byte for byte, with their time stamps, in capture order.");
  sub->footer(
      "The versions are compared as in the report: each version's first complete run, the "
      "analysis settings of the results directory's experiment.yaml. Each unique packet is "
      "the frame the report names (run, frame number): its first frame with that key.\n"
      "The file is a nanosecond pcap of the capture's link type; it is written whole "
      "(a temporary file renamed) or not at all.\n"
      "Exit codes: 0 written (also when the version has no unique packets: a file with no "
      "frames, said on stderr), 1 the file could not be written, 2 not a results directory, "
      "unknown version, repetition or phase, no complete run of the version (nothing written), "
      "130 interrupted (nothing written).\n"
      "Example: testbed export results/nmap7/20261126T214900Z --version 7.93 -o - | tshark -r -");
  add_results_dir_argument(*sub, args->results_dir);
  sub->add_option("--version", args->opts.version,
                  "The scanner version (its label in the experiment, e.g. 7.93)")
      ->required();
  sub->add_option("-o,--output", args->output,
                  "The pcap to write, or - for standard output (default: unique-VERSION.pcap "
                  "in the current directory)");
  sub->add_option("--repetition", args->opts.repetition,
                  "Take this repetition of the version (default: its first complete run, as the "
                  "report); the other versions stay the report's runs")
      ->check(CLI::Range(1, 1000000));
  sub->add_option("--phase", args->opts.phase,
                  "Only the unique packets of this phase: horizontal, strobe, services, other "
                  "(with --fine: discovery, port-scan, service, os, script, traceroute, other)");
  sub->add_option("--direction", args->direction,
                  "sent: the unique packets only (default); all: also the frames that answer "
                  "them (the target's SYN-ACK, RST, data or UDP reply on the same ports, echo "
                  "replies, ICMP errors quoting them)")
      ->check(CLI::IsMember({"sent", "all"}));
  sub->add_flag("--fine", args->opts.fine,
                "Table 2 by fine phase instead of the study's three phases (a packet that "
                "moved between Nmap's phases is unique there too)");
  sub->callback([args, &ctx] { ctx.exit_code = run_export(*args); });
}

}  // namespace testbed::cli
