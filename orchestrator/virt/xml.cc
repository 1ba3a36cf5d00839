#include "orchestrator/virt/xml.h"

#include <fmt/format.h>

#include <pugixml.hpp>
#include <sstream>

#include "orchestrator/util/hash.h"
#include "orchestrator/util/ipv4.h"

namespace testbed::virt {

std::string xml_to_string(const pugi::xml_document& doc) {
  std::ostringstream os;
  doc.save(os, "  ", pugi::format_indent | pugi::format_no_declaration);
  return os.str();
}

void append_object_meta(pugi::xml_node parent, const ObjectMeta& m) {
  auto md = parent.append_child("metadata");
  auto lab = md.append_child(fmt::format("{}:lab", kMetadataPrefix).c_str());
  lab.append_attribute(fmt::format("xmlns:{}", kMetadataPrefix).c_str()) = kMetadataUri;
  lab.append_attribute("name") = m.lab.c_str();
  lab.append_attribute("owner-pid") = std::to_string(m.owner_pid).c_str();
  lab.append_attribute("created") = std::to_string(m.created).c_str();
  lab.append_attribute("state-dir") = m.state_dir.c_str();
}

std::string XmlGenerator::network_xml(const NetworkSpec& spec) const {
  return make_network_xml(spec);
}

std::string make_network_xml(const NetworkSpec& spec) {
  pugi::xml_document doc;
  auto net = doc.append_child("network");
  net.append_child("name").text() = spec.name.c_str();
  append_object_meta(net, spec.meta);
  // Safety: no <forward> element at all = an isolated network (no NAT, no routing).
  auto br = net.append_child("bridge");
  br.append_attribute("name") = spec.bridge.c_str();
  br.append_attribute("stp") = "off";
  br.append_attribute("delay") = "0";
  if (!spec.mac.empty()) net.append_child("mac").append_attribute("address") = spec.mac.c_str();
  if (spec.host_address) {
    // libvirt starts dnsmasq for a network with an <ip>; <dns enable='no'> and no <dhcp>
    // keep it from serving anything, so nothing leaks between host and lab.
    net.append_child("dns").append_attribute("enable") = "no";
    auto ip = net.append_child("ip");
    ip.append_attribute("address") = util::format_ipv4(*spec.host_address).c_str();
    ip.append_attribute("prefix") = std::to_string(spec.prefix).c_str();
  }
  return xml_to_string(doc);
}

std::optional<ObjectMeta> parse_object_meta(const std::string& xml) {
  pugi::xml_document doc;
  if (!doc.load_string(xml.c_str())) return std::nullopt;
  auto root = doc.document_element();
  for (auto child : root.child("metadata").children()) {
    // Match by namespace URI, whatever prefix libvirt chose to keep.
    std::string name = child.name();
    auto colon = name.find(':');
    std::string prefix = colon == std::string::npos ? "" : name.substr(0, colon);
    std::string local = colon == std::string::npos ? name : name.substr(colon + 1);
    std::string ns =
        child.attribute(prefix.empty() ? "xmlns" : ("xmlns:" + prefix).c_str()).as_string();
    if (ns != kMetadataUri || local != "lab") continue;
    ObjectMeta m;
    m.lab = child.attribute("name").as_string();
    m.owner_pid = child.attribute("owner-pid").as_llong();
    m.created = child.attribute("created").as_llong();
    m.state_dir = child.attribute("state-dir").as_string();
    return m;
  }
  return std::nullopt;
}

std::string make_mac(const std::string& seed) {
  std::string h = util::sha256_hex(seed);
  return fmt::format("02:7b:{}:{}:{}:{}", h.substr(0, 2), h.substr(2, 2), h.substr(4, 2),
                     h.substr(6, 2));
}

}  // namespace testbed::virt
