#include "orchestrator/backends/vm/xml.h"

#include <pugixml.hpp>
#include <sstream>

namespace testbed::backends::vm {
using namespace testbed::virt;  // the libvirt primitives every backend builds on
using virt::NodeSpec;
using virt::NetworkSpec;
using virt::make_network_xml;
using virt::ObjectMeta;
using virt::parse_object_meta;

namespace {

std::string to_string(const pugi::xml_document& doc) {
  std::ostringstream os;
  doc.save(os, "  ", pugi::format_indent | pugi::format_no_declaration);
  return os.str();
}

// The testbed <metadata> block exactly as the shared generator writes it (xml.cc keeps
// its writer private): taken from a network document made for the same ObjectMeta, so
// gc's parse_object_meta reads KVM and LXC objects alike.
void copy_metadata(pugi::xml_node dom, const ObjectMeta& meta) {
  NetworkSpec carrier;
  carrier.meta = meta;
  pugi::xml_document net;
  net.load_string(make_network_xml(carrier).c_str());
  dom.append_copy(net.document_element().child("metadata"));
}

// <disk type='file'> with a qemu driver of `format`, `source` as its file, `dev` on `bus`.
pugi::xml_node append_disk(pugi::xml_node devices, const char* device, const char* format,
                           const std::string& source, const char* dev, const char* bus,
                           bool readonly) {
  auto disk = devices.append_child("disk");
  disk.append_attribute("type") = "file";
  disk.append_attribute("device") = device;
  auto drv = disk.append_child("driver");
  drv.append_attribute("name") = "qemu";
  drv.append_attribute("type") = format;
  disk.append_child("source").append_attribute("file") = source.c_str();
  auto tgt = disk.append_child("target");
  tgt.append_attribute("dev") = dev;
  tgt.append_attribute("bus") = bus;
  if (readonly) disk.append_child("readonly");
  return disk;
}

}  // namespace

VmXmlOptions vm_xml_options_for_test_driver() {
  VmXmlOptions o;
  o.domain_type = "test";
  o.arch = "i686";
  o.machine.clear();
  return o;
}

bool is_qemu_uri(const std::string& uri) { return uri.rfind("qemu", 0) == 0; }

std::string VmXml::domain_xml(const NodeSpec& spec) const {
  pugi::xml_document doc;
  auto dom = doc.append_child("domain");
  dom.append_attribute("type") = opts_.domain_type.c_str();
  dom.append_child("name").text() = spec.name.c_str();
  if (!spec.title.empty()) dom.append_child("title").text() = spec.title.c_str();
  copy_metadata(dom, spec.meta);
  auto mem = dom.append_child("memory");
  mem.append_attribute("unit") = "MiB";
  mem.text() = std::to_string(spec.memory_mib).c_str();
  dom.append_child("vcpu").text() = std::to_string(opts_.vcpus).c_str();
  auto os = dom.append_child("os");
  auto type = os.append_child("type");
  type.append_attribute("arch") = opts_.arch.c_str();
  if (!opts_.machine.empty()) type.append_attribute("machine") = opts_.machine.c_str();
  type.text() = "hvm";
  if (!spec.kernel.empty()) {
    // Direct kernel boot with the image's own kernel and initrd: no bootloader, and the
    // node's init is testbed's (vm_boot.h).
    os.append_child("kernel").text() = spec.kernel.c_str();
    if (!spec.initrd.empty()) os.append_child("initrd").text() = spec.initrd.c_str();
    if (!spec.cmdline.empty()) os.append_child("cmdline").text() = spec.cmdline.c_str();
  } else {
    os.append_child("boot").append_attribute("dev") = "hd";
  }
  auto features = dom.append_child("features");
  features.append_child("acpi");
  features.append_child("apic");
  if (opts_.domain_type == "kvm")
    dom.append_child("cpu").append_attribute("mode") = "host-passthrough";
  // The guest clock starts from the host's UTC (phase timing compares both).
  if (opts_.domain_type != "test") dom.append_child("clock").append_attribute("offset") = "utc";
  // A guest reboot (cloud-init may ask for one) restarts it; power-off ends it.
  dom.append_child("on_poweroff").text() = "destroy";
  dom.append_child("on_reboot").text() = "restart";
  dom.append_child("on_crash").text() = "destroy";
  auto dev = dom.append_child("devices");

  auto disk = append_disk(dev, "disk", "qcow2", spec.disk_path, "vda", "virtio", false);
  disk.child("driver").append_attribute("discard") = "unmap";
  // The node's files (init, addresses, keys) as a tar archive on a raw read-only disk:
  // the node's init unpacks /dev/vdb over its root before anything else.
  if (!spec.config_disk_path.empty())
    append_disk(dev, "disk", "raw", spec.config_disk_path, "vdb", "virtio", true);
  if (!spec.seed_path.empty()) append_disk(dev, "cdrom", "raw", spec.seed_path, "sda", "sata", true);

  for (const auto& i : spec.interfaces) {
    auto in = dev.append_child("interface");
    in.append_attribute("type") = "network";
    if (!i.mac.empty()) in.append_child("mac").append_attribute("address") = i.mac.c_str();
    in.append_child("source").append_attribute("network") = i.network.c_str();
    // Explicit tap name: the capture opens the router's scan tap by this name.
    in.append_child("target").append_attribute("dev") = i.host_dev.c_str();
    in.append_child("model").append_attribute("type") = "virtio";
  }
  // Serial console: `virsh console` and boot logs without any network; with
  // spec.console_log also copied to that file, for the error when a node does not come up.
  auto serial = dev.append_child("serial");
  serial.append_attribute("type") = "pty";
  if (!spec.console_log.empty()) {
    auto log = serial.append_child("log");
    log.append_attribute("file") = spec.console_log.c_str();
    log.append_attribute("append") = "off";
  }
  serial.append_child("target").append_attribute("port") = "0";
  auto console = dev.append_child("console");
  console.append_attribute("type") = "pty";
  auto ctgt = console.append_child("target");
  ctgt.append_attribute("type") = "serial";
  ctgt.append_attribute("port") = "0";
  if (opts_.domain_type != "test") {
    // No USB, no balloon: nothing a lab node uses, and less for TCG to emulate at boot.
    auto usb = dev.append_child("controller");
    usb.append_attribute("type") = "usb";
    usb.append_attribute("model") = "none";
    dev.append_child("memballoon").append_attribute("model") = "none";
  }
  if (opts_.rng) {
    auto rng = dev.append_child("rng");
    rng.append_attribute("model") = "virtio";
    auto be = rng.append_child("backend");
    be.append_attribute("model") = "random";
    be.text() = "/dev/urandom";
  }
  if (opts_.domain_type != "test") {
    // QEMU runs as root, without relabelling: node disks live in the lab's root-only
    // (0700) state dir and the image cache, which libvirt's DAC driver would otherwise
    // need to open up to its unprivileged QEMU user.
    auto sec = dom.append_child("seclabel");
    sec.append_attribute("type") = "static";
    sec.append_attribute("model") = "dac";
    sec.append_attribute("relabel") = "no";
    sec.append_child("label").text() = "+0:+0";
  }
  return to_string(doc);
}

}  // namespace testbed::backends::vm
