#pragma once
// Matching a capture's traits against a classifier (model.h). The answer is the set of
// labels consistent with the evidence present in the capture, never one guessed among them:
//  - a trait present in the capture rules out every label that never showed it in training
//    (when some label showed it in every run);
//  - a probe trait (traits.h family_is_probe) that a label showed in every run rules that
//    label out when absent while its family shows in the capture; payload traits are drawn
//    by services, so their absence rules nothing out;
//  - a payload trait (TLS hello, HTTP, other payloads) is weighed against a label only at
//    a service the label was offered in training (it sent payload to that port in every
//    run; Classifier::served) and only when the label has at least
//    kMinRunsForPayloadEvidence runs: against other services nobody knows what it sends,
//    and a single run cannot tell an exchange it always makes from one that varies;
//  - a payload trait a label sent in every run (two or more) to a service port is evidence
//    against it when missing although the capture shows its family at that port;
//  - a trait that came and went between the runs of one label (Classifier::noisy: run-to-
//    run variation such as a SACK-bearing ACK after a loss) rules nothing out, present or
//    absent.
// The labels with the fewest contradictions form the answer. It is unknown (with the
// nearest labels) when nothing fits (score below kMinScore), when the best still sends
// none of a trait present, misses a probe trait, or misses more SYN-probe ports than
// kAbsentTolerance allows, when
// the capture shows no trait the model knows, or when it shows a trait no known label
// sends in a family that every label showing it sends identically in each run (probe
// families, the TLS ClientHello, the HTTP User-Agent: the client's own choice) — for a
// payload trait only at a service a candidate was offered in training: a release the
// model has not seen.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/identify/model.h"
#include "orchestrator/identify/traits.h"

namespace testbed::identify {

inline constexpr double kMinScore = 0.8;
/// Missing SYN-probe ports tolerated in a named answer (lost packets), as a share of the
/// answer's checks; a present trait the answer never sent, or another missing probe trait,
/// is never tolerated.
inline constexpr double kAbsentTolerance = 0.01;
inline constexpr size_t kMinNovel = 1;
/// Training runs a label needs before a payload trait it never sent counts against it.
inline constexpr int kMinRunsForPayloadEvidence = 2;

struct Evidence {
  std::string trait;          ///< "family|token"
  uint64_t frame = 0, count = 0;  ///< first frame in the capture (0: absent)
  std::vector<std::string> labels;  ///< labels it speaks for (matched) or against (ruled out)
};

struct LabelScore {
  std::string label;
  size_t support = 0, contradictions = 0;
  size_t present_against = 0;  ///< of the contradictions: traits present it never sent
  double score = 0;
};

struct Answer {
  bool unknown = true;
  std::string reason;                  ///< why unknown, or how the set was reached
  std::vector<std::string> labels;     ///< the consistent set (release order); empty if unknown
  std::vector<std::string> nearest;    ///< when unknown: the best-fitting labels
  double score = 0;
  std::string display;                 ///< "7.95", "7.93–7.95 (7.93, 7.94, 7.95)", "unknown"
  std::vector<LabelScore> scores;      ///< every label, release order
  std::vector<Evidence> matched;       ///< traits present that set the answer apart (top first)
  std::vector<Evidence> ruled_out;     ///< present traits or missing probe traits against labels
  std::vector<Evidence> novel;         ///< present traits no known label sends (payload: labels = those it speaks about)
  /// Families of traits that would separate the answer's labels but are absent here.
  std::vector<std::string> absent_families;
};

/// `novelty`: whether unseen traits and any contradiction make the answer unknown (for versions; a kind's
/// new release still is that kind).
Answer match(const Classifier& c, const CaptureTraits& t, bool novelty = true);

/// The answer's labels as a person reads them: one label, a group named by the model, or a
/// release range "first–last" with the labels in it.
std::string describe(const Classifier& c, const std::vector<std::string>& labels);

nlohmann::json answer_json(const Answer& a);

}  // namespace testbed::identify
