#include "orchestrator/analysis/nmap_xml.h"

#include <pugixml.hpp>

namespace testbed::analysis {

util::Result<NmapRunInfo> read_nmap_xml(const std::filesystem::path& path) {
  pugi::xml_document doc;
  pugi::xml_parse_result r = doc.load_file(path.c_str());
  if (!r)
    return util::fail("cannot read Nmap XML {}: {} at byte {} (is it an `nmap -oX` report?)",
                      path.string(), r.description(), r.offset);
  pugi::xml_node run = doc.child("nmaprun");
  if (!run) return util::fail("{}: no <nmaprun> element; not an Nmap XML report", path.string());
  NmapRunInfo info;
  info.version = run.attribute("version").as_string();
  info.args = run.attribute("args").as_string();
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
        addr = a.attribute("addr").as_string();
        break;
      }
    for (pugi::xml_node port : host.child("ports").children("port")) {
      if (std::string_view(port.child("state").attribute("state").as_string()) != "open") continue;
      std::string s = addr + " " + port.attribute("portid").as_string() + "/" +
                      port.attribute("protocol").as_string();
      pugi::xml_node svc = port.child("service");
      if (svc) {
        s += std::string(" ") + svc.attribute("name").as_string();
        std::string prod = svc.attribute("product").as_string();
        std::string ver = svc.attribute("version").as_string();
        if (!prod.empty()) s += " " + prod;
        if (!ver.empty()) s += " " + ver;
      }
      info.open_ports.push_back(std::move(s));
    }
  }
  return info;
}

}  // namespace testbed::analysis
