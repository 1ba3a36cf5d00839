// `testbed analyze` — the study's Tables 1 and 2 (and more) from captures or run directories.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

namespace fs = std::filesystem;
using analysis::CaptureInput;

struct AnalyzeArgs {
  std::vector<std::string> positional;
  std::vector<std::string> labels, phases, xmls, logs;
  std::string scanner_ip, key_fields;
  std::string tcp_rule, udp_rule, icmp_rule, other_rule;
  bool same_dst = false;
  bool json = false;
  std::string csv_dir;
  size_t unique_limit = 20;
};

util::Result<std::pair<std::string, std::string>> split_assign(const std::string& s, const char* opt) {
  size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
    return util::fail("{} expects LABEL=FILE, got \"{}\"", opt, s);
  return std::pair{s.substr(0, eq), s.substr(eq + 1)};
}

// "LEN,BLOCK" or "off".
util::Status parse_rule(const std::string& s, const char* opt, analysis::SimilarityRule* r) {
  if (s.empty()) return {};
  if (s == "off") {
    r->enabled = false;
    return {};
  }
  unsigned len = 0, block = 0;
  char extra;
  if (std::sscanf(s.c_str(), "%u,%u%c", &len, &block, &extra) != 2)
    return util::fail("{} expects MAX_LENGTH_DIFF,MIN_COMMON_BLOCK (e.g. 32,16) or off, got \"{}\"", opt, s);
  *r = analysis::SimilarityRule{true, len, block};
  return {};
}

// A run directory (capture.pcap [+ phases.json, nmap.xml, nmap.log]) or a capture file.
util::Result<CaptureInput> input_from_path(const std::string& arg) {
  fs::path p(arg);
  std::error_code ec;
  CaptureInput in;
  if (fs::is_directory(p, ec)) {
    in.pcap = p / "capture.pcap";
    if (!fs::exists(in.pcap, ec))
      return util::fail("{} is a directory without capture.pcap; expected a run directory", arg);
    if (fs::exists(p / "phases.json", ec)) in.phases_json = p / "phases.json";
    if (fs::exists(p / "nmap.xml", ec)) in.nmap_xml = p / "nmap.xml";
    if (!in.phases_json && fs::exists(p / "nmap.log", ec)) in.nmap_log = p / "nmap.log";
    fs::path norm = fs::weakly_canonical(p, ec);
    std::string name = norm.filename().string();
    // results/<exp>/<ts>/<scanner>/<rep>/: label "scanner/rep".
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
      name = norm.parent_path().filename().string() + "/" + name;
    in.label = name;
    return in;
  }
  if (!fs::is_regular_file(p, ec)) return util::fail("{}: no such capture file or run directory", arg);
  in.pcap = p;
  in.label = p.stem().string();
  return in;
}

int run_analyze(const AnalyzeArgs& a) {
  std::vector<CaptureInput> inputs;
  for (const std::string& s : a.labels) {
    auto kv = split_assign(s, "--label");
    if (!kv) { util::log_error("{}", kv.error().message); return kExitBadInput; }
    auto in = input_from_path(kv->second);
    if (!in) { util::log_error("{}", in.error().message); return kExitBadInput; }
    in->label = kv->first;
    inputs.push_back(std::move(*in));
  }
  for (const std::string& s : a.positional) {
    auto in = input_from_path(s);
    if (!in) { util::log_error("{}", in.error().message); return kExitBadInput; }
    inputs.push_back(std::move(*in));
  }
  if (inputs.empty()) {
    util::log_error("no captures given: pass PCAP files, run directories, or --label LABEL=PCAP");
    return kExitBadInput;
  }
  auto find_label = [&](const std::string& label) -> CaptureInput* {
    for (auto& in : inputs)
      if (in.label == label) return &in;
    return nullptr;
  };
  struct Attach {
    const std::vector<std::string>* list;
    const char* opt;
    std::optional<fs::path> CaptureInput::*field;
  };
  for (const Attach& at : {Attach{&a.phases, "--phases", &CaptureInput::phases_json},
                           Attach{&a.xmls, "--nmap-xml", &CaptureInput::nmap_xml},
                           Attach{&a.logs, "--nmap-log", &CaptureInput::nmap_log}}) {
    for (const std::string& s : *at.list) {
      auto kv = split_assign(s, at.opt);
      if (!kv) { util::log_error("{}", kv.error().message); return kExitBadInput; }
      CaptureInput* in = find_label(kv->first);
      if (!in) {
        util::log_error("{}: no capture is labelled \"{}\"", at.opt, kv->first);
        return kExitBadInput;
      }
      (in->*at.field) = fs::path(kv->second);
    }
  }

  analysis::AnalysisOptions opts;
  if (!a.scanner_ip.empty()) {
    auto ip = analysis::IpAddr::parse(a.scanner_ip);
    if (ip.empty()) {
      util::log_error("--scanner-ip: \"{}\" is not an IPv4 or IPv6 address", a.scanner_ip);
      return kExitBadInput;
    }
    opts.scanner = ip;
  }
  auto kf = analysis::parse_key_fields(a.key_fields);
  if (!kf) { util::log_error("--key-fields: {}", kf.error().message); return kExitBadInput; }
  opts.key_fields = *kf;
  for (auto [s, opt, rule] : {std::tuple{&a.tcp_rule, "--tcp-similarity", &opts.similarity.tcp},
                              std::tuple{&a.udp_rule, "--udp-similarity", &opts.similarity.udp},
                              std::tuple{&a.icmp_rule, "--icmp-similarity", &opts.similarity.icmp},
                              std::tuple{&a.other_rule, "--other-similarity", &opts.similarity.other}})
    if (auto st = parse_rule(*s, opt, rule); !st) { util::log_error("{}", st.error().message); return kExitBadInput; }
  opts.similarity.same_dst = a.same_dst;

  auto r = analysis::analyze(inputs, opts);
  if (!r) {
    util::log_error("{}", r.error().message);
    return kExitBadInput;
  }
  if (!a.csv_dir.empty()) {
    if (auto st = analysis::write_csv(*r, a.csv_dir); !st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
  }
  // replace: labels are file names, which need not be UTF-8 (nlohmann would throw).
  if (a.json)
    std::cout << analysis::to_json(*r, a.unique_limit).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << '\n';
  else std::cout << analysis::to_markdown(*r, a.unique_limit);
  return kExitOk;
}

}  // namespace

void add_analyze_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<AnalyzeArgs>();
  auto* sub = app.add_subcommand(
      "analyze",
      "Tables 1 and 2 of the study from captures: per-capture traffic counts, unique packets per "
      "scan phase across versions, the unique packets themselves, and port usage.");
  sub->footer(
      "Inputs: capture files (labelled by file name), run directories holding capture.pcap and\n"
      "optionally phases.json, nmap.xml, nmap.log (labelled by directory name), or --label LABEL=PCAP.\n"
      "Example: testbed analyze --label 7.80=a.pcap --label 7.93=b.pcap --label 7.95=c.pcap\n"
      "Formats and defaults: orchestrator/analysis/README.md. Exit 2 on bad input.");
  sub->add_option("inputs", args->positional, "Capture files (pcap/pcapng) or run directories");
  sub->add_option("--label", args->labels, "LABEL=PCAP_OR_RUN_DIR: a capture with its column label (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--phases", args->phases, "LABEL=phases.json: phase timeline of that capture (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--nmap-xml", args->xmls,
                  "LABEL=FILE: Nmap -oX report of that capture (its elapsed time becomes the duration)")
      ->allow_extra_args(false);
  sub->add_option("--nmap-log", args->logs,
                  "LABEL=FILE: \"<epoch> <line>\" Nmap -v log, turned into a timeline when no phases.json")
      ->allow_extra_args(false);
  sub->add_option("--scanner-ip", args->scanner_ip,
                  "Scanner address (default: auto, the host sending to the most distinct destination ports)");
  sub->add_option("--key-fields", args->key_fields,
                  "Extra packet-key fields, comma-separated: ttl, ipid, window, tcp-options, icmp "
                  "(default: the study's key only)");
  sub->add_option("--tcp-similarity", args->tcp_rule,
                  "TCP similarity rule MAX_LENGTH_DIFF,MIN_COMMON_BLOCK or off (default 32,16)");
  sub->add_option("--udp-similarity", args->udp_rule, "UDP similarity rule (default 32,16)");
  sub->add_option("--icmp-similarity", args->icmp_rule, "ICMP similarity rule (default 16,8)");
  sub->add_option("--other-similarity", args->other_rule, "Similarity rule for other protocols (default off)");
  sub->add_flag("--similar-same-dst", args->same_dst,
                "Similar packets must also have the same destination address (the study did not require it)");
  sub->add_flag("--json", args->json, "Print everything as JSON instead of Markdown");
  sub->add_option("--csv", args->csv_dir, "Also write table1/table2/port_usage/unique_packets/phases CSV files here");
  sub->add_option("--unique-limit", args->unique_limit, "Unique packets listed per phase and capture (default 20)")
      ->check(CLI::NonNegativeNumber);
  sub->callback([args, &ctx] { ctx.exit_code = run_analyze(*args); });
}

}  // namespace testbed::cli
