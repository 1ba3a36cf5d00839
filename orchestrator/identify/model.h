#pragma once
// The model `testbed fingerprint` learns and `testbed identify` uses: one classifier over
// scanner kinds, and per kind one over its versions. A classifier keeps, per label (kind or
// version), how many training runs it has and, per trait, in how many of them the trait
// showed; only traits present in every run of at least one label are kept. Labels no trait
// separates (none present in every run of one and in no run of the other, leaving out
// traits that vary run to run) form a group. Payload traits (drawn by services) also keep
// their contexts: the service ports where each label sent the family.
// Stored as JSON (format "testbed-identify-model", schema_version kModelSchema; a model of
// a newer schema is refused). The shipped model: default_model() (default-model.json).
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/identify/traits.h"
#include "orchestrator/util/result.h"

namespace testbed::identify {

inline constexpr int kModelSchema = 1;
inline constexpr const char* kModelFormat = "testbed-identify-model";

struct Group {
  std::vector<std::string> labels;
  std::string why;
};

/// Labels (in release order) and their traits.
struct Classifier {
  std::vector<std::string> labels;
  std::vector<int> runs;                             ///< training runs per label
  std::vector<std::string> keys;                     ///< trait keys (traits.h)
  std::vector<std::vector<int>> runs_with;           ///< [trait][label] runs that had it
  /// [trait] the service ports a payload trait was sent to in training (empty for probes).
  std::vector<std::vector<uint16_t>> trait_ports;
  /// Families in which every run of a label shows exactly the same traits, per label.
  std::map<std::string, std::vector<std::string>> deterministic;
  /// Families each label showed in some training run (any trait, kept or not).
  std::map<std::string, std::vector<std::string>> families_seen;
  std::vector<Group> groups;                         ///< only groups of two or more
  /// Service contexts: payload family -> service port -> per label, the training runs in
  /// which the label sent a trait of that family to that port.
  std::map<std::string, std::map<uint16_t, std::vector<int>>> contexts;

  int label_index(std::string_view label) const;
  bool stable(size_t trait, size_t label) const { return runs_with[trait][label] == runs[label]; }
  /// Run-to-run variation: the trait came and went between the runs of some label (shown
  /// in some of its runs, not all). Neither its presence nor its absence is evidence.
  bool noisy(size_t trait) const;
  /// Whether the label sent payload (of any family) to one of `ports` in every training run:
  /// it was offered that service, so only there does a payload trait speak about it
  /// (match.h).
  bool served(const std::vector<uint16_t>& ports, size_t label) const;
  /// The group that holds `label` (itself alone when it is in none).
  std::vector<std::string> group_of(const std::string& label) const;
};

struct Provenance {
  std::vector<std::string> results_dirs;
  std::string created;                      ///< UTC time the model was made
  std::string testbed_version;              ///< the testbed that made the model
  std::vector<std::string> runs_revisions;  ///< testbed git revisions that made the runs
  std::vector<std::string> runs;            ///< "<label>/<rep>" of every training run, per dir
};

struct Model {
  int schema_version = kModelSchema;
  Provenance provenance;
  Classifier kinds;                           ///< labels = scanner kinds
  std::map<std::string, Classifier> versions; ///< kind -> labels = its versions
};

/// One training run: its scanner kind, version label and traits.
struct LabelledRun {
  std::string kind, version, name, dir;
  CaptureTraits traits;
};

/// Which families a model learns (the SYN-fingerprint baseline keeps only "syn").
using FamilyFilter = std::function<bool(std::string_view family)>;

/// Learns a model from labelled runs (every kind with at least one run).
Model train(const std::vector<const LabelledRun*>& runs, const FamilyFilter& keep = {});

/// Release order of labels: numeric components compared as numbers ("7.95" < "7.991").
bool release_less(const std::string& a, const std::string& b);

nlohmann::json model_json(const Model& m);
/// Parses a model; `source` names it in messages. Refuses another format and newer schemas.
util::Result<Model> model_from_json(const nlohmann::json& j, const std::string& source);
util::Result<Model> load_model(const std::filesystem::path& file);
util::Status save_model(const Model& m, const std::filesystem::path& file);
/// The model shipped in the repository (orchestrator/identify/default-model.json, compiled in).
util::Result<Model> default_model();

}  // namespace testbed::identify
