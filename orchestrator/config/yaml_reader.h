#pragma once
// Shared machinery for every declarative file (experiments, topologies, image recipes):
// load YAML with syntax errors located, read typed fields, refuse unknown keys with the
// nearest known key suggested, and collect every problem (not just the first) as
// "file:line:col: message" lines.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "orchestrator/util/result.h"

namespace testbed::config {

/// Problems found while reading one or more files. Each is "file:line:col: message".
class Diagnostics {
 public:
  void error(const std::string& file, const YAML::Mark& mark, const std::string& msg);
  void error_plain(const std::string& msg) { errors_.push_back(msg); }
  bool empty() const { return errors_.empty(); }
  const std::vector<std::string>& errors() const { return errors_; }
  /// All problems as one Error (one per line), or success when there are none.
  util::Status status() const;

 private:
  std::vector<std::string> errors_;
};

/// "file:line:col" (1-based) for a node's position.
std::string where(const std::string& file, const YAML::Mark& mark);

/// Loads a YAML file. A syntax error becomes "file:line:col: <yaml-cpp's message>".
util::Result<YAML::Node> load_yaml_file(const std::string& path);
/// Same for YAML text (name is used in messages).
util::Result<YAML::Node> load_yaml_string(const std::string& text, const std::string& name);

/// Edit distance (Levenshtein plus a swap of two neighbours as one edit), for "did you
/// mean" suggestions.
size_t edit_distance(const std::string& a, const std::string& b);
/// The candidate nearest to `word` if it is plausibly a typo of it, else "".
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

/// Reads one YAML mapping. Every get*() records the key as known; finish() reports
/// unknown keys. Type errors and missing required keys are recorded in Diagnostics
/// and the output is left unchanged, so reading continues and all problems surface.
class MapReader {
 public:
  /// `what` names the thing for messages, e.g. "experiment" or "node 'router'".
  MapReader(const YAML::Node& node, std::string file, std::string what, Diagnostics* diag);

  bool valid() const { return valid_; }
  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  Diagnostics* diag() const { return diag_; }

  bool has(const std::string& key) const;
  /// The raw child node (records the key as known). An Undefined node (false in a
  /// boolean context) if absent.
  YAML::Node child(const std::string& key);

  // Scalars. Return true when the key was present and well-typed.
  bool get(const std::string& key, std::string* out, bool required = false);
  bool get(const std::string& key, int* out, bool required = false);
  bool get(const std::string& key, unsigned* out, bool required = false);
  bool get(const std::string& key, double* out, bool required = false);
  bool get(const std::string& key, bool* out, bool required = false);
  /// A list of scalars; a single value is refused (with the list it probably meant).
  bool get(const std::string& key, std::vector<std::string>* out, bool required = false);
  bool get(const std::string& key, std::map<std::string, std::string>* out, bool required = false);
  /// A string that must be one of `allowed`.
  bool get_enum(const std::string& key, std::string* out, const std::vector<std::string>& allowed,
                bool required = false);

  /// "file:line:col" of `key`'s value, of its item `index` when it is a list that long, or
  /// of the map when the key is absent. Never throws, whatever the shapes: loaders ask this
  /// instead of subscripting YAML nodes (yaml-cpp throws on a scalar's operator[]).
  std::string where_of(const std::string& key, size_t index = std::string::npos) const;

  /// Records a problem located at `key`'s value (its item `index` when given), or at the
  /// map when absent (where_of).
  void error_at(const std::string& key, const std::string& msg,
                size_t index = std::string::npos);
  /// Records a problem located at an arbitrary node of this file.
  void error_node(const YAML::Node& n, const std::string& msg);

  /// Reports every key not read through this reader, suggesting the nearest known key.
  void finish();

 private:
  template <typename T>
  bool get_scalar(const std::string& key, T* out, bool required, const char* type_name);
  YAML::Node node_;
  std::string file_;
  std::string what_;
  Diagnostics* diag_;
  std::vector<std::string> known_;
  bool valid_ = true;
};

/// The message of an exception that escaped a loader (guard_loader).
util::Error escaped_exception(const std::string& file, const std::exception& e);

/// Runs a loader's body so that nothing it throws ends the process. Loaders read nodes
/// through MapReader/for_each_item, which check every shape, so this should never fire;
/// when it does, the message is located (the node yaml-cpp names, else the file's start)
/// and says "internal error" (the type-confusion test counts those as aborts).
template <typename T, typename Body>
util::Result<T> guard_loader(const std::string& file, Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return escaped_exception(file, e);
  }
}

/// Iterates a sequence at `node`, calling fn(element, index). Records an error if
/// `node` is present but not a sequence.
void for_each_item(const YAML::Node& node, const std::string& file, const std::string& what,
                   Diagnostics* diag, const std::function<void(const YAML::Node&, size_t)>& fn);

}  // namespace testbed::config
