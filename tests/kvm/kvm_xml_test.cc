// KVM domain XML and the shared network XML: golden files, libvirt's own schema
// (virt-xml-validate), the safety rules, and the full lifecycle on test:///default.
#include "orchestrator/virt/kvm_xml.h"

#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/virt/kvm_backend.h"
#include "orchestrator/virt/kvm_storage.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/naming.h"
#include "tests/kvm/golden.h"

namespace testbed::virt {
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

TEST(KvmXml, RouterDomainMatchesGoldenAndLibvirtSchema) {
  std::string xml = KvmXml().domain_xml(router_spec());
  kvm_test::expect_golden("router.domain.xml", xml);
  expect_valid(xml, "domain");
}

TEST(KvmXml, DomainHasOverlaySeedVirtioTapsSerialAndMetadata) {
  auto spec = router_spec();
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(KvmXml().domain_xml(spec).c_str()));
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
  auto m = parse_object_meta(KvmXml().domain_xml(spec));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->lab, "study");
  EXPECT_EQ(m->owner_pid, 4242);
  EXPECT_EQ(m->state_dir, meta().state_dir);
}

TEST(KvmXml, NetworksAreIsolatedAndOnlyMgmtHasAHostAddress) {
  KvmXml gen;
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

TEST(KvmXml, LifecycleOnTheTestDriver) {
  auto b = LibvirtBackend::connect("test:///default",
                                   std::make_unique<KvmXml>(kvm_xml_options_for_test_driver()));
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

TEST(KvmBackend, LocalQemuNeedsDevKvmWithAClearError) {
  auto s = check_local_kvm("qemu:///system", "/nonexistent/kvm");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("/nonexistent/kvm"), std::string::npos);
  EXPECT_NE(s.error().message.find("backend: lxc"), std::string::npos);
  EXPECT_TRUE(check_local_kvm("qemu:///system", "/dev/null"));
  // Remote hosts are checked by libvirt on the host itself.
  EXPECT_TRUE(check_local_kvm("qemu+ssh://lab1/system", "/nonexistent/kvm"));
}

TEST(KvmBackend, PartsOnTheTestDriver) {
  auto parts = make_kvm_backend("test:///default", kvm_xml_options_for_test_driver());
  ASSERT_TRUE(parts) << parts.error().message;
  EXPECT_NE(dynamic_cast<KvmStorage*>(parts->storage.get()), nullptr);
  NodeSpec s;
  s.name = "tb-parts-node";
  s.disk_path = "/x.qcow2";
  EXPECT_NE(parts->backend->domain_xml(s).find("qcow2"), std::string::npos);
}

}  // namespace
}  // namespace testbed::virt
