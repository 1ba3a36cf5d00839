#include "orchestrator/scanners/nmap/result.h"

#include <pugixml.hpp>


namespace testbed::scanners::nmap {
using analysis::ScanResult;
namespace {

// Attribute text as valid UTF-8 (RFC 3629); each invalid byte becomes U+FFFD. Nmap copies
// what targets send (service banners) into product and version strings, and the JSON
// writers (`analyze --json`, report.json) throw on invalid UTF-8.
std::string utf8(const char* s) {
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  while (*p) {
    const unsigned c = *p;
    const int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    bool ok = n >= 0;
    for (int i = 1; ok && i <= n; ++i) ok = (p[i] & 0xc0) == 0x80;  // stops at the NUL
    if (ok && n > 0) {
      uint32_t cp = c & (0x3fu >> n);
      for (int i = 1; i <= n; ++i) cp = cp << 6 | (p[i] & 0x3fu);
      static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};  // shorter = overlong
      ok = cp >= kMin[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
    }
    if (ok) {
      out.append(reinterpret_cast<const char*>(p), size_t(n) + 1);
      p += n + 1;
    } else {
      out += "\xef\xbf\xbd";
      ++p;
    }
  }
  return out;
}

}  // namespace

util::Result<ScanResult> parse_xml(std::string_view text, const std::string& name) {
  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_buffer(text.data(), text.size());
  if (!r)
    return util::fail("cannot read Nmap XML {}: {} at byte {} (is it an `nmap -oX` report?)", name,
                      r.description(), r.offset);
  pugi::xml_node run = doc.child("nmaprun");
  if (!run) return util::fail("{}: no <nmaprun> element; not an Nmap XML report", name);
  ScanResult info;
  info.version = utf8(run.attribute("version").as_string());
  info.args = utf8(run.attribute("args").as_string());
  info.start = run.attribute("start").as_double();
  pugi::xml_node stats = run.child("runstats");
  if (pugi::xml_node fin = stats.child("finished")) {
    info.finished = true;
    info.end = fin.attribute("time").as_double();
    info.elapsed = fin.attribute("elapsed").as_double();
  }
  if (pugi::xml_node hosts = stats.child("hosts")) {
    info.hosts_up = hosts.attribute("up").as_int();
    info.hosts_down = hosts.attribute("down").as_int();
    info.hosts_total = hosts.attribute("total").as_int();
  }
  for (pugi::xml_node host : run.children("host")) {
    std::string addr;
    for (pugi::xml_node a : host.children("address"))
      if (std::string_view(a.attribute("addrtype").as_string()) != "mac") {
        addr = utf8(a.attribute("addr").as_string());
        break;
      }
    for (pugi::xml_node port : host.child("ports").children("port")) {
      if (std::string_view(port.child("state").attribute("state").as_string()) != "open") continue;
      std::string s = addr + " " + utf8(port.attribute("portid").as_string()) + "/" +
                      utf8(port.attribute("protocol").as_string());
      pugi::xml_node svc = port.child("service");
      if (svc) {
        s += " " + utf8(svc.attribute("name").as_string());
        std::string prod = utf8(svc.attribute("product").as_string());
        std::string ver = utf8(svc.attribute("version").as_string());
        if (!prod.empty()) s += " " + prod;
        if (!ver.empty()) s += " " + ver;
      }
      info.open_ports.push_back(std::move(s));
    }
  }
  return info;
}

}  // namespace testbed::scanners::nmap
