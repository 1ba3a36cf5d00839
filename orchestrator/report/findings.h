#pragma once
// "What differs": the version-unique packets of the study's columns (Table 2 by fine phase)
// grouped into findings — same phase, protocol, payload class, and the set of versions whose
// unique packets go to a destination port — each said in one sentence with the versions it
// separates, its packet counts and whether it stands above run-to-run noise. Generated from
// the data; the report leads with it (every format).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "orchestrator/analysis/analyze.h"
#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/report/packet_places.h"

namespace testbed::report {

struct Finding {
  std::string phase;                  ///< fine phase name ("port-scan")
  std::string proto;                  ///< "TCP", "UDP", "ICMP", …
  std::string payload_class;          ///< payload_class(): "SYN", "TLS ClientHello", "payload", …
  std::vector<std::string> versions;  ///< the versions whose unique packets these are
  std::vector<uint16_t> ports;        ///< their destination ports (TCP/UDP), ascending
  /// The other versions, when they send the same kind of packet to other ports in the phase
  /// ("7.95 and 7.991 … 5985/5986 where 7.80 and 7.93 … 3007/3013"); empty otherwise.
  std::vector<std::string> other_versions;
  std::vector<uint16_t> other_ports;
  std::map<std::string, size_t> packets;  ///< unique packets per version (both sides)
  size_t total = 0;
  /// Noise: known when every version involved has >= 2 analysed runs. A packet is noise when
  /// some run of a version on its side lacks it or a run of a version not on its side has it.
  bool noise_known = false;
  size_t noisy = 0;
  size_t noise_floor = 0;  ///< the phase's noise floor (max over the versions involved)
  std::string sentence;    ///< plain text, one sentence
  std::string anchor;      ///< HTML id of the packet list of versions[0] in this phase
};

/// The HTML id of the unique-packet list of study column `version_index` in fine phase `phase`.
std::string unique_anchor(const std::string& phase, size_t version_index);

/// Findings, biggest first (packets, then phase order). `versions`: the study's columns;
/// `runs`: every analysed run's fine-phase sets (noise); `noise`: the fine noise floor.
std::vector<Finding> find_differences(const analysis::AnalysisResult& study,
                                      const std::vector<std::string>& versions,
                                      const PacketPlaces& places,
                                      const std::vector<analysis::RunPhaseSets>& runs,
                                      const analysis::NoiseFloor& noise);

}  // namespace testbed::report
