// Golden-file tests of everything the lab generates (libvirt XML, init scripts, DNS and
// env files), in libvirt's networkxml2xmltest style: TESTBED_REGENERATE=1 rewrites the
// expected files under tests/virt/golden/. Every XML is validated by virt-xml-validate.
#include "orchestrator/virt/xml.h"
#include "orchestrator/backends/lxc/xml.h"

#include <gtest/gtest.h>

#include <fstream>

#include "orchestrator/config/topology.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/virt/naming.h"
#include "orchestrator/virt/node_init.h"

namespace testbed::virt {
using backends::lxc::LxcXml;
namespace {

const std::string kGolden = std::string(TESTBED_SOURCE_DIR) + "/tests/virt/golden/";

void expect_golden(const std::string& name, const std::string& actual) {
  std::string path = kGolden + name;
  if (std::getenv("TESTBED_REGENERATE")) {
    ASSERT_TRUE(util::write_file_atomic(path, actual).ok());
    return;
  }
  auto expected = util::read_file(path);
  ASSERT_TRUE(expected.ok()) << path << " missing; run with TESTBED_REGENERATE=1";
  EXPECT_EQ(*expected, actual) << "generated output differs from " << path
                               << " (TESTBED_REGENERATE=1 rewrites it after review)";
}

void expect_valid(const std::string& xml, const std::string& kind) {
  if (!util::have_program("virt-xml-validate"))
    GTEST_SKIP() << "virt-xml-validate not installed (libvirt-clients)";
  auto dir = util::TempDir::create("virt-xml");
  ASSERT_TRUE(dir.ok());
  auto f = dir->path() / "x.xml";
  ASSERT_TRUE(util::write_file_atomic(f, xml).ok());
  auto r = util::run_process({"virt-xml-validate", f.string(), kind});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->out << r->err << "\n" << xml;
}

ObjectMeta meta() { return {"demo", 4242, 1700000000, "/var/lib/testbed/labs/demo"}; }

config::Topology topo() {
  auto t = config::load_topology(std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet.yaml");
  EXPECT_TRUE(t.ok()) << t.error().message;
  return *t;
}

TEST(Xml, NetworksAreIsolated) {
  NetworkSpec mgmt{"tb-demo-mgmt", bridge_name("demo", "mgmt"), *util::parse_ipv4("10.250.0.1"), 24,
                   meta()};
  NetworkSpec scan{"tb-demo-scan", bridge_name("demo", "scan"), std::nullopt, 24, meta()};
  std::string m = make_network_xml(mgmt), s = make_network_xml(scan);
  expect_golden("network-mgmt.xml", m);
  expect_golden("network-scan.xml", s);
  expect_valid(m, "network");
  expect_valid(s, "network");
  for (const auto& x : {m, s}) {
    EXPECT_EQ(x.find("<forward"), std::string::npos);
    EXPECT_EQ(x.find("<dhcp"), std::string::npos);
  }
  EXPECT_EQ(s.find("<ip"), std::string::npos);
  EXPECT_NE(m.find("<dns enable=\"no\""), std::string::npos);
  EXPECT_EQ(m.find("<mac"), std::string::npos) << "none asked for: libvirt's own";
  mgmt.mac = "02:7b:00:11:22:33";
  const std::string fixed = make_network_xml(mgmt);
  EXPECT_NE(fixed.find("<mac address=\"02:7b:00:11:22:33\""), std::string::npos) << fixed;
  expect_valid(fixed, "network");
}

TEST(Xml, LxcDomain) {
  NodeSpec n;
  n.name = "tb-demo-router";
  n.meta = meta();
  n.root_dir = "/var/lib/testbed/labs/demo/nodes/router/root";
  n.init = lxc_init_argv();
  for (const char* net : {"mgmt", "scan", "targets"})
    n.interfaces.push_back({std::string("tb-demo-") + net,
                            "tbXXXX-router" + std::to_string(n.interfaces.size()), net,
                            make_mac(std::string("demo/router/") + net)});
  std::string x = LxcXml().domain_xml(n);
  expect_golden("domain-lxc-router.xml", x);
  expect_valid(x, "domain");
  auto m = parse_object_meta(x);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->lab, "demo");
  EXPECT_EQ(m->owner_pid, 4242);
  EXPECT_EQ(m->created, 1700000000);
  EXPECT_EQ(m->state_dir, "/var/lib/testbed/labs/demo");
  EXPECT_FALSE(
      parse_object_meta("<domain><metadata><x:lab xmlns:x='other' name='a'/></metadata></domain>"));
  EXPECT_FALSE(parse_object_meta("not xml"));
}

TEST(Xml, NodeBootFiles) {
  auto t = topo();
  for (const char* node : {"router", "scanner", "target1"}) {
    auto c = make_boot_config(t, "demo", *t.node(node));
    expect_golden(std::string("init-") + node + ".sh", make_init_script(c));
    expect_golden(std::string("node-") + node + ".env", make_node_env(c));
    expect_golden(std::string("resolv-") + node + ".conf", make_resolv_conf(t, *t.node(node)));
  }
  expect_golden("lab-hosts", make_lab_hosts(t));
  auto scanner = make_init_script(make_boot_config(t, "demo", *t.node("scanner")));
  EXPECT_EQ(scanner.find("route add default"), std::string::npos)
      << "no default route on lab nodes";
  EXPECT_NE(scanner.find("ip route add unreachable default table 100"), std::string::npos);
  EXPECT_NE(scanner.find("ip rule add from 172.24.0.10 table 100"), std::string::npos);
  EXPECT_NE(scanner.find("ip route add 172.24.1.0/24 via 172.24.0.1 dev scan"), std::string::npos);
  EXPECT_NE(scanner.find("ListenAddress=10.250.0.3 "), std::string::npos);
  EXPECT_EQ(scanner.find("ssh-keygen"), std::string::npos) << "host keys come from the host";
  auto router = make_init_script(make_boot_config(t, "demo", *t.node("router")));
  EXPECT_EQ(router.find(" via "), std::string::npos)
      << "the router has no routes beyond its subnets";
  EXPECT_EQ(router.find("route add default"), std::string::npos);
  EXPECT_NE(router.find("iptables -A INPUT -i scan -j DROP"), std::string::npos);
}

TEST(Naming, ShortUniqueDeterministic) {
  EXPECT_TRUE(check_lab_name("two-subnet").ok());
  EXPECT_FALSE(check_lab_name("Bad_Name").ok());
  EXPECT_FALSE(check_lab_name("").ok());
  EXPECT_EQ(lab_tag("demo"), lab_tag("demo"));
  EXPECT_NE(lab_tag("demo"), lab_tag("demo2"));
  EXPECT_LE(bridge_name("a-very-long-lab-name-xyz", "targets").size(), 15u);
  std::vector<std::string> nodes = {"router",   "scanner",  "target1",         "target2",
                                    "target10", "target11", "a-very-long-node"};
  auto v = veth_names("demo", nodes, {3, 2, 2, 2, 2, 2, 2});
  std::set<std::string> all;
  for (const auto& per : v)
    for (const auto& n : per) {
      EXPECT_LE(n.size(), 15u) << n;
      all.insert(n);
    }
  EXPECT_EQ(all.size(), 15u);
  EXPECT_EQ(v, veth_names("demo", nodes, {3, 2, 2, 2, 2, 2, 2}));
  // Colliding abbreviations fall back to index names, still unique.
  auto c = veth_names("demo", {"targetaaaa1", "targetaaab1"}, {2, 2});
  EXPECT_NE(c[0][0], c[1][0]);
  EXPECT_EQ(make_mac("x"), make_mac("x"));
  EXPECT_EQ(make_mac("x").size(), 17u);
}

}  // namespace
}  // namespace testbed::virt
