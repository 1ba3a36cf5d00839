#pragma once
// An experiment file (experiments/*.yaml): which lab, which scanners, which command,
// how many repetitions, capture and analysis settings. See experiments/nmap7.yaml.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/config/backend.h"
#include "orchestrator/util/result.h"

namespace testbed::config {

struct ScannerSpec {
  std::string label;  ///< how the version is named in tables, e.g. "7.80"
  std::string image;  ///< image recipe name, e.g. "scanner-nmap-7.80"
  /// This scanner's argv template: its own `command:` (an experiment across tools: nmap,
  /// masscan, zmap), else the experiment's. Its first argument names the scanner kind.
  std::vector<std::string> command;
  std::vector<std::string> command_where;  ///< file:line:col of each argument
};

struct CaptureSettings {
  int snaplen = 262144;
  int buffer_mib = 64;
  double grace_seconds = 2.0;
};

/// Per-protocol similarity-exclusion thresholds (docs/method.md step 4). Unset = module default.
struct SimilarityOverride {
  std::optional<int> max_length_diff;
  std::optional<int> min_common_block;
};

struct AnalysisSettings {
  std::vector<std::string> key_fields;                     ///< extra key fields
  std::map<std::string, SimilarityOverride> similarity;    ///< by protocol: tcp, udp, icmp, ...
  std::optional<std::string> scanner_ip;                   ///< default: the lab's scanner address
};

/// `ids:` — an IDS sensor per run (Suricata live on the router's scan-side device, EVE JSON in
/// the run's ids/) and the report's "Can an IDS tell them apart?" section (orchestrator/ids/):
/// rules from the version-unique packets replayed by the sensor image's Suricata. Off by
/// default.
struct IdsSettings {
  bool enabled = false;
  /// Rules the live sensor loads beside Suricata's event rules (relative to the experiment
  /// file), e.g. `testbed signatures` of an earlier results directory.
  std::optional<std::filesystem::path> rules;
};

struct Experiment {
  std::string file;                 ///< path as given
  std::string sha256;               ///< hash of the file's bytes (provenance)
  std::string name;
  std::string description;
  std::filesystem::path topology;   ///< resolved relative to the experiment file
  BackendKind backend = BackendKind::kLxc;  ///< `lxc` | `vm` (`kvm` in a file is read as vm)
  /// vm only: auto (KVM where /dev/kvm is usable, else QEMU's TCG emulator) | kvm | tcg.
  std::string accel = "auto";
  /// How nodes are reset between runs (lab/lab.h LabOptions::reset): snapshot | boot; empty
  /// (not given): snapshot on VM labs of this host, boot otherwise (LXC nodes reset with a
  /// fresh overlay either way).
  std::string reset;
  /// vm only: saved states outlive the lab (lab/kept_states.h): the next run of this
  /// experiment restores its nodes instead of booting them, when nothing changed.
  bool keep_states = false;
  std::optional<std::string> uri;   ///< libvirt URI override (one host); see lab_uris()
  /// Several lab hosts: libvirt URIs of the backend's driver (qemu+ssh://HOST/system for
  /// kvm, lxc+ssh://HOST/ for lxc), each listed once; excludes `uri`. One lab per host,
  /// runs placed across them (virt/kvm_placement.h). Empty = one host.
  std::vector<std::string> hosts;
  /// Which image each lab node boots, overriding the topology's `image:`: node name ->
  /// image recipe name. A key may also name a `count:` group of the topology (`target` for
  /// target1..N); it is stored expanded to node names, so this is exactly what the runner
  /// passes as lab::LabOptions::images. Lets a KVM experiment use the topology written
  /// for LXC (kvm-router, ubuntu-target-… instead of router, target-…). The scanner node
  /// is refused here: its image comes from `scanners:`. Checked against the topology.
  std::map<std::string, std::string> node_images;
  /// Each image named by `scanners:` or `node_images:` -> file:line:col of its first
  /// mention, for messages about it (e.g. "no recipe", check_image_references).
  std::map<std::string, std::string> image_where;
  std::vector<ScannerSpec> scanners;
  /// argv template with {xml} / {output}, {targets} and the lab placeholders (expand_command);
  /// may be absent when every scanner has its own `command:`.
  std::vector<std::string> command;
  /// file:line:col of each command argument, for the scope guard's messages. The guard
  /// itself (scanners/registry.h) needs the topology, so `validate` and `run` call it.
  std::vector<std::string> command_where;
  std::vector<std::string> targets; ///< explicit targets; empty = the lab's target subnets
  int repetitions = 1;
  std::string reset_targets = "every-run";  ///< every-run | never
  int scan_timeout_minutes = 30;
  /// Times a run is done again when its scanner died of a signal (a scanner bug, e.g. ZMap
  /// 2.1.1's constraint assertion); each discarded attempt is recorded in the manifest.
  int retries = 1;
  CaptureSettings capture;
  AnalysisSettings analysis;
  IdsSettings ids;
  std::filesystem::path output;     ///< results root, resolved relative to the file
};

/// Loads and validates an experiment file; every problem as "file:line:col: message".
util::Result<Experiment> load_experiment(const std::string& path);
/// Same from the file's text; `path` names it in messages and is the base of the relative
/// `topology` and `output` paths (the topology file must exist there).
util::Result<Experiment> parse_experiment(const std::string& text, const std::string& path);

/// The `analysis:` section of an experiment file alone, with parse_experiment's rules and
/// messages (file:line:col); the rest of the file is not read (a results directory's copy of
/// the experiment, whose `topology:` need not resolve from there). Defaults when absent.
util::Result<AnalysisSettings> load_analysis_settings(const std::string& path);

/// The extra packet-key fields of `analysis: key_fields` and of `analyze --key-fields`, one
/// spelling for both (the file's): ttl, ipid, window, tcp_options, icmp.
const std::vector<std::string>& key_field_names();
/// "" when `word` is one of them, else what is wrong, with the nearest name suggested
/// (tcp-options -> tcp_options; `analyze --key-fields` still takes its older spelling).
std::string key_field_problem(const std::string& word);

/// The libvirt URI a backend uses when the experiment names none: lxc:///system, or
/// qemu:///system for vm.
std::string default_uri(BackendKind backend);

/// The lab hosts of an experiment, one URI each: `hosts`, else {`uri`}, else
/// {default_uri(backend)}. Never empty.
std::vector<std::string> lab_uris(const Experiment& exp);

/// The argv template `s` runs: its own command, else the experiment's.
inline const std::vector<std::string>& command_of(const Experiment& e, const ScannerSpec& s) {
  return s.command.empty() ? e.command : s.command;
}

/// The placeholders a command template may use, each as a whole argument or inside one
/// (`--router-mac={router_mac}`), except {targets}, which is a whole argument.
///   {output} (alias {xml}): the result file on the scanner node
///   {targets}: the targets, one argument each
///   {router_mac}: the router's MAC on the scan network (raw-frame scanners: masscan, ZMap)
///   {scan_interface}: the scanner node's scan-side interface
///   {source_ip}: the scanner node's address on the scan network
inline constexpr const char* kPlaceholders[] = {"output", "xml", "targets", "router_mac",
                                                "scan_interface", "source_ip"};

/// The placeholder names used in `arg` ("{a}{b}" -> a, b); unknown ones too.
std::vector<std::string> placeholders_in(const std::string& arg);

/// The scanner argv for one run: every placeholder substituted from `values` (name -> text;
/// "xml" and "output" are the same) and {targets} expanded to one argument per target.
/// Fails on an unknown placeholder or one without a value.
util::Result<std::vector<std::string>> expand_command(
    const std::vector<std::string>& templ, const std::map<std::string, std::string>& values,
    const std::vector<std::string>& targets);

}  // namespace testbed::config
