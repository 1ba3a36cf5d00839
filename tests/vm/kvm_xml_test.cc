// KVM domain XML and the shared network XML: golden files, libvirt's own schema
// (virt-xml-validate), the safety rules, and the full lifecycle on test:///default.
#include "orchestrator/backends/vm/xml.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/backends/vm/backend.h"
#include "orchestrator/backends/vm/storage.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/naming.h"
#include "tests/vm/golden.h"

namespace testbed::virt {
using backends::vm::VmStorage;
using backends::vm::VmXml;
using backends::vm::VmXmlOptions;
using backends::vm::cpu_has_virtualisation;
using backends::vm::kvm_usable;
using backends::vm::make_vm_backend;
using backends::vm::resolve_accel;
using backends::vm::vm_xml_options_for_test_driver;
namespace {

ObjectMeta meta() { return {"study", 4242, 1764000000, "/var/lib/testbed/labs/study"}; }

NodeSpec router_spec() {
  NodeSpec s;
  s.name = domain_name("study", "router");
  s.memory_mib = 1024;
  s.meta = meta();
  s.disk_path = "/var/lib/testbed/labs/study/nodes/router/disk.qcow2";
  s.seed_path = "/var/lib/testbed/labs/study/nodes/router/seed.iso";
  auto devs = veth_names("study", {"router"}, {3});
  const char* nets[] = {"mgmt", "scan", "targets"};
  for (int i = 0; i < 3; ++i)
    s.interfaces.push_back({network_name("study", nets[i]), devs[0][i], nets[i],
                            make_mac(std::string("study/router/") + nets[i])});
  return s;
}

NetworkSpec net_spec(const std::string& net, bool mgmt) {
  NetworkSpec n;
  n.name = network_name("study", net);
  n.bridge = bridge_name("study", net);
  if (mgmt) n.host_address = 0x0AFF0001;  // 10.255.0.1
  n.meta = meta();
  return n;
}

void expect_valid(const std::string& xml, const std::string& kind) {
  auto dir = util::TempDir::create("kvm-xml");
  ASSERT_TRUE(dir);
  auto f = dir->path() / (kind + ".xml");
  ASSERT_TRUE(util::write_file_atomic(f, xml));
  auto r = util::run_process({"virt-xml-validate", f.string(), kind});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err << xml;
}

TEST(VmXml, RouterDomainMatchesGoldenAndLibvirtSchema) {
  std::string xml = VmXml().domain_xml(router_spec());
  kvm_test::expect_golden("router.domain.xml", xml);
  expect_valid(xml, "domain");
}

// An image built here under TCG: direct kernel boot with testbed's init, the node's
// config disk, the console kept in a file; QEMU as root without relabelling.
TEST(VmXml, TcgKernelBootRouterMatchesGoldenAndLibvirtSchema) {
  NodeSpec spec = router_spec();
  spec.seed_path.clear();
  const std::string img = "/var/lib/testbed/images/router/0123456789abcdef/";
  spec.kernel = img + "vmlinuz";
  spec.initrd = img + "initrd.img";
  spec.cmdline = "console=ttyS0 root=/dev/vda rw init=/testbed/vm-init";
  spec.config_disk_path = "/var/lib/testbed/labs/study/nodes/router/config.tar";
  spec.console_log = "/var/lib/testbed/labs/study/nodes/router/console.log";
  spec.title = "testbed lab study: router router (router)";
  VmXmlOptions o;
  o.domain_type = "qemu";
  std::string xml = VmXml(o).domain_xml(spec);
  kvm_test::expect_golden("router.tcg-kernel.domain.xml", xml);
  expect_valid(xml, "domain");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str()));
  auto dom = doc.child("domain");
  EXPECT_STREQ(dom.attribute("type").value(), "qemu");
  EXPECT_FALSE(dom.child("cpu")) << "no host-passthrough under TCG";
  EXPECT_EQ(spec.kernel, dom.child("os").child("kernel").text().get());
  EXPECT_FALSE(dom.child("os").child("boot"));
  auto cfg = dom.child("devices").find_child_by_attribute("disk", "device", "disk").next_sibling();
  EXPECT_EQ(spec.config_disk_path, cfg.child("source").attribute("file").value());
  EXPECT_STREQ(cfg.child("target").attribute("dev").value(), "vdb");
  EXPECT_TRUE(cfg.child("readonly"));
  EXPECT_EQ(spec.console_log,
            dom.child("devices").child("serial").child("log").attribute("file").value());
  EXPECT_STREQ(dom.child("seclabel").child("label").text().get(), "+0:+0");
}

TEST(VmXml, DomainHasOverlaySeedVirtioTapsSerialAndMetadata) {
  auto spec = router_spec();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(VmXml().domain_xml(spec).c_str()));
  auto dom = doc.child("domain");
  EXPECT_STREQ(dom.attribute("type").value(), "kvm");
  auto disk = dom.child("devices").find_child_by_attribute("disk", "device", "disk");
  EXPECT_STREQ(disk.child("driver").attribute("type").value(), "qcow2");
  EXPECT_STREQ(disk.child("target").attribute("bus").value(), "virtio");
  EXPECT_EQ(spec.disk_path, disk.child("source").attribute("file").value());
  auto cd = dom.child("devices").find_child_by_attribute("disk", "device", "cdrom");
  EXPECT_EQ(spec.seed_path, cd.child("source").attribute("file").value());
  EXPECT_TRUE(cd.child("readonly"));
  size_t k = 0;
  for (auto in : dom.child("devices").children("interface")) {
    ASSERT_LT(k, spec.interfaces.size());
    std::string tap = in.child("target").attribute("dev").value();
    EXPECT_EQ(tap, spec.interfaces[k].host_dev);
    EXPECT_LE(tap.size(), 15u);
    EXPECT_STREQ(in.child("model").attribute("type").value(), "virtio");
    EXPECT_EQ(spec.interfaces[k].mac, in.child("mac").attribute("address").value());
    ++k;
  }
  EXPECT_EQ(k, 3u);
  EXPECT_TRUE(dom.child("devices").child("serial"));
  auto m = parse_object_meta(VmXml().domain_xml(spec));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->lab, "study");
  EXPECT_EQ(m->owner_pid, 4242);
  EXPECT_EQ(m->state_dir, meta().state_dir);
}

TEST(VmXml, NetworksAreIsolatedAndOnlyMgmtHasAHostAddress) {
  VmXml gen;
  for (auto [net, mgmt] : {std::pair{"mgmt", true}, {"scan", false}, {"targets", false}}) {
    std::string xml = gen.network_xml(net_spec(net, mgmt));
    kvm_test::expect_golden(std::string(net) + ".network.xml", xml);
    expect_valid(xml, "network");
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(xml.c_str()));
    EXPECT_FALSE(doc.child("network").child("forward")) << xml;
    EXPECT_EQ(bool(doc.child("network").child("ip")), mgmt) << xml;
    EXPECT_FALSE(doc.child("network").child("ip").child("dhcp")) << xml;
  }
}

TEST(VmXml, LifecycleOnTheTestDriver) {
  auto b = LibvirtBackend::connect("test:///default",
                                   std::make_unique<VmXml>(vm_xml_options_for_test_driver()));
  ASSERT_TRUE(b) << b.error().message;
  auto& be = **b;
  for (auto [net, mgmt] : {std::pair{"mgmt", true}, {"scan", false}, {"targets", false}}) {
    auto s = be.create_network(net_spec(net, mgmt));
    ASSERT_TRUE(s) << s.error().message;
  }
  auto spec = router_spec();
  auto s = be.create_node(spec);
  ASSERT_TRUE(s) << s.error().message << "\n" << be.domain_xml(spec);
  auto running = be.node_running(spec.name);
  ASSERT_TRUE(running);
  EXPECT_TRUE(*running);
  auto objs = be.list_objects();
  ASSERT_TRUE(objs) << objs.error().message;
  size_t ours = 0;
  for (const auto& o : *objs) ours += o.meta.lab == "study";
  EXPECT_EQ(ours, 4u);  // 3 networks + the router, all found by gc's metadata scan
  ASSERT_TRUE(be.stop_node(spec.name));
  EXPECT_FALSE(*be.node_running(spec.name));
  ASSERT_TRUE(be.start_node(spec.name));  // reset = new overlay + start the definition
  EXPECT_TRUE(*be.node_running(spec.name));
  ASSERT_TRUE(be.remove_node(spec.name));
  ASSERT_TRUE(be.remove_node(spec.name));  // idempotent
  for (const char* net : {"mgmt", "scan", "targets"})
    ASSERT_TRUE(be.remove_network(network_name("study", net)));
  objs = be.list_objects();
  ASSERT_TRUE(objs);
  for (const auto& o : *objs) EXPECT_NE(o.meta.lab, "study") << o.name;
}

}  // namespace
}  // namespace testbed::virt

namespace testbed::virt {
namespace {

TEST(VmBackend, AccelResolution) {
  // No usable /dev/kvm: auto falls back to TCG, an explicit kvm fails saying what to do.
  auto a = resolve_accel("qemu:///system", "auto", "/nonexistent/kvm");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, "tcg");
  auto k = resolve_accel("qemu:///system", "kvm", "/nonexistent/kvm");
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("/nonexistent/kvm"), std::string::npos);
  EXPECT_NE(k.error().message.find("accel: tcg"), std::string::npos);
  // A device node that is not KVM (/dev/null opens, but answers no KVM ioctl).
  EXPECT_FALSE(kvm_usable("/dev/null"));
  EXPECT_EQ(*resolve_accel("qemu:///system", "auto", "/dev/null"), "tcg");
  EXPECT_EQ(*resolve_accel("qemu:///system", "tcg", "/dev/null"), "tcg");
  // A remote host decides for itself (its libvirt refuses kvm when it cannot).
  EXPECT_EQ(*resolve_accel("qemu+ssh://lab1/system", "auto", "/nonexistent/kvm"), "kvm");
  EXPECT_FALSE(resolve_accel("qemu:///system", "fast", "/dev/null"));
  // The CPU must advertise hardware virtualisation (this host's /dev/kvm runs a halting
  // guest, yet no real one: its CPU has neither flag).
  EXPECT_TRUE(cpu_has_virtualisation("processor: 0\nflags\t\t: fpu vme sse2 vmx ept\n"));
  EXPECT_TRUE(cpu_has_virtualisation("flags : fpu svm npt\n"));
  EXPECT_FALSE(cpu_has_virtualisation("flags : fpu vme hypervisor avx512f\n"));
  EXPECT_FALSE(cpu_has_virtualisation("flags : vmxon_like_word\n"));
  EXPECT_FALSE(cpu_has_virtualisation(""));
  // auto on this host agrees with the probe.
  EXPECT_EQ(*resolve_accel("qemu:///system", "auto"), kvm_usable() ? "kvm" : "tcg");
}

TEST(VmBackend, DomainTypeFollowsAccel) {
  VmXmlOptions o;
  o.domain_type = "qemu";
  NodeSpec s;
  s.name = "tb-accel-node";
  s.disk_path = "/x.qcow2";
  std::string tcg = VmXml(o).domain_xml(s);
  EXPECT_NE(tcg.find("<domain type=\"qemu\">"), std::string::npos) << tcg;
  EXPECT_EQ(tcg.find("host-passthrough"), std::string::npos);
  o.domain_type = "kvm";
  std::string kvm = VmXml(o).domain_xml(s);
  EXPECT_NE(kvm.find("<domain type=\"kvm\">"), std::string::npos) << kvm;
  EXPECT_NE(kvm.find("host-passthrough"), std::string::npos);
}

TEST(KvmBackend, PartsOnTheTestDriver) {
  auto parts = make_vm_backend("test:///default", vm_xml_options_for_test_driver());
  ASSERT_TRUE(parts) << parts.error().message;
  EXPECT_NE(dynamic_cast<VmStorage*>(parts->storage.get()), nullptr);
  NodeSpec s;
  s.name = "tb-parts-node";
  s.disk_path = "/x.qcow2";
  EXPECT_NE(parts->backend->domain_xml(s).find("qcow2"), std::string::npos);
}

}  // namespace
}  // namespace testbed::virt
