// LibvirtBackend on libvirt's mock hypervisor (test:///default): the lifecycle and the
// metadata-based listing `testbed gc` relies on. Each test opens its own connection, and
// test:///default state is per connection, so tests are hermetic.
#include <gtest/gtest.h>

#include "orchestrator/backends/lxc/xml.h"
#include "orchestrator/backends/registry.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/virt/node_init.h"

namespace testbed::virt {
using backends::lxc::LxcXml;
using backends::make_backend;
using lab::Lab;
using lab::LabOptions;
namespace {

NodeSpec node(const std::string& name, const std::string& lab, const std::string& net) {
  NodeSpec n;
  n.name = name;
  n.meta = {lab, 99999999, 1700000000, "/tmp/x"};
  n.root_dir = "/";
  n.init = lxc_init_argv();
  n.interfaces.push_back({net, "tbtest-" + name.substr(0, 4), "mgmt", make_mac(name)});
  return n;
}

TEST(LibvirtBackend, LifecycleOnTestDriver) {
  auto b = LibvirtBackend::connect("test:///default", std::make_unique<LxcXml>());
  ASSERT_TRUE(b.ok()) << b.error().message;
  auto& be = **b;
  NetworkSpec net{
      "tb-unit-mgmt", "tbunit-mgmt", 0x0afa0001, 24, {"unit", 99999999, 1700000000, "/tmp/x"}};
  ASSERT_TRUE(be.create_network(net).ok());
  ASSERT_TRUE(be.create_node(node("tb-unit-a", "unit", net.name)).ok());
  ASSERT_TRUE(be.create_node(node("tb-unit-b", "unit", net.name)).ok());
  EXPECT_TRUE(*be.node_running("tb-unit-a"));

  auto objs = be.list_objects();
  ASSERT_TRUE(objs.ok()) << objs.error().message;
  // The driver's own "test" domain and "default" network carry no testbed metadata.
  ASSERT_EQ(objs->size(), 3u);
  for (const auto& o : *objs) {
    EXPECT_EQ(o.meta.lab, "unit");
    EXPECT_EQ(o.meta.owner_pid, 99999999);
    EXPECT_TRUE(o.active);
  }

  ASSERT_TRUE(be.stop_node("tb-unit-a").ok());
  EXPECT_FALSE(*be.node_running("tb-unit-a"));
  ASSERT_TRUE(be.stop_node("tb-unit-a").ok()) << "stopping twice is fine";
  ASSERT_TRUE(be.start_node("tb-unit-a").ok());
  EXPECT_TRUE(*be.node_running("tb-unit-a"));

  // Defining the same name twice fails with libvirt's message.
  auto dup = be.create_network(net);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("tb-unit-mgmt"), std::string::npos);

  for (const char* d : {"tb-unit-a", "tb-unit-b"}) ASSERT_TRUE(be.remove_node(d).ok());
  ASSERT_TRUE(be.remove_network(net.name).ok());
  ASSERT_TRUE(be.remove_node("tb-unit-a").ok()) << "removing is idempotent";
  ASSERT_TRUE(be.remove_network(net.name).ok());
  objs = be.list_objects();
  ASSERT_TRUE(objs.ok());
  EXPECT_TRUE(objs->empty());
  EXPECT_FALSE(be.start_node("tb-unit-a").ok());
}

TEST(LibvirtBackend, BadUriIsReported) {
  auto b = make_backend("bogus:///nowhere");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("bogus:///nowhere"), std::string::npos);
  auto direct = LibvirtBackend::connect("bogus:///nowhere", std::make_unique<LxcXml>());
  ASSERT_FALSE(direct.ok());
  EXPECT_NE(direct.error().message.find("cannot connect to libvirt at 'bogus:///nowhere'"),
            std::string::npos)
      << direct.error().message;
}

}  // namespace
}  // namespace testbed::virt

#include "orchestrator/util/files.h"
#include "orchestrator/lab/lab.h"

namespace testbed::virt {
namespace {

// Refusals happen before anything is created: no state dir, no libvirt connection.
TEST(Lab, RefusesBeforeCreatingAnything) {
  auto topo =
      config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml");
  ASSERT_TRUE(topo.ok()) << topo.error().message;
  auto state = util::TempDir::create("lab-unit");
  auto images = util::TempDir::create("lab-unit-images");
  ASSERT_TRUE(state.ok() && images.ok());
  LabOptions o;
  o.uri = "test:///default";
  o.state_root = state->path();
  o.image_root = images->path();

  o.name = "Bad_Name";
  auto bad = Lab::up(*topo, o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("Bad_Name"), std::string::npos);

  o.name = "unit";
  auto missing = Lab::up(*topo, o);
  ASSERT_FALSE(missing.ok());
  const std::string& m = missing.error().message;
  EXPECT_NE(m.find("images missing"), std::string::npos) << m;
  EXPECT_NE(m.find("node 'router'"), std::string::npos) << m;
  EXPECT_NE(m.find("two-subnet-small.yaml:"), std::string::npos)
      << "located at the node's definition: " << m;
  EXPECT_FALSE(std::filesystem::exists(state->path() / "unit"));

  // down of a lab that never existed is fine (idempotent).
  EXPECT_TRUE(Lab::destroy("unit", o).ok());
  auto none = Lab::open("unit", o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no lab 'unit'"), std::string::npos);
}

}  // namespace
}  // namespace testbed::virt
