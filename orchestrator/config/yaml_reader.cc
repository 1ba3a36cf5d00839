#include "orchestrator/config/yaml_reader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "orchestrator/config/yaml_syntax.h"

namespace testbed::config {

std::string where(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return fmt::format("{}:{}:{}", file, mark.line + 1, mark.column + 1);
}

void Diagnostics::error(const std::string& file, const YAML::Mark& mark, const std::string& msg) {
  errors_.push_back(fmt::format("{}: {}", where(file, mark), msg));
}

util::Status Diagnostics::status() const {
  if (errors_.empty()) return {};
  std::string all;
  for (const auto& e : errors_) {
    if (!all.empty()) all += '\n';
    all += e;
  }
  return util::Error{all};
}

namespace {

std::string located(const std::string& name, size_t line, size_t column) {
  YAML::Mark m;
  m.line = static_cast<int>(line);
  m.column = static_cast<int>(column);
  return where(name, m);
}

// yaml-cpp keeps the first of two equal keys and says nothing: every map, at any depth,
// is checked here once, so no loader has to.
void check_duplicate_keys(const YAML::Node& n, const std::string& file, Diagnostics* d,
                          int depth = 0) {
  if (depth > 100) return;  // nesting this deep is refused by the loaders anyway
  if (n.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : n) {
      if (kv.first.IsScalar()) {
        auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
        if (!fresh)
          d->error(file, kv.first.Mark(),
                   fmt::format("duplicate key '{}': it is also at {} (YAML would keep one of "
                               "them silently); remove one",
                               kv.first.Scalar(), where(file, it->second)));
      }
      check_duplicate_keys(kv.second, file, d, depth + 1);
    }
  } else if (n.IsSequence()) {
    for (const auto& e : n) check_duplicate_keys(e, file, d, depth + 1);
  }
}

}  // namespace

util::Result<YAML::Node> load_yaml_string(const std::string& text, const std::string& name) {
  YAML::Node n;
  try {
    n = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    if (!e.mark.is_null())
      if (auto p = locate_syntax_error(text, e.mark.line, e.mark.column, e.msg))
        return util::fail("{}: YAML syntax error: {}", located(name, p->line, p->column),
                          p->message);
    return util::fail("{}: YAML syntax error: {}", where(name, e.mark), e.msg);
  }
  if (auto q = unclosed_quote(text))
    return util::fail("{}: YAML syntax error: {}", located(name, q->line, q->column), q->message);
  if (!n || n.IsNull()) return util::fail("{}: the file is empty", located(name, 0, 0));
  Diagnostics d;
  check_duplicate_keys(n, name, &d);
  if (!d.empty()) return d.status().error();
  return n;
}

util::Result<YAML::Node> load_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return util::fail("{}: cannot open the file", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return load_yaml_string(ss.str(), path);
}

// Optimal string alignment: a swap of two neighbours is one edit, the commonest typo of a
// version number (7.59 for 7.95), so it beats an equally long substitution (7.80).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, sub});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit ? best : "";
}

MapReader::MapReader(const YAML::Node& node, std::string file, std::string what, Diagnostics* diag)
    : node_(node), file_(std::move(file)), what_(std::move(what)), diag_(diag) {
  if (!node_.IsMap()) {
    valid_ = false;
    diag_->error(file_, node_.Mark(), fmt::format("{} must be a mapping of keys to values", what_));
  }
}

bool MapReader::has(const std::string& key) const {
  const YAML::Node& cn = node_;
  return valid_ && cn[key].IsDefined();
}

YAML::Node MapReader::child(const std::string& key) {
  known_.push_back(key);
  // A default-constructed YAML::Node is a defined Null node; absence must be Undefined
  // so that `if (YAML::Node c = r.child("x"))` is false when "x" is missing.
  if (!valid_) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node& cn = node_;  // const access never inserts the key
  YAML::Node c = cn[key];
  if (!c.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  return c;
}

void MapReader::error_at(const std::string& key, const std::string& msg, size_t index) {
  diag_->error_plain(fmt::format("{}: {}", where_of(key, index), msg));
}

void MapReader::error_node(const YAML::Node& n, const std::string& msg) {
  diag_->error(file_, n.Mark(), msg);
}

template <typename T>
bool MapReader::get_scalar(const std::string& key, T* out, bool required, const char* type_name) {
  YAML::Node c = child(key);
  if (!c || c.IsNull()) {
    if (required) error_at(key, fmt::format("{} needs key '{}'", what_, key));
    return false;
  }
  if (!c.IsScalar()) {
    error_node(c, fmt::format("'{}' in {} must be {}", key, what_, type_name));
    return false;
  }
  try {
    *out = c.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    error_node(c, fmt::format("'{}' in {} must be {}, not '{}'", key, what_, type_name, c.Scalar()));
    return false;
  }
}

bool MapReader::get(const std::string& key, std::string* out, bool required) {
  return get_scalar(key, out, required, "a string");
}
bool MapReader::get(const std::string& key, int* out, bool required) {
  return get_scalar(key, out, required, "an integer");
}
bool MapReader::get(const std::string& key, unsigned* out, bool required) {
  return get_scalar(key, out, required, "a non-negative integer");
}
bool MapReader::get(const std::string& key, double* out, bool required) {
  return get_scalar(key, out, required, "a number");
}
bool MapReader::get(const std::string& key, bool* out, bool required) {
  return get_scalar(key, out, required, "true or false");
}

namespace {

// A scalar where a list belongs, as the list it probably meant: `nmap -T4 -oX {xml}` ->
// [nmap, -T4, -oX, "{xml}"].
std::string as_flow_list(const std::string& s) {
  std::vector<std::string> words;
  std::istringstream in(s);
  for (std::string w; in >> w;) {
    bool quote = w.find_first_of("{}[],:#&*!|>'\"%@`") != std::string::npos;
    if (quote) {
      std::string q;
      for (char c : w) q += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
      w = "\"" + q + "\"";
    }
    words.push_back(w);
  }
  return fmt::format("[{}]", fmt::join(words, ", "));
}

}  // namespace

bool MapReader::get(const std::string& key, std::vector<std::string>* out, bool required) {
  YAML::Node c = child(key);
  if (!c || c.IsNull()) {
    if (required) error_at(key, fmt::format("{} needs key '{}'", what_, key));
    return false;
  }
  if (c.IsScalar()) {  // `command: nmap -T4 ...` would be one argument named "nmap -T4 ..."
    error_node(c, fmt::format("'{}' in {} must be a list of strings, not a single {}: write {}",
                              key, what_, c.Scalar().find(' ') == std::string::npos ? "value" : "string",
                              as_flow_list(c.Scalar())));
    return false;
  }
  if (!c.IsSequence()) {
    error_node(c, fmt::format("'{}' in {} must be a list of strings, not a mapping", key, what_));
    return false;
  }
  std::vector<std::string> v;
  for (const auto& e : c) {
    if (!e.IsScalar() || e.IsNull()) {
      error_node(e, fmt::format("items of '{}' in {} must be strings, not {}", key, what_,
                                e.IsNull() ? "empty" : e.IsMap() ? "mappings" : "lists"));
      return false;
    }
    v.push_back(e.Scalar());
  }
  *out = std::move(v);
  return true;
}

std::string MapReader::where_of(const std::string& key, size_t index) const {
  const YAML::Node& cn = node_;
  YAML::Node c = valid_ ? cn[key] : YAML::Node(YAML::NodeType::Undefined);
  if (!c.IsDefined()) return where(file_, node_.Mark());
  if (index != std::string::npos && c.IsSequence() && index < c.size())
    return where(file_, c[index].Mark());
  return where(file_, c.Mark());
}

bool MapReader::get(const std::string& key, std::map<std::string, std::string>* out, bool required) {
  YAML::Node c = child(key);
  if (!c || c.IsNull()) {
    if (required) error_at(key, fmt::format("{} needs key '{}'", what_, key));
    return false;
  }
  if (!c.IsMap()) {
    error_node(c, fmt::format("'{}' in {} must be a mapping of names to strings", key, what_));
    return false;
  }
  std::map<std::string, std::string> m;
  for (const auto& kv : c) {
    if (!kv.first.IsScalar()) {  // e.g. `[a, b]: x`; as<std::string>() would throw
      error_node(kv.first, fmt::format("keys of '{}' in {} must be names", key, what_));
      return false;
    }
    if (!kv.second.IsScalar()) {
      error_node(kv.second,
                 fmt::format("'{}.{}' in {} must be a string", key, kv.first.Scalar(), what_));
      return false;
    }
    m[kv.first.Scalar()] = kv.second.Scalar();
  }
  *out = std::move(m);
  return true;
}

bool MapReader::get_enum(const std::string& key, std::string* out,
                         const std::vector<std::string>& allowed, bool required) {
  std::string v;
  if (!get(key, &v, required)) return false;
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    std::string hint = nearest(v, allowed);
    error_at(key, fmt::format("'{}' in {} is '{}'; it must be one of: {}{}", key, what_, v, list,
                              hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    return false;
  }
  *out = v;
  return true;
}

void MapReader::finish() {
  if (!valid_) return;
  for (const auto& kv : node_) {
    std::string k = kv.first.Scalar();
    if (std::find(known_.begin(), known_.end(), k) != known_.end()) continue;
    std::string hint = nearest(k, known_);
    diag_->error(file_, kv.first.Mark(),
                 fmt::format("unknown key '{}' in {}{}", k, what_,
                             hint.empty() ? fmt::format(" (known keys: {})", fmt::join(known_, ", "))
                                          : fmt::format(" (did you mean '{}'?)", hint)));
  }
}

util::Error escaped_exception(const std::string& file, const std::exception& e) {
  YAML::Mark start;  // 1:1 when the exception names no node
  const auto* y = dynamic_cast<const YAML::Exception*>(&e);
  const YAML::Mark& m = y && !y->mark.is_null() ? y->mark : start;
  return util::Error{fmt::format("{}: internal error while reading this file ({}); please report "
                                 "it with the file",
                                 where(file, m), y ? y->msg : e.what())};
}

void for_each_item(const YAML::Node& node, const std::string& file, const std::string& what,
                   Diagnostics* diag, const std::function<void(const YAML::Node&, size_t)>& fn) {
  if (!node || node.IsNull()) return;
  if (!node.IsSequence()) {
    diag->error(file, node.Mark(), fmt::format("{} must be a list", what));
    return;
  }
  for (size_t i = 0; i < node.size(); ++i) fn(node[i], i);
}

}  // namespace testbed::config
