#include "orchestrator/backends/vm/cloud_init.h"

#include <fmt/format.h>

#include <filesystem>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::backends::vm {

namespace fs = std::filesystem;

namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string octal_mode(unsigned mode) { return fmt::format("0{:o}", mode & 07777); }

// A scalar emitted double-quoted: YAML 1.1 (PyYAML, i.e. cloud-init) reads a bare 0644
// as the integer 420 and a bare 02:11:22:33:44:55 as a base-60 integer.
YAML::Node quoted(const std::string& s) {
  YAML::Node n(s);
  n.SetTag("!");
  return n;
}

YAML::Node file_entry(const std::string& path, const std::string& content, unsigned mode) {
  YAML::Node f;
  f["path"] = path;
  f["permissions"] = quoted(octal_mode(mode));
  f["owner"] = "root:root";
  // Text files stay readable in the seed; anything else goes base64.
  bool text = content.find('\0') == std::string::npos;
  if (text) {
    f["content"] = content;
  } else {
    f["encoding"] = "b64";
    f["content"] = base64(content);
  }
  return f;
}

std::string render_template(std::string text, const std::map<std::string, std::string>& facts) {
  for (const auto& [k, v] : facts) {
    std::string pat = "{{" + k + "}}";
    for (size_t p = text.find(pat); p != std::string::npos; p = text.find(pat, p + v.size()))
      text.replace(p, pat.size(), v);
  }
  return text;
}

// yaml-cpp's emitter writes multi-line strings double-quoted; cloud-config is read by
// people too, so this walks the tree and asks for literal blocks.
void emit(YAML::Emitter& e, const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      e << YAML::BeginMap;
      for (const auto& kv : n) {
        e << YAML::Key << kv.first.as<std::string>() << YAML::Value;
        emit(e, kv.second);
      }
      e << YAML::EndMap;
      break;
    case YAML::NodeType::Sequence:
      e << YAML::BeginSeq;
      for (const auto& item : n) emit(e, item);
      e << YAML::EndSeq;
      break;
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") {  // set by quoted(): keep as a string whatever it looks like
        e << YAML::DoubleQuoted << s;
      } else if (s.find('\n') != std::string::npos) {
        e << YAML::Literal << s;
      } else {
        e << s;
      }
      break;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      e << YAML::Null;
      break;
  }
}

}  // namespace

std::string emit_yaml(const YAML::Node& node) {
  YAML::Emitter e;
  e.SetIndent(2);
  emit(e, node);
  std::string out = e.c_str();
  if (out.empty() || out.back() != '\n') out += '\n';
  return out;
}

util::Result<YAML::Node> recipe_cloud_config(const config::Recipe& recipe) {
  YAML::Node cc(YAML::NodeType::Map);
  if (!recipe.packages.empty()) {
    cc["package_update"] = true;
    for (const auto& p : recipe.packages) cc["packages"].push_back(p);
  }
  YAML::Node templates(YAML::NodeType::Sequence);
  for (const auto& f : recipe.files) {
    std::string content = f.content;
    if (!f.source.empty()) {
      auto text = util::read_file(f.source);
      if (!text)
        return util::fail("recipe {}: file {} (source {}): {}", recipe.name, f.path, f.source_rel,
                          text.error().message);
      content = *text;
    }
    if (f.template_at_boot) {
      YAML::Node t;
      t["path"] = f.path;
      t["mode"] = f.mode;
      t["content"] = content;
      templates.push_back(t);
    } else {
      cc["write_files"].push_back(file_entry(f.path, content, f.mode));
    }
  }
  if (templates.size() > 0) cc["testbed_templates"] = templates;
  // runcmd runs once, after packages are installed and files written (cloud-final):
  // the recipe's build steps, then its services in order, then the marker.
  for (const auto& cmd : recipe.build) cc["runcmd"].push_back(cmd);
  // Always `start`, never skipped by `running`: packages started their daemons before
  // the recipe's files and build steps changed their configuration.
  for (const auto& s : recipe.services) cc["runcmd"].push_back(s.start);
  return cc;
}

std::string make_user_data(const YAML::Node& recipe_part, const NodeSeed& node) {
  YAML::Node cc(YAML::NodeType::Map);
  cc["hostname"] = node.hostname;
  cc["fqdn"] = node.hostname;
  cc["manage_etc_hosts"] = true;
  // Root logs in with the lab key only: the orchestrator's SSH sessions are root's.
  cc["disable_root"] = false;
  cc["ssh_pwauth"] = false;
  if (!node.lab_public_key.empty()) cc["ssh_authorized_keys"].push_back(node.lab_public_key);
  // The host key is generated by the orchestrator and pinned in its known_hosts, so
  // cloud-init deletes the image's keys and installs exactly that one (with ssh_keys
  // present cc_ssh generates nothing; genkeytypes only matters without it, and the
  // schema wants it non-empty).
  cc["ssh_deletekeys"] = true;
  cc["ssh_genkeytypes"].push_back("ed25519");
  if (!node.host_key_private.empty()) {
    cc["ssh_keys"]["ed25519_private"] = node.host_key_private;
    cc["ssh_keys"]["ed25519_public"] = node.host_key_public;
  }
  for (const auto& kv : recipe_part) {
    std::string key = kv.first.as<std::string>();
    if (key == "testbed_templates" || key == "write_files" || key == "runcmd") continue;
    cc[key] = YAML::Clone(kv.second);
  }
  YAML::Node files(YAML::NodeType::Sequence);
  for (const auto& f : recipe_part["write_files"]) files.push_back(YAML::Clone(f));
  for (const auto& t : recipe_part["testbed_templates"])
    files.push_back(file_entry(t["path"].as<std::string>(),
                               render_template(t["content"].as<std::string>(), node.facts),
                               t["mode"].as<unsigned>()));
  for (const auto& [path, f] : node.files) files.push_back(file_entry(path, f.content, f.mode));
  if (files.size() > 0) cc["write_files"] = files;
  YAML::Node run(YAML::NodeType::Sequence);
  for (const auto& c : recipe_part["runcmd"]) run.push_back(YAML::Clone(c));
  run.push_back(fmt::format("mkdir -p {} && touch {}",
                            fs::path(kCloudInitDoneMarker).parent_path().string(),
                            kCloudInitDoneMarker));
  cc["runcmd"] = run;
  return "#cloud-config\n" + emit_yaml(cc);
}

std::string make_meta_data(const NodeSeed& node) {
  YAML::Node md;
  md["instance-id"] = node.instance_id;
  md["local-hostname"] = node.hostname;
  return emit_yaml(md);
}

std::string make_network_config(const NodeSeed& node) {
  YAML::Node nc;
  nc["version"] = 2;
  YAML::Node eths(YAML::NodeType::Map);
  for (const auto& i : node.interfaces) {
    YAML::Node e;
    e["match"]["macaddress"] = quoted(i.mac);
    e["set-name"] = i.name;
    e["dhcp4"] = false;
    e["dhcp6"] = false;
    // No router advertisements either: lab links are IPv4-only, as with LXC.
    e["accept-ra"] = false;
    for (const auto& a : i.addresses) e["addresses"].push_back(a);
    for (const auto& r : i.routes) {
      YAML::Node rn;
      rn["to"] = r.to;
      rn["via"] = r.via;
      e["routes"].push_back(rn);
    }
    eths[i.name] = e;
  }
  nc["ethernets"] = eths;
  return emit_yaml(nc);
}

util::Status write_seed_iso(const fs::path& iso, const std::string& user_data,
                            const std::string& meta_data, const std::string& network_config) {
  std::error_code ec;
  fs::create_directories(iso.parent_path().empty() ? fs::path(".") : iso.parent_path(), ec);
  auto dir = util::TempDir::create("seed", iso.parent_path());
  if (!dir) return dir.error();
  for (const auto& [name, text] :
       {std::pair{"user-data", &user_data}, std::pair{"meta-data", &meta_data},
        std::pair{"network-config", &network_config}}) {
    if (auto s = util::write_file_atomic(dir->path() / name, *text); !s) return s;
  }
  fs::path tmp = iso;
  tmp += ".part";
  fs::remove(tmp, ec);
  auto r = util::run_checked(
      {"xorriso", "-as", "genisoimage", "-output", tmp.string(), "-volid", "cidata", "-joliet",
       "-rock", "-quiet", (dir->path() / "user-data").string(),
       (dir->path() / "meta-data").string(), (dir->path() / "network-config").string()});
  if (!r) {
    fs::remove(tmp, ec);
    return util::fail(
        "cannot write the cloud-init seed {}: {} (is xorriso installed? "
        "make setup installs it)",
        iso.string(), r.error().message);
  }
  fs::rename(tmp, iso, ec);
  if (ec)
    return util::fail("cannot move the seed into place at {}: {}", iso.string(), ec.message());
  return {};
}

}  // namespace testbed::backends::vm
