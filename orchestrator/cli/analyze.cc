// `testbed analyze` — the study's Tables 1 and 2 (and more) from captures or run directories.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/report/inert.h"
#include "orchestrator/report/render.h"
#include "orchestrator/results/layout.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

namespace fs = std::filesystem;
using analysis::CaptureInput;

struct AnalyzeArgs {
  std::vector<std::string> positional;
  std::vector<std::string> labels, phases, xmls, logs;
  std::string scanner_ip, key_fields;
  std::string scanner_kind;  ///< --scanner-kind: every input's kind ("" = from the run directory)
  std::string tcp_rule, udp_rule, icmp_rule, other_rule;
  bool same_dst = false;
  bool json = false;
  std::string csv_dir;
  std::string filter, from, to;  ///< --filter BPF, --from/--to time bounds
  size_t unique_limit = analysis::kDefaultUniqueLimit;
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

bool all_digits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

/// The column label of a capture in `dir`: "<scanner>/<rep>" for a run directory of a
/// results directory (results/<exp>/<ts>/<scanner>/<rep>/), else the directory's name.
std::string run_label(const fs::path& dir) {
  std::error_code ec;
  fs::path norm = fs::weakly_canonical(dir, ec);
  if (ec) norm = fs::absolute(dir, ec);
  std::string name = norm.filename().string();
  if (all_digits(name)) name = norm.parent_path().filename().string() + "/" + name;
  return name;
}

bool is_capture_file(const fs::path& p) {
  const std::string e = p.extension().string();
  return e == ".pcap" || e == ".pcapng" || e == ".cap";
}

/// What a run directory holds beside its capture: phases.json (the timeline), the kind's
/// result file (nmap.xml: Nmap's elapsed time), and its console log (nmap.log) when there
/// is no phases.json. Returns the file names used, for the log line that says so.
std::vector<std::string> attach_run_files(const fs::path& dir, CaptureInput& in) {
  std::vector<std::string> used;
  CaptureInput found = results::RunDir{dir}.capture_input(in.label, *in.kind, &used);
  in.phases_json = found.phases_json;
  in.result_file = found.result_file;
  in.console_log = found.console_log;
  return used;
}

/// The scanner kind of the captures in `dir`: --scanner-kind when given, else what the run
/// directory records (results::RunDir::kind; nmap for runs that record none).
util::Result<const analysis::ScannerModel*> kind_for(const fs::path& dir, const std::string& forced) {
  auto k = forced.empty() ? results::RunDir{dir}.kind() : scanners::kind_named(forced);
  if (!k) return k.error();
  return &(*k)->model();
}

/// A capture and the files found for it (said on stderr: they change the phase counts
/// and the duration).
struct Input {
  CaptureInput capture;
  std::vector<std::string> found;  ///< phases.json, nmap.xml, nmap.log found beside it
  fs::path found_in;
  bool auto_label = true;
};

// A run directory (capture.pcap [+ phases.json, nmap.xml, nmap.log]) or a capture file. A
// capture file gets the same companions when they are unambiguously its own: it is a run
// directory's capture.pcap, or the only capture in its directory. A capture.pcap is labelled
// by its directory (the run's "7.80/1" in a results directory), any other file by its name
// without extension.
util::Result<Input> input_from_path(const std::string& arg, const std::string& forced_kind) {
  fs::path p(arg);
  std::error_code ec;
  Input in;
  if (fs::is_directory(p, ec)) {
    in.capture.pcap = results::RunDir{p}.capture();
    if (!fs::exists(in.capture.pcap, ec))
      return util::fail("{} is a directory without {}; expected a run directory", arg,
                        results::files::kCapture);
    auto kind = kind_for(p, forced_kind);
    if (!kind) return kind.error();
    in.capture.kind = *kind;
    in.capture.label = run_label(p);
    in.found = attach_run_files(p, in.capture);
    in.found_in = p;
    return in;
  }
  if (!fs::is_regular_file(p, ec)) return util::fail("{}: no such capture file or run directory", arg);
  in.capture.pcap = p;
  in.capture.label = p.stem().string();
  fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  bool own_dir = p.filename() == results::files::kCapture;
  if (!own_dir) {
    own_dir = true;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().filename() != p.filename() && is_capture_file(e.path())) own_dir = false;
  }
  // capture.pcap says nothing: the run ("7.80/1") or the directory names it.
  if (p.filename() == results::files::kCapture) in.capture.label = run_label(dir);
  auto kind = own_dir ? kind_for(dir, forced_kind)
                      : kind_for(dir, forced_kind.empty() ? "nmap" : forced_kind);
  if (!kind) return kind.error();
  in.capture.kind = *kind;
  if (own_dir) {
    in.found = attach_run_files(dir, in.capture);
    in.found_in = dir;
  }
  return in;
}

/// Two captures that would get one label (results/a/7.80/1/capture.pcap and
/// results/b/7.80/1/capture.pcap, or x/capture.pcap and y/capture.pcap) are told apart by
/// the directories above them; labels given with --label are left as they are.
void make_labels_unique(std::vector<Input>& inputs) {
  for (int depth = 1; depth <= 4; ++depth) {
    std::map<std::string, int> count;
    for (const auto& in : inputs) ++count[in.capture.label];
    bool clash = false;
    for (auto& in : inputs) {
      if (!in.auto_label || count[in.capture.label] < 2) continue;
      clash = true;
      std::error_code ec;
      fs::path abs = fs::weakly_canonical(in.capture.pcap, ec);
      // Walk up past the directories the label already names.
      fs::path up = abs.parent_path();
      size_t named = std::count(in.capture.label.begin(), in.capture.label.end(), '/') +
                     (in.capture.pcap.filename() == results::files::kCapture ? 1 : 0);
      for (size_t k = 0; k < named && up.has_parent_path() && up != up.root_path(); ++k)
        up = up.parent_path();
      std::string prefix = up.filename().string();
      if (!prefix.empty()) in.capture.label = prefix + "/" + in.capture.label;
    }
    if (!clash) return;
  }
}

int run_analyze(const AnalyzeArgs& a) {
  std::vector<Input> found;
  for (const std::string& s : a.labels) {
    auto kv = split_assign(s, "--label");
    if (!kv) { util::log_error("{}", kv.error().message); return kExitBadInput; }
    auto in = input_from_path(kv->second, a.scanner_kind);
    if (!in) { util::log_error("{}", in.error().message); return kExitBadInput; }
    in->capture.label = kv->first;
    in->auto_label = false;
    found.push_back(std::move(*in));
  }
  for (const std::string& s : a.positional) {
    auto in = input_from_path(s, a.scanner_kind);
    if (!in) { util::log_error("{}", in.error().message); return kExitBadInput; }
    found.push_back(std::move(*in));
  }
  if (found.empty()) {
    util::log_error("no captures given: pass PCAP files, run directories, or --label LABEL=PCAP");
    return kExitBadInput;
  }
  make_labels_unique(found);
  auto find_label = [&](const std::string& label) -> Input* {
    for (auto& in : found)
      if (in.capture.label == label) return &in;
    return nullptr;
  };
  struct Attach {
    const std::vector<std::string>* list;
    const char* opt;
    const char* file;  ///< the companion file the option replaces
    std::optional<fs::path> CaptureInput::*field;
  };
  for (const Attach& at :
       {Attach{&a.phases, "--phases", results::files::kPhases, &CaptureInput::phases_json},
        Attach{&a.xmls, "--nmap-xml", "nmap.xml", &CaptureInput::result_file},
        Attach{&a.logs, "--nmap-log", "nmap.log", &CaptureInput::console_log}}) {
    for (const std::string& s : *at.list) {
      auto kv = split_assign(s, at.opt);
      if (!kv) { util::log_error("{}", kv.error().message); return kExitBadInput; }
      Input* in = find_label(kv->first);
      if (!in) {
        util::log_error("{}: no capture is labelled \"{}\"", at.opt, kv->first);
        return kExitBadInput;
      }
      (in->capture.*at.field) = fs::path(kv->second);
      std::erase(in->found, std::string(at.file));
      // A log given by hand is the timeline: a phases.json found beside would win over it.
      if (at.field == &CaptureInput::console_log &&
          std::find(in->found.begin(), in->found.end(), results::files::kPhases) != in->found.end()) {
        in->capture.phases_json.reset();
        std::erase(in->found, std::string(results::files::kPhases));
      }
    }
  }
  std::vector<CaptureInput> inputs;
  for (auto& in : found) {
    if (!in.found.empty())
      util::log_info("{}: using {} from {} ({} name other files)", in.capture.label,
                     fmt::format("{}", fmt::join(in.found, ", ")), in.found_in.string(),
                     "--phases/--nmap-xml/--nmap-log LABEL=FILE");
    inputs.push_back(std::move(in.capture));
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
  if (!kf) {  // said as for the experiment file's analysis.key_fields (one spelling, one message)
    std::string why = kf.error().message;
    std::istringstream words(a.key_fields);
    for (std::string w; std::getline(words, w, ',');) {
      w.erase(0, w.find_first_not_of(' '));
      w.erase(w.find_last_not_of(' ') + 1);
      if (!w.empty() && !analysis::parse_key_fields(w)) {
        why = config::key_field_problem(w);
        break;
      }
    }
    util::log_error("--key-fields: {}", why);
    return kExitBadInput;
  }
  opts.key_fields = *kf;
  for (auto [s, opt, rule] : {std::tuple{&a.tcp_rule, "--tcp-similarity", &opts.similarity.tcp},
                              std::tuple{&a.udp_rule, "--udp-similarity", &opts.similarity.udp},
                              std::tuple{&a.icmp_rule, "--icmp-similarity", &opts.similarity.icmp},
                              std::tuple{&a.other_rule, "--other-similarity", &opts.similarity.other}})
    if (auto st = parse_rule(*s, opt, rule); !st) { util::log_error("{}", st.error().message); return kExitBadInput; }
  opts.similarity.same_dst = a.same_dst;
  opts.read.bpf = a.filter;
  for (auto [s, opt, bound] : {std::tuple{&a.from, "--from", &opts.read.from},
                               std::tuple{&a.to, "--to", &opts.read.to}}) {
    if (s->empty()) continue;
    auto b = analysis::parse_time_bound(*s);
    if (!b) { util::log_error("{}: {}", opt, b.error().message); return kExitBadInput; }
    *bound = *b;
  }
  if (opts.read.from && opts.read.to && opts.read.from->relative == opts.read.to->relative &&
      !(opts.read.from->seconds < opts.read.to->seconds)) {
    util::log_error("--from {} is not before --to {}: the window [from, to) would be empty", a.from, a.to);
    return kExitBadInput;
  }

  auto r = analysis::analyze(inputs, opts);
  if (!r) {
    util::log_error("{}", r.error().message);
    return kExitBadInput;
  }
  // Where each unique packet is (frame, time): one more read of each capture.
  std::vector<std::string> labels;
  for (const auto& c : r->captures) labels.push_back(c.input.label);
  const report::PacketPlaces places = report::locate_unique(*r, labels);
  if (!a.csv_dir.empty()) {
    if (auto st = report::write_capture_csv(*r, a.csv_dir, &places); !st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
  }
  // json_text: labels are file names, which need not be UTF-8 (nlohmann would throw).
  if (a.json)
    std::cout << report::json_text(report::capture_json(*r, a.unique_limit, &places)) << '\n';
  else std::cout << report::capture_markdown(*r, a.unique_limit, &places);
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
      "A run directory names its scanner kind (manifest.json); masscan and ZMap runs hold\n"
      "masscan.out/masscan.log and zmap.csv/zmap.log instead of nmap.xml/nmap.log.\n"
      "Example: testbed analyze --label 7.80=a.pcap --label 7.93=b.pcap --label 7.95=c.pcap\n"
      "Read filter and time window, applied to every capture before anything counts: --filter\n"
      "takes pcap-filter(7) syntax as tcpdump -r does; --from/--to keep from <= time < to (as\n"
      "editcap -A/-B), each as seconds after the capture's first packet (12.5), Unix time\n"
      "(@1765134000) or UTC (2026-12-07T19:00:00Z).\n"
      "A capture cut short in the middle of a packet is analysed up to the cut with a warning on\n"
      "stderr (exit 0, as the tables are complete for what the file holds); a corrupt record\n"
      "is an error.\n"
      "Formats and defaults: orchestrator/analysis/README.md.\n"
      "Exit codes: 0 tables printed (also for a capture cut short); 1 a CSV file could not be\n"
      "written; 2 bad input: no input, capture missing, unreadable or corrupt, a filter pcap\n"
      "cannot compile (its message), a bad time, a window that holds no IP packet.");
  sub->add_option("inputs", args->positional, "Capture files (pcap/pcapng) or run directories");
  sub->add_option("--label", args->labels, "LABEL=PCAP_OR_RUN_DIR: a capture with its column label (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--phases", args->phases, "LABEL=phases.json: phase timeline of that capture (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--nmap-xml", args->xmls,
                  "LABEL=FILE: the result file of that capture (Nmap -oX: its elapsed time becomes "
                  "the duration; masscan -oX/-oL, ZMap CSV with --scanner-kind)")
      ->allow_extra_args(false);
  sub->add_option("--nmap-log", args->logs,
                  "LABEL=FILE: \"<epoch> <line>\" console log (Nmap -v, masscan, ZMap), turned into a "
                  "timeline when no phases.json")
      ->allow_extra_args(false);
  sub->add_option("--scanner-kind", args->scanner_kind,
                  "nmap, masscan or zmap: how every input's console log, result file and packet "
                  "shapes are read (default: what each run directory records, else nmap)")
      ->check(CLI::IsMember({"nmap", "masscan", "zmap"}));
  sub->add_option("--scanner-ip", args->scanner_ip,
                  "Scanner address (default: auto, the host sending to the most distinct destination ports)");
  sub->add_option("--key-fields", args->key_fields,
                  "Extra packet-key fields, comma-separated, named as in an experiment's "
                  "analysis.key_fields: ttl, ipid, window, tcp_options, icmp (tcp-options is "
                  "accepted too; default: the study's key only)");
  sub->add_option("--tcp-similarity", args->tcp_rule,
                  "TCP similarity rule MAX_LENGTH_DIFF,MIN_COMMON_BLOCK or off (default 32,16)");
  sub->add_option("--udp-similarity", args->udp_rule, "UDP similarity rule (default 32,16)");
  sub->add_option("--icmp-similarity", args->icmp_rule, "ICMP similarity rule (default 16,8)");
  sub->add_option("--other-similarity", args->other_rule, "Similarity rule for other protocols (default off)");
  sub->add_flag("--similar-same-dst", args->same_dst,
                "Similar packets must also have the same destination address (the study did not require it)");
  // The read filter and the time window (analysis/capture_file.h).
  for (auto [name, field, help] : {
           std::tuple{"--filter", &AnalyzeArgs::filter,
                      "Read filter in pcap-filter(7) syntax (e.g. \"tcp port 80\"): only the packets it "
                      "matches are analysed (a bad one: exit 2 with libpcap's message)"},
           std::tuple{"--from", &AnalyzeArgs::from,
                      "Analyse packets from this time on: seconds after the first packet, "
                      "@UNIX_TIME or YYYY-MM-DDTHH:MM:SSZ (inclusive)"},
           std::tuple{"--to", &AnalyzeArgs::to,
                      "Analyse packets before this time (same forms as --from; exclusive)"}})
    sub->add_option(name, (*args).*field, help);
  sub->add_flag("--json", args->json, "Print everything as JSON instead of Markdown");
  sub->add_option("--csv", args->csv_dir, "Also write table1/table2/port_usage/unique_packets/phases CSV files here");
  add_unique_limit_option(*sub, args->unique_limit,
                          "Unique packets listed per phase and capture in Markdown and JSON");
  sub->callback([args, &ctx] { ctx.exit_code = run_analyze(*args); });
}

}  // namespace testbed::cli
