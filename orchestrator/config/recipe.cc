#include "orchestrator/config/recipe.h"

#include "orchestrator/config/backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <regex>

#include "orchestrator/config/references.h"
#include "orchestrator/config/yaml_reader.h"
#include "orchestrator/util/files.h"

namespace testbed::config {
namespace fs = std::filesystem;
namespace {

bool valid_service_name(const std::string& s) {
  static const std::regex re("[a-z0-9][a-z0-9_.-]{0,62}");
  return std::regex_match(s, re);
}

// An absolute, normalised path inside the image ("/etc/x", never "/etc/../x").
bool valid_image_path(const std::string& s) {
  if (s.size() < 2 || s[0] != '/' || s.back() == '/') return false;
  fs::path p(s);
  if (p.lexically_normal() != p) return false;
  for (const auto& part : p) {
    if (part == ".." || part == ".") return false;
  }
  return s.find('\n') == std::string::npos;
}

bool is_hex64(const std::string& s) {
  static const std::regex re("[0-9a-f]{64}");
  return std::regex_match(s, re);
}

// libstdc++'s std::regex matcher recurses once per character: unbounded patterns are only
// run on strings of sane length (a 200,000-character package name overflowed the stack).
constexpr size_t kMaxRegexInput = 256;

// A Debian package name (policy 5.6.1), optionally with an =version pin.
bool valid_package(const std::string& s) {
  static const std::regex re("[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?");
  return s.size() <= kMaxRegexInput && std::regex_match(s, re);
}

void read_base(MapReader& top, Recipe* r) {
  YAML::Node n = top.child("base");
  if (!n) {
    top.error_at("base", "recipe needs key 'base' (suite for lxc; cloud_image + sha256 for kvm)");
    return;
  }
  MapReader m(n, top.file(), "base", top.diag());
  m.get_enum("suite", &r->base.suite, {"bullseye", "bookworm", "trixie", "sid"});
  m.get("apt_options", &r->base.apt_options);
  m.get("cloud_image", &r->base.cloud_image);
  m.get("sha256", &r->base.sha256);
  m.get("sha256sums", &r->base.sha256sums);
  for (const auto& o : r->base.apt_options) {
    if (o.empty() || o.find('\n') != std::string::npos)
      m.error_at("apt_options", fmt::format("apt option '{}' must be one non-empty line", o));
  }
  // Two kinds of base: a Debian suite (mmdebstrap: LXC roots, and VM disks built here
  // from the same root plus a kernel) or a downloaded cloud image (VM only).
  const bool cloud = m.has("cloud_image");
  if (r->supports(BackendKind::kLxc) && cloud)
    m.error_at("cloud_image",
               "an lxc recipe's base is a Debian 'suite'; cloud_image is only for vm-only recipes");
  if (!cloud && r->base.suite.empty() && m.valid() && !m.has("suite"))
    m.error_at("suite",
               "the base needs 'suite' (bullseye, bookworm, trixie or sid), or for a vm-only "
               "recipe 'cloud_image' (an https URL)");
  if (cloud && m.has("suite"))
    m.error_at("suite", "give either 'suite' (a Debian root built here) or 'cloud_image', not both");
  if (cloud) {
    if (!r->base.cloud_image.empty() && r->base.cloud_image.rfind("https://", 0) != 0)
      m.error_at("cloud_image",
                 fmt::format("cloud_image '{}' must be an https:// URL", r->base.cloud_image));
    bool has_sum = m.has("sha256"), has_sums = m.has("sha256sums");
    if (has_sum == has_sums)
      m.error_at(has_sum ? "sha256" : "cloud_image",
                 "a cloud_image base needs exactly one of 'sha256' (64 lower-case hex digits) "
                 "or 'sha256sums' (https URL of the release's SHA256SUMS file)");
    if (!r->base.sha256.empty() && !is_hex64(r->base.sha256))
      m.error_at("sha256",
                 fmt::format("sha256 '{}' must be 64 lower-case hex digits", r->base.sha256));
    if (!r->base.sha256sums.empty() && r->base.sha256sums.rfind("https://", 0) != 0)
      m.error_at("sha256sums",
                 fmt::format("sha256sums '{}' must be an https:// URL", r->base.sha256sums));
  } else {
    for (const char* k : {"sha256", "sha256sums"}) {
      if (m.has(k)) m.error_at(k, fmt::format("{} is only for a cloud_image base", k));
    }
  }
  if (cloud && m.has("apt_options"))
    m.error_at("apt_options", "apt_options are only for a Debian 'suite' base (mmdebstrap)");
  m.finish();
}

void read_files(MapReader& top, Recipe* r) {
  for_each_item(
      top.child("files"), top.file(), "'files'", top.diag(), [&](const YAML::Node& n, size_t i) {
        MapReader m(n, top.file(), fmt::format("files[{}]", i), top.diag());
        RecipeFile f;
        std::string mode;
        bool has_content = m.get("content", &f.content);
        bool has_source = m.get("source", &f.source_rel);
        if (m.get("path", &f.path, true) && !valid_image_path(f.path))
          m.error_at("path", fmt::format("file path '{}' must be absolute and normalised", f.path));
        if (m.get("mode", &mode)) {
          static const std::regex re("0?[0-7]{3,4}");
          if (!std::regex_match(mode, re))
            m.error_at("mode", fmt::format("mode '{}' must be octal, e.g. \"0755\"", mode));
          else
            f.mode = static_cast<unsigned>(std::stoul(mode, nullptr, 8));
        }
        m.get("template", &f.template_at_boot);
        if (has_content == has_source && m.valid()) {
          m.error_node(n, fmt::format("files[{}] needs exactly one of 'content' or 'source'", i));
        } else if (has_source) {
          auto p = util::path_inside(r->dir, f.source_rel);
          if (!p) {
            m.error_at("source", p.error().message);
          } else if (std::error_code ec; !fs::is_regular_file(*p, ec)) {
            m.error_at("source", fmt::format("source file {} does not exist", p->string()));
          } else {
            f.source = *p;
          }
        }
        for (const auto& other : r->files) {
          if (other.path == f.path)
            m.error_at("path", fmt::format("file '{}' is listed twice", f.path));
        }
        m.finish();
        r->files.push_back(std::move(f));
      });
}

void read_services(MapReader& top, Recipe* r) {
  for_each_item(top.child("services"), top.file(), "'services'", top.diag(),
                [&](const YAML::Node& n, size_t i) {
                  MapReader m(n, top.file(), fmt::format("services[{}]", i), top.diag());
                  RecipeService s;
                  if (m.get("name", &s.name, true) && !valid_service_name(s.name))
                    m.error_at("name",
                               fmt::format("service name '{}' must be lower-case letters, digits, "
                                           "'-', '_' or '.'",
                                           s.name));
                  m.get("start", &s.start, true);
                  m.get("running", &s.running);
                  if (m.get("log", &s.log)) {
                    if (!valid_image_path(s.log))
                      m.error_at("log", fmt::format("log '{}' must be an absolute path", s.log));
                  } else if (!s.name.empty()) {
                    s.log = "/var/log/testbed/" + s.name + ".log";
                  }
                  for (const auto& other : r->services) {
                    if (other.name == s.name)
                      m.error_at("name", fmt::format("service '{}' is listed twice", s.name));
                  }
                  m.finish();
                  r->services.push_back(std::move(s));
                });
}

void read_health(MapReader& top, Recipe* r) {
  for_each_item(
      top.child("health"), top.file(), "'health'", top.diag(), [&](const YAML::Node& n, size_t i) {
        MapReader m(n, top.file(), fmt::format("health[{}]", i), top.diag());
        RecipeCheck c;
        if (m.get("name", &c.name, true) && !valid_service_name(c.name))
          m.error_at("name", fmt::format("check name '{}' must be lower-case letters, digits, "
                                         "'-', '_' or '.'",
                                         c.name));
        for (const auto& other : r->health) {
          if (!c.name.empty() && other.name == c.name)
            m.error_at("name", fmt::format("check '{}' is listed twice; give each check its own "
                                           "name",
                                           c.name));
        }
        m.get("command", &c.command, true);
        if (m.get("timeout", &c.timeout_s) && (c.timeout_s == 0 || c.timeout_s > 600))
          m.error_at("timeout", fmt::format("timeout {} must be 1..600 seconds", c.timeout_s));
        if (m.get("service", &c.service)) {
          bool found = std::any_of(r->services.begin(), r->services.end(),
                                   [&](const RecipeService& s) { return s.name == c.service; });
          if (!found)
            m.error_at("service", fmt::format("check '{}' names service '{}', which is not "
                                              "in 'services'",
                                              c.name, c.service));
        }
        m.finish();
        r->health.push_back(std::move(c));
      });
}

// A plain file name: looked up in the sources directories, never a path (it must not
// name anything outside them).
bool valid_source_file_name(const std::string& s) {
  static const std::regex re("[A-Za-z0-9][A-Za-z0-9._+-]{0,199}");
  return s.size() <= kMaxRegexInput && std::regex_match(s, re);
}

// An https URL without white space or shell-sensitive quoting; the builder hands it to
// libcurl only.
bool valid_https_url(const std::string& s) {
  static const std::regex re("https://[A-Za-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._~%/+:@=&?-]*");
  return s.size() <= kMaxRegexInput && std::regex_match(s, re);
}

void read_source(MapReader& top, Recipe* r) {
  YAML::Node n = top.child("source");
  if (!n) return;
  MapReader m(n, top.file(), "source", top.diag());
  RecipeSource& src = r->source;
  if (!m.has("tarballs"))
    m.error_at("tarballs",
               "source needs 'tarballs': a list of {file, sha256} (a tarball in a sources "
               "directory) and/or {url, sha256} (an official release tarball)");
  for_each_item(m.child("tarballs"), top.file(), "'source.tarballs'", top.diag(),
                [&](const YAML::Node& item, size_t i) {
                  MapReader t(item, top.file(), fmt::format("source.tarballs[{}]", i), top.diag());
                  SourceTarball tb;
                  bool has_file = t.get("file", &tb.file);
                  bool has_url = t.get("url", &tb.url);
                  if (has_file == has_url && t.valid())
                    t.error_node(item, fmt::format("source.tarballs[{}] needs exactly one of "
                                                   "'file' or 'url'",
                                                   i));
                  if (t.get("sha256", &tb.sha256, true) && !is_hex64(tb.sha256))
                    t.error_at("sha256", fmt::format("sha256 '{}' must be 64 lower-case hex "
                                                     "digits (sha256sum of the tarball)",
                                                     tb.sha256.substr(0, 100)));
                  if (t.get("nmap_version", &tb.nmap_version)) {
                    static const std::regex re("[0-9]+\\.[0-9]+[A-Za-z0-9.]*");
                    if (tb.nmap_version.size() > kMaxRegexInput ||
                        !std::regex_match(tb.nmap_version, re))
                      t.error_at("nmap_version", fmt::format("nmap_version '{}' must look like "
                                                             "\"7.80\"",
                                                             tb.nmap_version.substr(0, 100)));
                  }
                  if (has_url) {
                    if (!valid_https_url(tb.url))
                      t.error_at("url", fmt::format("url '{}' must be an https:// URL of a "
                                                    "tarball (no spaces or quotes)",
                                                    tb.url.substr(0, 200)));
                  }
                  if (has_file) {
                    if (!valid_source_file_name(tb.file))
                      t.error_at("file", fmt::format("file '{}' must be a plain file name (no "
                                                     "directory): it is looked up in the "
                                                     "sources directories",
                                                     tb.file.substr(0, 200)));
                  }
                  t.finish();
                  src.tarballs.push_back(std::move(tb));
                });
  // A `file` tarball this host lacks is no reason to refuse the recipe: every other
  // recipe and experiment still loads, and building this image says where to put the file
  // (backends/source_build.cc, resolve_tarball); an image already built keeps serving.
  for_each_item(m.child("patches"), top.file(), "'source.patches'", top.diag(),
                [&](const YAML::Node& item, size_t i) {
                  if (!item.IsScalar()) {
                    m.error_node(item, fmt::format("source.patches[{}] must be a file path", i));
                    return;
                  }
                  std::string rel = item.as<std::string>();
                  auto p = util::path_inside(r->dir, rel);
                  if (!p) {
                    m.error_node(item, p.error().message);
                  } else if (std::error_code ec; !fs::is_regular_file(*p, ec)) {
                    m.error_node(item, fmt::format("patch file {} does not exist", p->string()));
                  } else {
                    src.patches.push_back(*p);
                    src.patches_rel.push_back(rel);
                  }
                });
  if (m.get("configure", &src.configure)) {
    for (const auto& o : src.configure) {
      if (o.rfind("--", 0) != 0 || o.find_first_of("\n'\"`$\\") != std::string::npos ||
          o.rfind("--prefix", 0) == 0)
        m.error_at("configure", fmt::format("configure option '{}' must be one --option[=value] "
                                            "without quotes, '$' or '`' (--prefix is always "
                                            "/usr)",
                                            o.substr(0, 100)));
    }
  }
  if (m.get("build_packages", &src.build_packages)) {
    for (const auto& p : src.build_packages) {
      if (!valid_package(p))
        m.error_at("build_packages", fmt::format("'{}' is not a Debian package name", p));
    }
  }
  if (m.get("cflags", &src.cflags)) {
    static const std::regex re("[A-Za-z0-9 =_./,+-]*");
    if (src.cflags.size() > kMaxRegexInput || !std::regex_match(src.cflags, re))
      m.error_at("cflags", "cflags must be compiler flags (letters, digits, ' =_./,+-')");
  }
  for_each_item(
      m.child("missing_files"), top.file(), "'source.missing_files'", top.diag(),
      [&](const YAML::Node& item, size_t i) {
        MapReader f(item, top.file(), fmt::format("source.missing_files[{}]", i), top.diag());
        SourceMissingFile mf;
        if (f.get("path", &mf.path, true) && !valid_image_path(mf.path))
          f.error_at("path", fmt::format("path '{}' must be absolute and normalised", mf.path));
        if (f.get("package", &mf.package, true) &&
            std::find(src.build_packages.begin(), src.build_packages.end(), mf.package) ==
                src.build_packages.end())
          f.error_at("package", fmt::format("package '{}' must be one of build_packages (the "
                                            "file is taken from the build root)",
                                            mf.package));
        if (f.get("in_source", &mf.in_source)) {
          auto inside = util::path_inside("/src", mf.in_source);
          if (!inside || mf.in_source.empty() ||
              mf.in_source.find_first_of(" \t\n") != std::string::npos)
            f.error_at("in_source", fmt::format("in_source '{}' must be a relative path inside "
                                                "the source tree, without spaces",
                                                mf.in_source.substr(0, 100)));
        }
        f.finish();
        src.missing_files.push_back(std::move(mf));
      });
  if (r->base.suite.empty() && top.valid())
    m.error_node(n, "a source build needs base.suite: the Debian suite it is compiled in and "
                    "that the image runs");
  m.finish();
}

void read_expect(MapReader& top, Recipe* r) {
  YAML::Node n = top.child("expect");
  if (!n) return;
  MapReader m(n, top.file(), "expect", top.diag());
  if (m.get("nmap_version", &r->expect.nmap_version)) {
    static const std::regex re("[0-9]+\\.[0-9]+[A-Za-z0-9.]*");
    if (r->expect.nmap_version.size() > kMaxRegexInput ||
        !std::regex_match(r->expect.nmap_version, re))
      m.error_at("nmap_version",
                 fmt::format("nmap_version '{}' must look like \"7.80\"", r->expect.nmap_version));
    if (std::find(r->packages.begin(), r->packages.end(), "nmap") == r->packages.end() &&
        r->source.empty())
      m.error_at("nmap_version",
                 "expect.nmap_version needs 'nmap' in packages (or a source: build of it)");
  }
  m.get("packages", &r->expect.packages);
  m.finish();
}

}  // namespace

std::vector<fs::path> source_dirs() {
  std::vector<fs::path> out;
  if (const char* env = std::getenv("TESTBED_SOURCES"); env && *env) {
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      size_t colon = list.find(':', start);
      std::string d = list.substr(start, colon == std::string::npos ? std::string::npos
                                                                    : colon - start);
      if (!d.empty()) out.emplace_back(d);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  out.emplace_back("/var/lib/testbed/sources");
  return out;
}

fs::path find_source_file(const std::string& file_name) {
  if (file_name.empty() || file_name.find('/') != std::string::npos) return {};
  for (const auto& d : source_dirs()) {
    std::error_code ec;
    if (fs::is_regular_file(d / file_name, ec)) return d / file_name;
  }
  return {};
}

bool Recipe::supports(BackendKind backend) const {
  return std::find(backends.begin(), backends.end(), backend) != backends.end();
}

namespace {

util::Result<Recipe> read_recipe(const std::string& text, const fs::path& path) {
  const std::string file = path.string();
  auto node = load_yaml_string(text, file);
  if (!node) return node.error();
  Recipe r;
  r.path = path;
  r.dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  r.text = text;

  Diagnostics diag;
  MapReader top(*node, file, "recipe", &diag);
  if (top.get("name", &r.name, true)) {
    if (!is_image_name(r.name))
      top.error_at(
          "name", fmt::format("name '{}' must be lower-case letters, digits, '.' and '-'", r.name));
    else if (path.stem().string() != r.name)
      top.error_at("name", fmt::format("name '{}' must match the file name ({}.yaml), so "
                                       "`testbed image build {}` finds it",
                                       r.name, r.name, r.name));
  }
  top.get("description", &r.description);
  top.get_enum("role", &r.role, {"scanner", "target", "router", "sensor"}, true);
  std::vector<std::string> backends;
  if (top.get("backends", &backends, true)) {
    for (const auto& b : backends) {
      // `kvm` is the older spelling of `vm` (QEMU with KVM or TCG): one kind inside.
      if (auto kind = parse_backend_kind(b)) {
        if (!r.supports(*kind)) r.backends.push_back(*kind);
        continue;
      }
      std::string hint = nearest(b, {"lxc", "vm", "kvm"});
      top.error_at("backends",
                   fmt::format("backend '{}' must be lxc or vm{}", b,
                               hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
    }
    if (backends.empty()) top.error_at("backends", "backends must name lxc and/or vm");
  }
  read_base(top, &r);
  if (top.get("packages", &r.packages)) {
    for (const auto& p : r.packages) {
      if (!valid_package(p))
        top.error_at("packages", fmt::format("'{}' is not a Debian package name", p));
    }
  }
  read_files(top, &r);
  top.get("build", &r.build);
  read_services(top, &r);
  read_health(top, &r);
  read_source(top, &r);
  read_expect(top, &r);
  top.finish();
  if (auto s = diag.status(); !s) return s.error();
  return r;
}

}  // namespace

util::Result<Recipe> parse_recipe(const std::string& text, const fs::path& path) {
  return guard_loader<Recipe>(path.string(), [&] { return read_recipe(text, path); });
}

util::Result<Recipe> load_recipe(const fs::path& path) {
  auto text = util::read_file(path);
  if (!text)
    return util::fail("{}: cannot read the recipe: {}", path.string(), text.error().message);
  return parse_recipe(*text, path);
}

// Names become directory names in the image cache and file names under images/.
bool is_image_name(const std::string& s) {
  static const std::regex re("[a-z0-9][a-z0-9.-]{0,62}");
  return std::regex_match(s, re);
}

util::Result<Recipe> load_recipe_named(const fs::path& dir, const std::string& name) {
  if (!is_image_name(name)) return util::fail("'{}' is not an image name", name);
  fs::path p = dir / (name + ".yaml");
  if (!fs::exists(p)) {
    std::string hint = nearest(name, recipe_names(dir));
    return util::fail("no recipe '{}' in {}{}", name, dir.string(),
                      hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
  }
  return load_recipe(p);
}

util::Result<std::vector<Recipe>> load_recipe_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return util::fail("recipe directory {} does not exist", dir.string());
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<Recipe> out;
  std::string errors;
  for (const auto& p : paths) {
    auto r = load_recipe(p);
    if (!r) {
      errors += (errors.empty() ? "" : "\n") + r.error().message;
      continue;
    }
    out.push_back(std::move(*r));
  }
  if (!errors.empty()) return util::Error{errors};
  return out;
}

}  // namespace testbed::config
