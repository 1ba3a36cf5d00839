#pragma once
// libvirt XML generation: pure functions of the specs (no hypervisor), golden-tested in
// tests/virt/golden/ and validated with virt-xml-validate.
#include <optional>
#include <pugixml.hpp>
#include <string>

#include "orchestrator/virt/backend.h"

namespace testbed::virt {

/// Domain XML for one backend (backends/lxc/xml.h, backends/vm/xml.h).
class XmlGenerator {
 public:
  virtual ~XmlGenerator() = default;
  virtual std::string domain_xml(const NodeSpec& spec) const = 0;
  /// Network XML is the same for every backend; overridable all the same.
  virtual std::string network_xml(const NetworkSpec& spec) const;
};

/// The isolated network XML (see NetworkSpec).
std::string make_network_xml(const NetworkSpec& spec);

/// The testbed <metadata> block every lab object carries (gc finds objects by it); each
/// backend's domain XML appends it with this, so parse_object_meta reads them all alike.
void append_object_meta(pugi::xml_node parent, const ObjectMeta& meta);
/// A document as libvirt gets it: two-space indent, no XML declaration.
std::string xml_to_string(const pugi::xml_document& doc);

/// Reads testbed metadata from a domain or network XML; nullopt when absent.
std::optional<ObjectMeta> parse_object_meta(const std::string& xml);

/// A deterministic locally administered MAC (52:54:00 would be QEMU's OUI; we use
/// 02:tb:..) from a seed string.
std::string make_mac(const std::string& seed);

}  // namespace testbed::virt
