#include "orchestrator/backends/lxc/xml.h"

#include <pugixml.hpp>

namespace testbed::backends::lxc {
using namespace testbed::virt;  // the libvirt primitives every backend builds on
using virt::NodeSpec;

std::string LxcXml::domain_xml(const NodeSpec& spec) const {
  pugi::xml_document doc;
  auto dom = doc.append_child("domain");
  dom.append_attribute("type") = "lxc";
  dom.append_child("name").text() = spec.name.c_str();
  virt::append_object_meta(dom, spec.meta);
  auto mem = dom.append_child("memory");
  mem.append_attribute("unit") = "MiB";
  mem.text() = std::to_string(spec.memory_mib).c_str();
  dom.append_child("vcpu").text() = "1";
  auto os = dom.append_child("os");
  os.append_child("type").text() = "exe";
  if (!spec.init.empty()) {
    os.append_child("init").text() = spec.init[0].c_str();
    for (size_t i = 1; i < spec.init.size(); ++i)
      os.append_child("initarg").text() = spec.init[i].c_str();
  }
  dom.append_child("on_poweroff").text() = "destroy";
  dom.append_child("on_reboot").text() = "destroy";
  dom.append_child("on_crash").text() = "destroy";
  auto dev = dom.append_child("devices");
  auto fs = dev.append_child("filesystem");
  fs.append_attribute("type") = "mount";
  fs.append_child("source").append_attribute("dir") = spec.root_dir.c_str();
  fs.append_child("target").append_attribute("dir") = "/";
  for (const auto& i : spec.interfaces) {
    auto in = dev.append_child("interface");
    in.append_attribute("type") = "network";
    in.append_child("source").append_attribute("network") = i.network.c_str();
    if (!i.mac.empty()) in.append_child("mac").append_attribute("address") = i.mac.c_str();
    in.append_child("target").append_attribute("dev") = i.host_dev.c_str();
    if (!i.guest_dev.empty())
      in.append_child("guest").append_attribute("dev") = i.guest_dev.c_str();
  }
  dev.append_child("console").append_attribute("type") = "pty";
  return virt::xml_to_string(doc);
}

}  // namespace testbed::backends::lxc
