#pragma once
// The records of a results directory (docs/results.md), typed, each written and read here
// only: a run's manifest.json (provenance and counters of a complete run), its failure.json,
// and the results directory's plan.json.
//
// Schema versioning: manifest.json carries `schema_version` (kManifestSchema). A manifest
// without it is of the format before versioning (0) and is read; one of a newer version is
// refused with a message naming both versions. Adding an optional field keeps the version;
// renaming, removing or changing the meaning or type of a field increments it.
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::results {

/// The manifest schema this testbed writes and the newest it reads.
inline constexpr int kManifestSchema = 1;

struct RunIdentity {
  std::string label;   ///< scanner label, e.g. "7.80"
  std::string image;   ///< scanner image
  int repetition = 0;  ///< 1-based
};

struct ExperimentRef {
  std::string name, file, sha256;  ///< the experiment file as given and its bytes' SHA-256
};

struct TestbedRef {
  std::string version, git_revision;
};

/// The lab the run ran in. `details` holds the backend's own provenance (uri, libvirt and
/// QEMU versions, image.<node> keys, topology_sha256, …; lab::Lab::provenance).
struct LabInfo {
  std::string name;
  std::string backend;          ///< "lxc" | "vm"; "" in manifests that do not say
  std::string accel;            ///< vm: "kvm" | "tcg"
  std::string scanner_address;  ///< the scanner node's address on the scan network
  std::string host;             ///< libvirt URI of the lab host (runs across several hosts)
  nlohmann::json details = nlohmann::json::object();
};

/// A lab's provenance object (typed keys taken out, the rest kept as details).
LabInfo lab_info(const nlohmann::json& provenance);

struct ScanRecord {
  double started = 0, finished = 0;  ///< epoch seconds (this host's clock)
  int exit_status = 0;
  uint64_t output_lines = 0;
  /// When testbed woke a lingering scanner with a frame only it sees (epoch seconds; empty
  /// for a scanner that exited by itself). JSON `scan.wake_frames`, absent when empty.
  std::vector<double> wake_frames;
  double seconds() const { return finished > started ? finished - started : 0; }
};

struct CaptureRecord {
  std::optional<std::string> interface;  ///< capture interface (the router's lab side)
  std::optional<std::string> on_host;    ///< "local" or the lab host's name
  std::optional<int64_t> snaplen;
  std::optional<uint64_t> buffer_bytes;
  uint64_t packets = 0, bytes = 0;
  uint64_t kernel_dropped = 0, interface_dropped = 0;
  uint64_t dropped() const { return kernel_dropped + interface_dropped; }
};

/// An earlier attempt of a run that the experiment's retry policy (`retries:`) discarded:
/// the scanner died of a signal (a scanner bug, e.g. ZMap 2.1.1's constraint assertion),
/// so the run was done again. JSON `retries`, absent when the first attempt completed.
struct RetryRecord {
  int attempt = 1;     ///< the discarded attempt (1-based)
  std::string stage;   ///< the runner stage it failed at, e.g. "scan"
  std::string reason;  ///< e.g. "zmap killed by signal 6 (SIGABRT)"
  double at = 0;       ///< epoch seconds it failed
};

/// A complete run's manifest.json.
struct Manifest {
  int schema_version = kManifestSchema;  ///< 0: written before versioning
  std::string status = "complete";
  RunIdentity run;
  ExperimentRef experiment;
  TestbedRef testbed;
  std::string host_kernel;  ///< "host": {"kernel"}
  std::string command_line;
  LabInfo lab;
  /// Node name -> the manifest of the image it ran (images/README.md), or {"error": …}.
  nlohmann::json images = nlohmann::json::object();
  /// The scanner kind that made the run ("nmap", "masscan", "zmap"; scanners/registry.h).
  /// Empty in manifests from before scanner kinds: those runs are Nmap's.
  std::string scanner_kind;
  std::string scanner_version;  ///< `<scanner> --version` output
  std::vector<std::string> scanner_command;
  std::optional<double> scan_line_latency_s;  ///< null: could not be measured
  std::optional<ScanRecord> scan;
  std::optional<CaptureRecord> capture;
  std::optional<double> wall_seconds;
  /// Attempts discarded by the retry policy before this one completed (oldest first).
  std::vector<RetryRecord> retries;
  /// The live IDS sensor's record when the experiment ran one (`ids: {enabled: true}`):
  /// Suricata version, image, rule files and their SHA-256, packets, drops, alerts
  /// (ids::sensor_manifest). Null when no sensor ran.
  nlohmann::json ids;
  /// How each node reset for this run was done, node name -> {"method": "snapshot" |
  /// "boot", "image", "seconds", and for snapshots the state's "state_sha256",
  /// "state_taken", the guest clock's "clock_offset_ms" before/after and "reseeded"; a
  /// "fallback" reason when a snapshot reset booted instead}. Empty when no node was
  /// reset (manifests from before snapshot resets too).
  nlohmann::json resets = nlohmann::json::object();
  /// Top-level keys this testbed does not know (written by another tool or a newer minor
  /// addition): kept and written back unchanged.
  nlohmann::json extra = nlohmann::json::object();

  /// Counters, 0 when the manifest has no capture.
  uint64_t packets() const { return capture ? capture->packets : 0; }
  uint64_t kernel_dropped() const { return capture ? capture->kernel_dropped : 0; }
  uint64_t interface_dropped() const { return capture ? capture->interface_dropped : 0; }
  uint64_t dropped() const { return capture ? capture->dropped() : 0; }
};

nlohmann::json to_json(const Manifest& m);
nlohmann::json to_json(const CaptureRecord& c);
/// `name` names the file in messages ("<name>: capture.packets: expected …").
util::Result<Manifest> manifest_from_json(const nlohmann::json& j, const std::string& name);
util::Result<Manifest> read_manifest(const std::filesystem::path& file);
/// Writes <run_dir>/manifest.json atomically, schema_version set to kManifestSchema.
util::Status write_manifest(const std::filesystem::path& run_dir, const Manifest& m);

/// failure.json: why a run did not complete.
struct Failure {
  std::string status = "failed";  ///< "failed" | "interrupted"
  std::string stage;              ///< the runner's stage, e.g. "scan", "fetch-xml"
  std::string error;
};
util::Status write_failure(const std::filesystem::path& run_dir, const Failure& f);
/// Fails when the file is not a JSON object; missing keys keep their defaults.
util::Result<Failure> read_failure(const std::filesystem::path& file);

/// plan.json: what the results directory is meant to hold.
struct PlannedScanner {
  std::string label, image;
  std::string kind;  ///< "scanner_kind"; empty in plans from before scanner kinds (Nmap)
};
struct Plan {
  std::string experiment;
  int repetitions = 1;
  std::vector<PlannedScanner> scanners;
};
util::Status write_plan(const std::filesystem::path& results_dir, const Plan& p);
/// Fails when the file is not valid JSON; keys of the wrong type are ignored.
util::Result<Plan> read_plan(const std::filesystem::path& file);

/// Reads a JSON file ("<file> is not valid JSON" on a syntax error).
util::Result<nlohmann::json> read_json_file(const std::filesystem::path& file);

}  // namespace testbed::results
