#pragma once
// libvirt XML for KVM nodes (qemu:///system, qemu+ssh://host/system): a VM with the
// node's qcow2 overlay as a virtio disk, its NoCloud seed ISO as a read-only CD-ROM,
// virtio NICs on the lab networks with explicit host-side tap names (<target dev>, so the
// router's scan tap is captured from the host exactly as the LXC veth is) and a serial
// console. Networks are the shared isolated network XML (xml.h). Golden-tested in
// tests/vm/golden/, validated with virt-xml-validate.
#include <string>

#include "orchestrator/virt/xml.h"

namespace testbed::backends::vm {
using virt::NodeSpec;
using virt::XmlGenerator;

struct VmXmlOptions {
  std::string domain_type = "kvm";  ///< "test" for libvirt's test:///default driver
  std::string arch = "x86_64";      ///< test:///default only knows i686
  std::string machine = "q35";      ///< empty: the hypervisor's default
  int vcpus = 1;
  /// virtio-rng from /dev/urandom: fresh guests have no entropy for sshd and TLS.
  bool rng = true;
};

/// The options that libvirt's test driver accepts (unit tests of the lifecycle).
VmXmlOptions vm_xml_options_for_test_driver();

class VmXml : public XmlGenerator {
 public:
  explicit VmXml(VmXmlOptions opts = {}) : opts_(std::move(opts)) {}
  /// Needs spec.disk_path (qcow2 overlay) and spec.seed_path (NoCloud ISO; omitted when
  /// empty); spec.root_dir / spec.init are LXC-only and ignored. NICs keep spec order
  /// (mgmt first), MACs are what the seed's network-config matches on.
  std::string domain_xml(const NodeSpec& spec) const override;

 private:
  VmXmlOptions opts_;
};

/// True for URIs whose driver is QEMU/KVM (qemu:///system, qemu+ssh://h/system, ...).
bool is_qemu_uri(const std::string& uri);

}  // namespace testbed::backends::vm
