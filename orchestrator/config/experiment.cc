#include "orchestrator/config/experiment.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "orchestrator/config/recipe.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/config/yaml_reader.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/ipv4.h"

namespace testbed::config {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kKeyFields = {"ttl", "ipid", "window", "tcp_options", "icmp"};
const std::vector<std::string> kProtocols = {"tcp", "udp", "icmp", "icmpv6", "other"};

bool valid_label(const std::string& s) {
  return !s.empty() && s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
         });
}

// The libvirt driver of a URI: "qemu" for qemu+ssh://h/system; "" when it has no scheme.
std::string uri_driver(const std::string& uri) {
  auto colon = uri.find("://");
  if (colon == std::string::npos || colon == 0) return "";
  std::string scheme = uri.substr(0, colon);
  std::string driver = scheme.substr(0, scheme.find('+'));
  if (!std::all_of(driver.begin(), driver.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
    return "";
  return driver;
}

// A URI for `backend`: its driver is the backend's (qemu for kvm, lxc for lxc) or test
// (libvirt's mock driver, for tests). "" when fine, else the problem.
std::string check_uri_for_backend(const std::string& uri, BackendKind kind) {
  const std::string backend = backend_name(kind);
  std::string driver = uri_driver(uri);
  std::string want = kind == BackendKind::kVm ? "qemu" : "lxc";
  if (driver.empty())
    return fmt::format("'{}' is not a libvirt URI (e.g. {})", uri,
                       kind == BackendKind::kVm ? "qemu:///system, qemu+ssh://HOST/system"
                                        : "lxc:///system, lxc+ssh://HOST/");
  if (driver != want && driver != "test")
    return fmt::format(
        "'{}' is a {} URI but the experiment's backend is {} (use {}:// or "
        "{}+ssh://HOST/…)",
        uri, driver, backend, want, want);
  if (uri.find_first_of(" \t\n'\"") != std::string::npos)
    return fmt::format("libvirt URI '{}' contains a space or quote", uri);
  return "";
}

// Reads `node_images` (node or count-group name -> image) and expands it to node names
// of `topo_path`'s topology; problems are located at the offending key or value.
void read_node_images(MapReader& r, const fs::path& topo_path, Diagnostics* d,
                      std::map<std::string, std::string>* out,
                      std::map<std::string, std::string>* image_where) {
  YAML::Node m = r.child("node_images");
  if (!m || m.IsNull()) return;
  std::map<std::string, std::string> raw;
  if (!r.get("node_images", &raw)) return;
  auto topo = load_topology(topo_path.string());
  if (!topo) {
    std::string first = topo.error().message.substr(0, topo.error().message.find('\n'));
    r.error_at(
        "node_images",
        fmt::format("node_images cannot be checked: the topology does not load ({})", first));
    return;
  }
  std::vector<std::string> names;
  for (const auto& n : topo->nodes) names.push_back(n.name);
  for (const auto& kv : m) {
    std::string key = kv.first.Scalar();
    std::string image = kv.second.Scalar();
    // The node itself, or the copies target1..N of a `count:` group named `key`.
    std::vector<const TopologyNode*> hit;
    for (const auto& n : topo->nodes) {
      if (n.name == key) hit = {&n};
    }
    if (hit.empty()) {
      for (const auto& n : topo->nodes) {
        bool copy = n.name.size() > key.size() && n.name.rfind(key, 0) == 0 &&
                    n.name.find_first_not_of("0123456789", key.size()) == std::string::npos;
        if (copy && (hit.empty() || hit[0]->where == n.where)) hit.push_back(&n);
      }
    }
    if (hit.empty()) {
      std::string hint = nearest(key, names);
      d->error(r.file(), kv.first.Mark(),
               fmt::format("node_images: topology '{}' has no node or count group '{}' (nodes: "
                           "{}){}",
                           topo->name, key, fmt::join(names, ", "),
                           hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
      continue;
    }
    if (hit[0]->role == NodeRole::kScanner) {
      d->error(r.file(), kv.first.Mark(),
               fmt::format("node_images: '{}' is the scanner; its image comes from `scanners:` "
                           "(one per version)",
                           key));
      continue;
    }
    if (!is_image_name(image)) {
      d->error(r.file(), kv.second.Mark(),
               fmt::format("node_images: '{}' is not an image name (a recipe file name in "
                           "images/: lower-case letters, digits, '.', '-')",
                           image));
      continue;
    }
    for (const auto* n : hit) (*out)[n->name] = image;
    image_where->emplace(image, where(r.file(), kv.second.Mark()));
  }
}

// The `analysis:` section: its one reader (a results directory's experiment copy is read
// through load_analysis_settings, which calls this too).
void read_analysis(const YAML::Node& a, const std::string& path, Diagnostics* dp,
                   AnalysisSettings* out) {
  Diagnostics& d = *dp;
  MapReader ar(a, path, "analysis", &d);
  if (ar.get("key_fields", &out->key_fields)) {
    for (size_t i = 0; i < out->key_fields.size(); ++i)
      if (auto bad = key_field_problem(out->key_fields[i]); !bad.empty())
        ar.error_at("key_fields", bad, i);
  }
  std::string sip;
  if (ar.get("scanner_ip", &sip)) {
    if (!util::parse_ipv4(sip)) ar.error_at("scanner_ip", fmt::format("'{}' is not an IPv4 address", sip));
    else out->scanner_ip = sip;
  }
  if (YAML::Node sim = ar.child("similarity")) {
    MapReader sr(sim, path, "analysis.similarity", &d);
    for (const auto& proto : kProtocols) {
      if (YAML::Node p = sr.child(proto)) {
        MapReader pr(p, path, "analysis.similarity." + proto, &d);
        SimilarityOverride o;
        int v;
        if (pr.get("max_length_diff", &v)) {
          if (v < 0) pr.error_at("max_length_diff", "max_length_diff must be >= 0");
          o.max_length_diff = v;
        }
        if (pr.get("min_common_block", &v)) {
          if (v < 1) pr.error_at("min_common_block", "min_common_block must be >= 1");
          o.min_common_block = v;
        }
        pr.finish();
        out->similarity[proto] = o;
      }
    }
    sr.finish();
  }
  if (out->similarity.count("icmp") && out->similarity.count("icmpv6"))
    ar.error_at("similarity",
                "icmp and icmpv6 share one rule (the ICMP class, ICMPv6 included): give it once");
  ar.finish();
}

}  // namespace

const std::vector<std::string>& key_field_names() { return kKeyFields; }

std::string key_field_problem(const std::string& word) {
  if (std::find(kKeyFields.begin(), kKeyFields.end(), word) != kKeyFields.end()) return "";
  std::string hint = nearest(word, kKeyFields);
  return fmt::format("unknown key field '{}' (known: {}){}", word, fmt::join(kKeyFields, ", "),
                     hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint));
}

std::string default_uri(BackendKind backend) {
  return backend == BackendKind::kVm ? "qemu:///system" : "lxc:///system";
}

std::vector<std::string> lab_uris(const Experiment& exp) {
  if (!exp.hosts.empty()) return exp.hosts;
  return {exp.uri.value_or(default_uri(exp.backend))};
}

std::vector<std::string> placeholders_in(const std::string& arg) {
  std::vector<std::string> out;
  for (size_t i = arg.find('{'); i != std::string::npos; i = arg.find('{', i + 1)) {
    size_t j = arg.find('}', i);
    out.push_back(arg.substr(i + 1, j == std::string::npos ? std::string::npos : j - i - 1));
    if (j == std::string::npos) break;
  }
  return out;
}

util::Result<std::vector<std::string>> expand_command(
    const std::vector<std::string>& templ, const std::map<std::string, std::string>& values,
    const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  for (const auto& a : templ) {
    if (a == "{targets}") {
      out.insert(out.end(), targets.begin(), targets.end());
      continue;
    }
    std::string arg;
    size_t pos = 0;
    for (size_t i = a.find('{'); i != std::string::npos; i = a.find('{', pos)) {
      size_t j = a.find('}', i);
      std::string name = a.substr(i + 1, j == std::string::npos ? std::string::npos : j - i - 1);
      if (name == "xml") name = "output";
      auto v = values.find(name);
      if (j == std::string::npos || name == "targets" || v == values.end())
        return util::fail(
            "unknown placeholder in command argument '{}' (known: {{output}} or {{xml}}, "
            "{{targets}} as a whole argument, {{router_mac}}, {{scan_interface}}, {{source_ip}})",
            a);
      arg += a.substr(pos, i - pos) + v->second;
      pos = j + 1;
    }
    out.push_back(arg + a.substr(pos));
  }
  return out;
}

util::Result<Experiment> load_experiment(const std::string& path) {
  auto bytes = util::read_file(path);
  if (!bytes) return util::fail("{}: cannot read the experiment file", path);
  return parse_experiment(*bytes, path);
}

namespace {

util::Result<Experiment> read_experiment(const std::string& text, const std::string& path) {
  auto root = load_yaml_string(text, path);
  if (!root) return root.error();

  Diagnostics d;
  Experiment e;
  e.file = path;
  e.sha256 = util::sha256_hex(text);
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";

  MapReader r(*root, path, "experiment", &d);
  if (!r.valid()) return d.status().error();
  if (r.get("name", &e.name, true) && !valid_label(e.name))
    r.error_at("name", fmt::format("experiment name '{}' may use only letters, digits, '.', '-', '_'", e.name));
  r.get("description", &e.description);
  std::string topo;
  if (r.get("topology", &topo, true)) {
    e.topology = (dir / topo).lexically_normal();
    std::error_code ec;  // e.g. ENAMETOOLONG: reported as missing, not thrown
    if (!fs::exists(e.topology, ec))
      r.error_at("topology", fmt::format("topology file '{}' does not exist (resolved to {})", topo,
                                         e.topology.string()));
  }
  // `kvm` is the older spelling of `vm`: QEMU through libvirt, with KVM or TCG (`accel`).
  std::string backend = "lxc";
  if (r.get_enum("backend", &backend, {"lxc", "vm", "kvm"}))
    e.backend = parse_backend_kind(backend).value_or(BackendKind::kLxc);
  if (r.get_enum("accel", &e.accel, {"auto", "kvm", "tcg"}) && e.backend != BackendKind::kVm)
    r.error_at("accel", fmt::format("accel is for the vm backend (this experiment's backend is {})",
                                    backend_name(e.backend)));
  r.get_enum("reset", &e.reset, {"snapshot", "boot"});
  if (r.get("keep_states", &e.keep_states) && e.keep_states && e.backend != BackendKind::kVm)
    r.error_at("keep_states", fmt::format("keep_states is for the vm backend (this experiment's "
                                          "backend is {}); remove it",
                                          backend_name(e.backend)));
  if (e.keep_states && e.reset == "boot")
    r.error_at("keep_states", "keep_states keeps saved states, which `reset: boot` does not use; "
                              "remove one of the two");
  std::string uri;
  if (r.get("uri", &uri)) {
    e.uri = uri;
    if (auto bad = check_uri_for_backend(uri, e.backend); !bad.empty()) r.error_at("uri", bad);
  }
  if (r.get("hosts", &e.hosts)) {
    std::set<std::string> seen;
    for (size_t i = 0; i < e.hosts.size(); ++i) {
      const std::string& h = e.hosts[i];
      if (auto bad = check_uri_for_backend(h, e.backend); !bad.empty())
        r.error_at("hosts", "hosts: " + bad, i);
      else if (!seen.insert(h).second)
        r.error_at("hosts", fmt::format("hosts: '{}' is listed twice", h), i);
    }
    if (e.hosts.empty()) r.error_at("hosts", "'hosts' is empty: list at least one libvirt URI");
    if (e.uri)
      r.error_at("hosts",
                 "give either `uri` (one lab host) or `hosts` (several), not both; put the "
                 "uri into hosts");
  }
  std::error_code topo_ec;
  if (!e.topology.empty() && fs::exists(e.topology, topo_ec))
    read_node_images(r, e.topology, &d, &e.node_images, &e.image_where);
  else
    r.child("node_images");  // known key; the missing topology is reported above

  std::set<std::string> labels;
  YAML::Node scanners = r.child("scanners");
  if (!scanners) r.error_at("scanners", "experiment needs key 'scanners' (a list of {label, image})");
  for_each_item(scanners, path, "'scanners'", &d, [&](const YAML::Node& n, size_t i) {
    MapReader s(n, path, fmt::format("scanners[{}]", i), &d);
    if (!s.valid()) return;
    ScannerSpec spec;
    s.get("label", &spec.label, true);
    if (s.get("image", &spec.image, true))
      e.image_where.emplace(spec.image, s.where_of("image"));
    if (s.get("command", &spec.command)) {
      for (size_t k = 0; k < spec.command.size(); ++k)
        spec.command_where.push_back(s.where_of("command", k));
      if (spec.command.empty()) s.error_at("command", "the command is empty");
    }
    s.finish();
    if (!spec.label.empty() && !valid_label(spec.label))
      s.error_at("label", fmt::format("label '{}' may use only letters, digits, '.', '-', '_'", spec.label));
    if (!spec.label.empty() && !labels.insert(spec.label).second)
      s.error_at("label", fmt::format("label '{}' is used twice", spec.label));
    e.scanners.push_back(spec);
  });
  if (scanners && scanners.IsSequence() && scanners.size() == 0)
    r.error_at("scanners", "'scanners' is empty: list at least one {label, image}");

  const bool every_own = !e.scanners.empty() &&
                        std::all_of(e.scanners.begin(), e.scanners.end(),
                                    [](const ScannerSpec& s) { return !s.command.empty(); });
  if (r.get("command", &e.command, !every_own)) {
    for (size_t i = 0; i < e.command.size(); ++i) e.command_where.push_back(r.where_of("command", i));
    if (e.command.empty()) r.error_at("command", "the command is empty (e.g. [nmap, -oX, \"{xml}\", \"{targets}\"])");
  }
  for (auto& s : e.scanners)
    if (s.command.empty()) {
      s.command = e.command;
      s.command_where = e.command_where;
    }
  if (r.get("targets", &e.targets)) {
    for (const auto& t : e.targets) {
      if (!util::parse_cidr(t))
        r.error_at("targets", fmt::format("target '{}' is not an IPv4 address or CIDR block", t));
    }
  }
  if (r.get("repetitions", &e.repetitions) && (e.repetitions < 1 || e.repetitions > 1000))
    r.error_at("repetitions", fmt::format("repetitions is {}; it must be 1..1000", e.repetitions));
  r.get_enum("reset_targets", &e.reset_targets, {"every-run", "never"});
  if (r.get("scan_timeout_minutes", &e.scan_timeout_minutes) && e.scan_timeout_minutes < 1)
    r.error_at("scan_timeout_minutes", "scan_timeout_minutes must be at least 1");
  if (r.get("retries", &e.retries) && (e.retries < 0 || e.retries > 5))
    r.error_at("retries", fmt::format("retries is {}; it must be 0..5", e.retries));

  if (YAML::Node c = r.child("capture")) {
    MapReader cr(c, path, "capture", &d);
    if (cr.get("snaplen", &e.capture.snaplen) && (e.capture.snaplen < 64 || e.capture.snaplen > 262144))
      cr.error_at("snaplen", fmt::format("snaplen {} must be 64..262144", e.capture.snaplen));
    if (cr.get("buffer_mib", &e.capture.buffer_mib) && (e.capture.buffer_mib < 1 || e.capture.buffer_mib > 4096))
      cr.error_at("buffer_mib", fmt::format("buffer_mib {} must be 1..4096", e.capture.buffer_mib));
    if (cr.get("grace_seconds", &e.capture.grace_seconds) &&
        (e.capture.grace_seconds < 0 || e.capture.grace_seconds > 120))
      cr.error_at("grace_seconds", "grace_seconds must be 0..120");
    cr.finish();
  }
  if (YAML::Node c = r.child("ids")) {
    MapReader ir(c, path, "ids", &d);
    ir.get("enabled", &e.ids.enabled);
    std::string rules;
    if (ir.get("rules", &rules)) {
      e.ids.rules = (dir / rules).lexically_normal();
      if (!fs::is_regular_file(*e.ids.rules))
        ir.error_at("rules", fmt::format("rules file '{}' does not exist (resolved to {}); make "
                                         "one with `testbed signatures RESULTS_DIR --out FILE`",
                                         rules, e.ids.rules->string()));
    }
    ir.finish();
  }
  if (YAML::Node a = r.child("analysis")) read_analysis(a, path, &d, &e.analysis);
  std::string out = "../results";
  r.get("output", &out);
  e.output = (dir / out).lexically_normal();
  r.finish();

  if (!d.empty()) return d.status().error();
  return e;
}

}  // namespace

util::Result<Experiment> parse_experiment(const std::string& text, const std::string& path) {
  return guard_loader<Experiment>(path, [&] { return read_experiment(text, path); });
}

util::Result<AnalysisSettings> load_analysis_settings(const std::string& path) {
  return guard_loader<AnalysisSettings>(path, [&]() -> util::Result<AnalysisSettings> {
    auto root = load_yaml_file(path);
    if (!root) return root.error();
    Diagnostics d;
    AnalysisSettings s;
    if (!root->IsMap()) return s;
    if (YAML::Node a = (*root)["analysis"]) read_analysis(a, path, &d, &s);
    if (!d.empty()) return d.status().error();
    return s;
  });
}

}  // namespace testbed::config
