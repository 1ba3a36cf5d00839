#include "orchestrator/results/manifest.h"

#include <fmt/format.h>

#include <algorithm>

#include "orchestrator/results/layout.h"
#include "orchestrator/util/files.h"

namespace testbed::results {
namespace fs = std::filesystem;
using nlohmann::json;
using util::fail;

namespace {

util::Status write_json(const fs::path& p, const json& j) {
  return util::write_file_atomic(p, j.dump(2) + "\n");
}

/// Reads typed fields of one JSON object; the first problem is kept, named by its path.
class Fields {
 public:
  Fields(const json& obj, std::string name, std::string prefix)
      : obj_(obj), name_(std::move(name)), prefix_(std::move(prefix)) {}

  const json* find(const char* key) const {
    if (!obj_.is_object()) return nullptr;
    auto it = obj_.find(key);
    return it == obj_.end() || it->is_null() ? nullptr : &*it;
  }
  void str(const char* key, std::string* out) { get(key, out, "a string", is_str); }
  void str(const char* key, std::optional<std::string>* out) {
    std::string v;
    if (get(key, &v, "a string", is_str)) *out = v;
  }
  void u64(const char* key, uint64_t* out) { get(key, out, "an unsigned integer", is_u64); }
  void u64(const char* key, std::optional<uint64_t>* out) {
    uint64_t v;
    if (get(key, &v, "an unsigned integer", is_u64)) *out = v;
  }
  void i64(const char* key, std::optional<int64_t>* out) {
    int64_t v;
    if (get(key, &v, "an integer", is_int)) *out = v;
  }
  void integer(const char* key, int* out) { get(key, out, "an integer", is_int); }
  void num(const char* key, double* out) { get(key, out, "a number", is_num); }
  void num(const char* key, std::optional<double>* out) {
    double v;
    if (get(key, &v, "a number", is_num)) *out = v;
  }
  void nums(const char* key, std::vector<double>* out) {
    const json* j = find(key);
    if (!j) return;
    bool ok = j->is_array();
    for (const auto& v : ok ? *j : json::array()) ok = ok && v.is_number();
    if (ok) *out = j->get<std::vector<double>>();
    else bad(key, "an array of numbers");
  }
  /// The sub-object at `key` (an empty object when absent), checked to be an object.
  Fields object(const char* key) {
    const json* j = find(key);
    if (j && !j->is_object()) bad(key, "an object");
    return Fields(j && j->is_object() ? *j : empty(), name_, prefix_ + key + ".");
  }
  bool has(const char* key) const { return find(key) != nullptr; }
  void merge_error(const Fields& sub) {
    if (error_.empty()) error_ = sub.error_;
  }
  const std::string& error() const { return error_; }
  void bad(const char* key, const char* expected) {
    if (error_.empty()) error_ = fmt::format("{}: {}{}: expected {}", name_, prefix_, key, expected);
  }

 private:
  static const json& empty() {
    static const json e = json::object();
    return e;
  }
  static bool is_str(const json& j) { return j.is_string(); }
  static bool is_int(const json& j) { return j.is_number_integer(); }
  static bool is_num(const json& j) { return j.is_number(); }
  static bool is_u64(const json& j) {
    return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
  }
  template <typename T>
  bool get(const char* key, T* out, const char* expected, bool (*is)(const json&)) {
    const json* j = find(key);
    if (!j) return false;
    if (!is(*j)) {
      bad(key, expected);
      return false;
    }
    *out = j->get<T>();
    return true;
  }
  const json& obj_;
  std::string name_, prefix_;
  std::string error_;
};

const char* const kLabTyped[] = {"name", "backend", "accel", "scanner_address", "host"};
const char* const kKnown[] = {"schema_version", "status",          "run",
                              "experiment",     "testbed",         "host",
                              "command_line",   "lab",             "images",
                              "scanner_version", "scanner_command", "scan_line_latency_s",
                              "scan",           "capture",         "wall_seconds",
                              "scanner_kind",   "ids",             "retries",
                              "resets"};

}  // namespace

LabInfo lab_info(const json& provenance) {
  LabInfo l;
  if (!provenance.is_object()) return l;
  l.details = provenance;
  std::string* typed[] = {&l.name, &l.backend, &l.accel, &l.scanner_address, &l.host};
  for (size_t i = 0; i < std::size(kLabTyped); ++i) {
    auto it = provenance.find(kLabTyped[i]);
    if (it != provenance.end() && it->is_string()) {
      *typed[i] = it->get<std::string>();
      l.details.erase(kLabTyped[i]);
    }
  }
  return l;
}

json to_json(const CaptureRecord& c) {
  json j = {{"packets", c.packets},
            {"bytes", c.bytes},
            {"kernel_dropped", c.kernel_dropped},
            {"interface_dropped", c.interface_dropped}};
  if (c.interface) j["interface"] = *c.interface;
  if (c.on_host) j["on_host"] = *c.on_host;
  if (c.snaplen) j["snaplen"] = *c.snaplen;
  if (c.buffer_bytes) j["buffer_bytes"] = *c.buffer_bytes;
  return j;
}

json to_json(const Manifest& m) {
  json j = m.extra.is_object() ? m.extra : json::object();
  j["schema_version"] = m.schema_version;
  j["status"] = m.status;
  j["run"] = {{"label", m.run.label}, {"image", m.run.image}, {"repetition", m.run.repetition}};
  j["experiment"] = {
      {"name", m.experiment.name}, {"file", m.experiment.file}, {"sha256", m.experiment.sha256}};
  j["testbed"] = {{"version", m.testbed.version}, {"git_revision", m.testbed.git_revision}};
  j["host"] = {{"kernel", m.host_kernel}};
  j["command_line"] = m.command_line;
  json lab = m.lab.details.is_object() ? m.lab.details : json::object();
  lab["name"] = m.lab.name;
  lab["scanner_address"] = m.lab.scanner_address;
  if (!m.lab.backend.empty()) lab["backend"] = m.lab.backend;
  if (!m.lab.accel.empty()) lab["accel"] = m.lab.accel;
  if (!m.lab.host.empty()) lab["host"] = m.lab.host;
  j["lab"] = lab;
  j["images"] = m.images;
  if (!m.scanner_kind.empty()) j["scanner_kind"] = m.scanner_kind;
  j["scanner_version"] = m.scanner_version;
  j["scanner_command"] = m.scanner_command;
  j["scan_line_latency_s"] = m.scan_line_latency_s ? json(*m.scan_line_latency_s) : json(nullptr);
  if (m.scan)
    j["scan"] = {{"started", m.scan->started},
                 {"finished", m.scan->finished},
                 {"exit_status", m.scan->exit_status},
                 {"output_lines", m.scan->output_lines}};
  if (m.scan && !m.scan->wake_frames.empty()) j["scan"]["wake_frames"] = m.scan->wake_frames;
  if (m.capture) j["capture"] = to_json(*m.capture);
  if (m.wall_seconds) j["wall_seconds"] = *m.wall_seconds;
  for (const auto& r : m.retries)
    j["retries"].push_back(
        {{"attempt", r.attempt}, {"stage", r.stage}, {"reason", r.reason}, {"at", r.at}});
  if (!m.ids.is_null()) j["ids"] = m.ids;
  if (!m.resets.empty()) j["resets"] = m.resets;
  return j;
}

util::Result<Manifest> manifest_from_json(const json& j, const std::string& name) {
  if (!j.is_object()) return fail("{}: not a JSON object", name);
  Manifest m;
  m.schema_version = 0;  // absent: the format before versioning
  Fields f(j, name, "");
  f.integer("schema_version", &m.schema_version);
  if (!f.error().empty()) return fail("{}", f.error());
  if (m.schema_version > kManifestSchema)
    return fail(
        "{}: manifest schema_version {} is newer than this testbed reads (up to {}); read it "
        "with a newer testbed",
        name, m.schema_version, kManifestSchema);
  if (m.schema_version < 0) return fail("{}: schema_version {} is invalid", name, m.schema_version);
  f.str("status", &m.status);
  Fields run = f.object("run");
  run.str("label", &m.run.label);
  run.str("image", &m.run.image);
  run.integer("repetition", &m.run.repetition);
  Fields exp = f.object("experiment");
  exp.str("name", &m.experiment.name);
  exp.str("file", &m.experiment.file);
  exp.str("sha256", &m.experiment.sha256);
  Fields tb = f.object("testbed");
  tb.str("version", &m.testbed.version);
  tb.str("git_revision", &m.testbed.git_revision);
  Fields host = f.object("host");
  host.str("kernel", &m.host_kernel);
  f.str("command_line", &m.command_line);
  Fields lab = f.object("lab");
  for (const char* k : kLabTyped) {
    std::string ignored;
    lab.str(k, &ignored);  // type checks only
  }
  if (j.contains("lab") && j["lab"].is_object()) m.lab = lab_info(j["lab"]);
  if (const json* im = f.find("images")) {
    if (!im->is_object()) f.bad("images", "an object");
    else m.images = *im;
  }
  f.str("scanner_kind", &m.scanner_kind);
  if (const json* ids = f.find("ids")) {
    if (!ids->is_object()) f.bad("ids", "an object");
    else m.ids = *ids;
  }
  if (const json* r = f.find("resets")) {
    if (!r->is_object()) f.bad("resets", "an object");
    else m.resets = *r;
  }
  f.str("scanner_version", &m.scanner_version);
  if (const json* cmd = f.find("scanner_command")) {
    bool ok = cmd->is_array();
    for (const auto& a : ok ? *cmd : json::array()) ok = ok && a.is_string();
    if (ok) m.scanner_command = cmd->get<std::vector<std::string>>();
    else f.bad("scanner_command", "an array of strings");
  }
  f.num("scan_line_latency_s", &m.scan_line_latency_s);
  if (f.has("scan")) {
    Fields s = f.object("scan");
    ScanRecord r;
    s.num("started", &r.started);
    s.num("finished", &r.finished);
    s.integer("exit_status", &r.exit_status);
    s.u64("output_lines", &r.output_lines);
    s.nums("wake_frames", &r.wake_frames);
    f.merge_error(s);
    m.scan = r;
  }
  if (f.has("capture")) {
    Fields c = f.object("capture");
    CaptureRecord r;
    c.str("interface", &r.interface);
    c.str("on_host", &r.on_host);
    c.i64("snaplen", &r.snaplen);
    c.u64("buffer_bytes", &r.buffer_bytes);
    c.u64("packets", &r.packets);
    c.u64("bytes", &r.bytes);
    c.u64("kernel_dropped", &r.kernel_dropped);
    c.u64("interface_dropped", &r.interface_dropped);
    f.merge_error(c);
    m.capture = r;
  }
  f.num("wall_seconds", &m.wall_seconds);
  if (const json* rs = f.find("retries")) {
    if (!rs->is_array()) f.bad("retries", "an array");
    for (const auto& r : rs->is_array() ? *rs : json::array()) {
      Fields rf(r, name, "retries[].");
      if (!r.is_object()) f.bad("retries", "an array of objects");
      RetryRecord rec;
      rf.integer("attempt", &rec.attempt);
      rf.str("stage", &rec.stage);
      rf.str("reason", &rec.reason);
      rf.num("at", &rec.at);
      f.merge_error(rf);
      m.retries.push_back(std::move(rec));
    }
  }
  for (const Fields* sub : {&run, &exp, &tb, &host, &lab}) f.merge_error(*sub);
  if (!f.error().empty()) return fail("{}", f.error());
  for (const auto& [k, v] : j.items())
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) m.extra[k] = v;
  return m;
}

util::Result<json> read_json_file(const fs::path& file) {
  auto text = util::read_file(file);
  if (!text) return text.error();
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail("{} is not valid JSON", file.string());
  return j;
}

util::Result<Manifest> read_manifest(const fs::path& file) {
  auto j = read_json_file(file);
  if (!j) return j.error();
  return manifest_from_json(*j, file.string());
}

util::Status write_manifest(const fs::path& run_dir, const Manifest& m) {
  Manifest v = m;
  v.schema_version = kManifestSchema;
  return write_json(run_dir / files::kManifest, to_json(v));
}

util::Status write_failure(const fs::path& run_dir, const Failure& f) {
  return write_json(run_dir / files::kFailure,
                    {{"status", f.status}, {"stage", f.stage}, {"error", f.error}});
}

util::Result<Failure> read_failure(const fs::path& file) {
  auto j = read_json_file(file);
  if (!j) return j.error();
  if (!j->is_object()) return fail("{}: not a JSON object", file.string());
  Failure f;
  auto str = [&](const char* k, std::string* out) {
    if (j->contains(k) && (*j)[k].is_string()) *out = (*j)[k];
  };
  str("status", &f.status);
  str("stage", &f.stage);
  str("error", &f.error);
  return f;
}

util::Status write_plan(const fs::path& results_dir, const Plan& p) {
  json plan = {{"experiment", p.experiment},
               {"repetitions", p.repetitions},
               {"scanners", json::array()}};
  for (const auto& s : p.scanners) {
    json entry = {{"label", s.label}, {"image", s.image}};
    if (!s.kind.empty()) entry["scanner_kind"] = s.kind;
    plan["scanners"].push_back(std::move(entry));
  }
  return write_json(results_dir / files::kPlan, plan);
}

util::Result<Plan> read_plan(const fs::path& file) {
  auto j = read_json_file(file);
  if (!j) return j.error();
  Plan p;
  if (!j->is_object()) return p;
  if (j->contains("experiment") && (*j)["experiment"].is_string()) p.experiment = (*j)["experiment"];
  if (j->contains("repetitions") && (*j)["repetitions"].is_number_integer())
    p.repetitions = (*j)["repetitions"];
  if (j->contains("scanners") && (*j)["scanners"].is_array())
    for (const auto& s : (*j)["scanners"])
      if (s.is_object() && s.contains("label") && s["label"].is_string()) {
        auto str = [&](const char* k) {
          return s.contains(k) && s[k].is_string() ? s[k].get<std::string>() : std::string();
        };
        p.scanners.push_back({s["label"].get<std::string>(), str("image"), str("scanner_kind")});
      }
  return p;
}

}  // namespace testbed::results
