#pragma once
// libvirt XML for LXC nodes (lxc:///system): a container whose root is the node's overlay
// mount, with testbed's init as PID 1 and veth interfaces named on both sides. Networks
// are the shared isolated network XML (virt/xml.h). Golden-tested in tests/virt/golden/,
// validated with virt-xml-validate.
#include <string>

#include "orchestrator/virt/xml.h"

namespace testbed::backends::lxc {

/// LXC containers: <filesystem type='mount'> root, <init> argv, veth interfaces with
/// explicit <target dev> (host side) and <guest dev> (container side) names.
class LxcXml : public virt::XmlGenerator {
 public:
  std::string domain_xml(const virt::NodeSpec& spec) const override;
};

}  // namespace testbed::backends::lxc
