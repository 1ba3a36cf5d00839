#include "orchestrator/report/scanner_build.h"

#include <fmt/format.h>

#include <sstream>

#include "orchestrator/scanners/registry.h"

namespace testbed::report {
using nlohmann::json;
namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

std::string short_sha(const std::string& s) { return s.size() > 12 ? s.substr(0, 12) + "…" : s; }

}  // namespace

json scanner_build(const json& m) {
  if (!m.is_object() || !m.contains("images") || !m["images"].is_object()) return nullptr;
  for (const auto& [node, im] : m["images"].items()) {
    if (!im.is_object() || str(im, "role") != "scanner") continue;
    if (im.contains("source") && im["source"].is_object()) {
      json j = im["source"];
      j["kind"] = "source";
      return j;
    }
    // The kind's Debian package (nmap, masscan, zmap): what the run's manifest records.
    const std::string kind_name = str(m, "scanner_kind");
    const scanners::Kind* kind = kind_name.empty() ? nullptr : scanners::find_kind(kind_name);
    const std::string package(kind ? kind->package : "nmap");
    json j = {{"kind", "package"}, {"package", package}};
    if (im.contains("packages") && im["packages"].is_object() && im["packages"].contains(package))
      j["version"] = im["packages"][package];
    if (im.contains("base") && im["base"].is_object()) j["suite"] = str(im["base"], "suite");
    return j;
  }
  return nullptr;
}

json scanner_build(const results::Manifest& m) {
  return scanner_build(json{{"images", m.images}, {"scanner_kind", m.scanner_kind}});
}

std::string scanner_build_summary(const json& b) {
  if (!b.is_object()) return "unknown";
  if (str(b, "kind") == "package")
    return fmt::format("Debian package {} {}{}", str(b, "package"), str(b, "version"),
                       str(b, "suite").empty() ? "" : " (" + str(b, "suite") + ")");
  std::string s = "source ";
  const json& t = b.value("tarball", json::object());
  s += !str(t, "file").empty() ? str(t, "file") : str(t, "url");
  s += " (sha256 " + short_sha(str(t, "sha256")) + ")";
  if (b.contains("patches") && b["patches"].is_array() && !b["patches"].empty()) {
    s += ", patches";
    for (const auto& p : b["patches"])
      s += " " + str(p, "path") + " (sha256 " + short_sha(str(p, "sha256")) + ")";
  } else {
    s += ", no patches";
  }
  if (!str(b, "compiler").empty()) s += ", " + str(b, "compiler");
  const json& root = b.value("build_root", json::object());
  if (!str(root, "suite").empty()) s += ", " + str(root, "suite") + " " + str(root, "variant");
  if (b.contains("missing_files") && b["missing_files"].is_array()) {
    for (const auto& f : b["missing_files"]) {
      std::string path = str(f, "path");
      std::string name = path.substr(path.rfind('/') + 1);
      if (str(f, "origin") == "package")
        s += "; " + name + " from " + str(f, "package") + " " + str(f, "package_version");
      else
        s += "; " + name + " from the source";
    }
  }
  return s;
}

std::string compiled_with(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Compiled with:", 0) == 0) return line;
  }
  return "";
}

}  // namespace testbed::report
