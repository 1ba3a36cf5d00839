#pragma once
// libvirt XML generation: pure functions of the specs (no hypervisor), golden-tested in
// tests/virt/golden/ and validated with virt-xml-validate.
#include <optional>
#include <string>

#include "orchestrator/virt/backend.h"

namespace testbed::virt {

/// Domain XML for one backend. A KVM generator (qemu:///system) implements this too.
class XmlGenerator {
 public:
  virtual ~XmlGenerator() = default;
  virtual std::string domain_xml(const NodeSpec& spec) const = 0;
  /// Network XML is the same for every backend; overridable all the same.
  virtual std::string network_xml(const NetworkSpec& spec) const;
};

/// LXC containers: <filesystem type='mount'> root, <init> argv, veth interfaces with
/// explicit <target dev> (host side) and <guest dev> (container side) names.
class LxcXml : public XmlGenerator {
 public:
  std::string domain_xml(const NodeSpec& spec) const override;
};

/// The isolated network XML (see NetworkSpec).
std::string make_network_xml(const NetworkSpec& spec);

/// Reads testbed metadata from a domain or network XML; nullopt when absent.
std::optional<ObjectMeta> parse_object_meta(const std::string& xml);

/// A deterministic locally administered MAC (52:54:00 would be QEMU's OUI; we use
/// 02:tb:..) from a seed string.
std::string make_mac(const std::string& seed);

}  // namespace testbed::virt
