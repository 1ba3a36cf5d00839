#pragma once
// Running Suricata offline: the one from the sensor image (images/sensor-suricata.yaml,
// Debian trixie's Suricata 7) wherever testbed runs, not the host's (bookworm has 6.0). The
// cached image's root is not entered (no chroot, no root needed): its binary is started by
// its own dynamic loader with its own libraries, so the rules, captures and logs are plain
// host paths. `suricata -T` checks rules; `suricata -r` replays a capture into EVE JSON.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::ids {

/// The sensor image's name in the image cache.
inline constexpr const char* kSensorImage = "sensor-suricata";

struct Suricata {
  std::filesystem::path root;      ///< the image's root file system
  std::string image_key;           ///< cache key of that build
  std::vector<std::string> argv0;  ///< loader, --library-path …, the binary
  std::string version;             ///< "7.0.10" (from `suricata -V`)
};

/// The Suricata of the cached sensor image (images/cache.h find_image); an error says how to
/// build it (`testbed image build sensor-suricata`) or why it does not start.
util::Result<Suricata> find_suricata(
    const std::filesystem::path& cache_root = std::filesystem::path());

/// One rule Suricata refused.
struct RuleError {
  size_t line = 0;      ///< 1-based line in the rules file
  std::string rule;     ///< the rule text
  std::string message;  ///< Suricata's own message(s)
};

struct RuleCheck {
  size_t loaded = 0;  ///< rules Suricata loaded
  std::vector<RuleError> errors;
};

/// `suricata -T` on `rules` (one rule per line) in `workdir`: which rules Suricata rejects
/// and why. Fails when Suricata cannot run or its output cannot be read.
util::Result<RuleCheck> check_rules(const Suricata& s, const std::vector<std::string>& rules,
                                    const std::filesystem::path& workdir);

struct Replay {
  std::map<uint32_t, uint64_t> alerts;  ///< sid -> alerts
  uint64_t packets = 0;                 ///< packets Suricata decoded
  std::filesystem::path eve;            ///< its eve.json
};

/// `suricata -r pcap -S rules -k none` (offline, checksums not checked) with EVE JSON alerts
/// into `workdir`, then the alerts counted by sid.
util::Result<Replay> replay(const Suricata& s, const std::filesystem::path& rules,
                            const std::filesystem::path& pcap, const std::filesystem::path& workdir);

/// Alerts by sid in an EVE JSON file (event_type "alert"; other lines skipped). Also used for
/// the sensor's live eve.json.
util::Result<std::map<uint32_t, uint64_t>> count_alerts(const std::filesystem::path& eve);

/// The minimal suricata.yaml testbed runs with: EVE JSON (alert, stats every second) into
/// `log_dir`, the image's classification and reference files, and `rule_files` (names in
/// `log_dir`) when given (else rules come from -S).
std::string suricata_config(const Suricata& s, const std::filesystem::path& log_dir,
                            const std::vector<std::string>& rule_files = {});

}  // namespace testbed::ids
