#pragma once
// `testbed signatures`: Suricata rules for the packets unique to each version of a results
// directory (select.h), one rule per packet (rule.h), every rule checked by Suricata itself
// (suricata.h); rules Suricata rejects are reported, not written.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/ids/rule.h"
#include "orchestrator/ids/suricata.h"
#include "orchestrator/report/results.h"
#include "orchestrator/util/result.h"

namespace testbed::ids {

/// First sid of a generated set (Suricata's range for local rules starts at 1,000,000).
inline constexpr uint32_t kSidBase = 1000000;

/// Rules for the unique packets of the runs `training` (indexes into data.runs; empty = all).
/// Each packet's rule points at its first frame in the first training run of its version.
/// Identical rule bodies are written once. Fails when the training runs hold fewer than two
/// versions or a capture cannot be read again.
util::Result<std::vector<RuleSpec>> generate_rules(const report::AnalysedResults& data,
                                                   const std::vector<size_t>& training = {});

/// Runs a version needs before its rules tell a version trait from run-to-run noise: a rule
/// needs its packet in every run of the version, which one run (or two) cannot show.
inline constexpr size_t kMinRunsForRules = 3;

/// How well the rules rest on repetitions: the analysed runs per version (plan order), the
/// versions with fewer than kMinRunsForRules, and how many of `rules` come from a version
/// with one run only.
struct RunSupport {
  std::vector<std::pair<std::string, size_t>> runs_per_version;
  std::vector<std::string> few_runs;  ///< versions with fewer than kMinRunsForRules runs
  size_t one_run_rules = 0;
  /// One warning line per version with few runs and one for the one-run rules; empty when
  /// every version has enough.
  std::vector<std::string> warnings(size_t total_rules) const;
};
RunSupport run_support(const report::AnalysedResults& data, const std::vector<RuleSpec>& rules);

struct CheckedRules {
  std::vector<RuleSpec> accepted;
  std::vector<RuleError> rejected;
  std::string suricata_version;
};

/// Splits `rules` into those `suricata -T` accepts and those it rejects (with its message),
/// checking in `workdir`.
util::Result<CheckedRules> check_generated(const Suricata& s, std::vector<RuleSpec> rules,
                                           const std::filesystem::path& workdir);

/// The rules file: a header (results directory, Suricata version, counts), then one line
/// per accepted rule.
std::string rules_file(const CheckedRules& c, const std::string& source);

/// The packet key as text for a rule's metadata: proto/src/dst/port/flags/length/hash.
std::string key_text(const analysis::PacketKey& k);

}  // namespace testbed::ids
