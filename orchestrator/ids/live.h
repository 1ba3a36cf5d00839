#pragma once
// The live sensor: the sensor image's Suricata in IDS mode on the router's scan-side host
// device (the device testbed already captures on), for one run. It only listens (libpcap,
// `--pcap=DEV`): no address, no route, no change to the lab, so containment is unchanged.
// Rules: testbed's (a rules file given by the experiment, `ids: {rules: FILE}`, e.g. from
// `testbed signatures` of an earlier run) plus Suricata's own decoder and stream event
// rules from the image. Output in the run directory's ids/: eve.json (alerts, stats),
// suricata.log, the rule files it loaded; the manifest gets sensor_manifest().
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "orchestrator/ids/suricata.h"
#include "orchestrator/util/result.h"

namespace testbed::ids {

/// The image's own event rules the sensor always loads (those present in the image).
std::vector<std::filesystem::path> suricata_event_rules(const Suricata& s);

/// What the sensor saw, from its last EVE stats record.
struct SensorStats {
  uint64_t packets = 0;       ///< Suricata's final device count (else capture.kernel_packets)
  uint64_t kernel_drops = 0;  ///< capture.kernel_drops (0 or reported)
  uint64_t ifdrops = 0;       ///< capture.kernel_ifdrops
  uint64_t alerts = 0;        ///< alert records in eve.json
};

class LiveSensor {
 public:
  /// Starts Suricata on `device` writing into `dir` (created) with `rules` (copied into
  /// `dir` first) and the event rules, and returns once its engine runs. Fails with
  /// Suricata's log tail when it exits or does not start within a minute.
  static util::Result<std::unique_ptr<LiveSensor>> start(const Suricata& s,
                                                         const std::string& device,
                                                         const std::filesystem::path& dir,
                                                         const std::vector<std::filesystem::path>& rules);
  LiveSensor(const LiveSensor&) = delete;
  LiveSensor& operator=(const LiveSensor&) = delete;
  ~LiveSensor();  ///< stops it if stop() was not called
  /// SIGTERM (SIGKILL after 30 s), then its stats: the run's manifest "ids" object.
  util::Result<nlohmann::json> stop();

 private:
  LiveSensor() = default;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
  std::string device_;
  Suricata suricata_;
  std::vector<std::string> rule_files_;  ///< as loaded (names inside dir_)
};

/// The manifest's "ids" object (the one writer): Suricata version and image, device, rule
/// files with their SHA-256, the stats.
nlohmann::json sensor_manifest(const Suricata& s, const std::string& device,
                               const std::filesystem::path& dir,
                               const std::vector<std::string>& rule_files, const SensorStats& st);

/// The reader: sensor drops from a run manifest's `ids` record (results::Manifest::ids;
/// nullopt when the run had no sensor).
std::optional<uint64_t> manifest_sensor_drops(const nlohmann::json& ids);

/// Reads the stats and counts alerts of a sensor's eve.json.
util::Result<SensorStats> sensor_stats(const std::filesystem::path& eve);

}  // namespace testbed::ids
