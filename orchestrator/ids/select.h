#pragma once
// Which packets get a rule: per version, the packets every training run of that version sent
// (so one run's own noise — a random port, a token — gets none: the noise floor) that no run
// of any other version sent, exactly or as a variant (the study's similarity exclusion,
// analysis/unique.h). Phase is where the packet was sent; any phase of another version
// counts against it, because an IDS rule does not know phases.
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/analysis/noise_floor.h"
#include "orchestrator/analysis/unique.h"

namespace testbed::ids {

struct UniquePacket {
  std::string version;
  std::string phase;        ///< row name of RunPhaseSets (fine phase)
  analysis::PacketKey key;
  /// Payload hashes of other versions' packets with the same protocol, port and flags (at
  /// most kMaxRivals): what the rule's content must not match.
  std::vector<uint64_t> rivals;
  /// Payload hashes of the version's other training runs' packets with the same protocol,
  /// port and flags (at most kMaxRivals): its own variants are among them.
  std::vector<uint64_t> kin;
};

inline constexpr size_t kMaxRivals = 64;
inline constexpr size_t kMaxContent = 64;  ///< bytes of payload a rule's content holds

/// The distinguishing bytes of `payload`: [offset, offset+length) starting at the first byte
/// where it differs from the rival that shares its longest prefix (0 without rivals), at most
/// kMaxContent bytes; a payload that is a rival's prefix gives its last kMaxContent bytes.
std::pair<size_t, size_t> distinguishing_window(const std::string& payload,
                                                const std::vector<const std::string*>& rivals);

/// The bytes of a payload a rule matches: distinguishing_window() when the version's other
/// runs (`kin`) sent those bytes at that offset too (anchored: offset/depth); else, when a
/// run-to-run variable element (a random token) falls into it, the longest stretch (8 to
/// kMaxContent bytes) the payload shares with every kin payload and no rival has, matched
/// anywhere (unanchored); else the distinguishing window all the same.
struct ContentWindow {
  size_t offset = 0, length = 0;
  bool anchored = true;
};
ContentWindow content_window(const std::string& payload,
                             const std::vector<const std::string*>& rivals,
                             const std::vector<const std::string*>& kin);

/// The unique packets of every version among `training` (fine-phase rows, phase_rows(false)):
/// sent by the version's first training run and, exactly or as a variant, by each of its
/// others;
/// version order = first seen, then phase order, then key order (analysis::key order of
/// compute_unique_sets). A key is listed once per version (its first phase).
std::vector<UniquePacket> select_unique(const std::vector<const analysis::RunPhaseSets*>& training,
                                        const analysis::PayloadStore& payloads,
                                        const analysis::SimilarityOptions& opts);

}  // namespace testbed::ids
