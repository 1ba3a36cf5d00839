#include "orchestrator/virt/libvirt_backend.h"

#include <libvirt/virterror.h>

#include <cstdlib>

namespace testbed::virt {

util::Result<std::unique_ptr<LibvirtBackend>> LibvirtBackend::connect(
    const std::string& uri, std::unique_ptr<XmlGenerator> xml) {
  auto c = open_connection(uri);
  if (!c) return c.error();
  return std::unique_ptr<LibvirtBackend>(new LibvirtBackend(uri, std::move(*c), std::move(xml)));
}

DomainHandle LibvirtBackend::find_domain(const std::string& name) const {
  return DomainHandle(virDomainLookupByName(conn_.get(), name.c_str()));
}

NetworkHandle LibvirtBackend::find_network(const std::string& name) const {
  return NetworkHandle(virNetworkLookupByName(conn_.get(), name.c_str()));
}

util::Status LibvirtBackend::create_network(const NetworkSpec& spec) {
  std::string xml = xml_->network_xml(spec);
  NetworkHandle net(virNetworkDefineXML(conn_.get(), xml.c_str()));
  if (!net)
    return util::fail("cannot define network '{}' (bridge {}): {}", spec.name, spec.bridge,
                      last_libvirt_error());
  if (virNetworkCreate(net.get()) < 0) {
    std::string why = last_libvirt_error();
    virNetworkUndefine(net.get());
    return util::fail("cannot start network '{}' (bridge {}): {}", spec.name, spec.bridge, why);
  }
  return {};
}

util::Status LibvirtBackend::remove_network(const std::string& name) {
  NetworkHandle net = find_network(name);
  if (!net) return {};
  if (virNetworkIsActive(net.get()) == 1 && virNetworkDestroy(net.get()) < 0)
    return util::fail("cannot stop network '{}': {}", name, last_libvirt_error());
  if (virNetworkIsPersistent(net.get()) == 1 && virNetworkUndefine(net.get()) < 0)
    return util::fail("cannot undefine network '{}': {}", name, last_libvirt_error());
  return {};
}

util::Status LibvirtBackend::create_node(const NodeSpec& spec) {
  std::string xml = xml_->domain_xml(spec);
  DomainHandle dom(virDomainDefineXML(conn_.get(), xml.c_str()));
  if (!dom) return util::fail("cannot define node '{}': {}", spec.name, last_libvirt_error());
  if (virDomainCreate(dom.get()) < 0)
    return util::fail("cannot start node '{}': {}", spec.name, last_libvirt_error());
  return {};
}

util::Status LibvirtBackend::start_node(const std::string& name) {
  DomainHandle dom = find_domain(name);
  if (!dom) return util::fail("no node '{}' is defined: {}", name, last_libvirt_error());
  if (virDomainIsActive(dom.get()) == 1) return {};
  if (virDomainCreate(dom.get()) < 0)
    return util::fail("cannot start node '{}': {}", name, last_libvirt_error());
  return {};
}

util::Status LibvirtBackend::stop_node(const std::string& name) {
  DomainHandle dom = find_domain(name);
  if (!dom || virDomainIsActive(dom.get()) != 1) return {};
  if (virDomainDestroy(dom.get()) < 0)
    return util::fail("cannot stop node '{}': {}", name, last_libvirt_error());
  return {};
}

util::Status LibvirtBackend::remove_node(const std::string& name) {
  DomainHandle dom = find_domain(name);
  if (!dom) return {};
  if (virDomainIsActive(dom.get()) == 1 && virDomainDestroy(dom.get()) < 0)
    return util::fail("cannot stop node '{}': {}", name, last_libvirt_error());
  if (virDomainIsPersistent(dom.get()) == 1 && virDomainUndefine(dom.get()) < 0)
    return util::fail("cannot undefine node '{}': {}", name, last_libvirt_error());
  return {};
}

util::Result<bool> LibvirtBackend::node_running(const std::string& name) {
  DomainHandle dom = find_domain(name);
  if (!dom) return false;
  int a = virDomainIsActive(dom.get());
  if (a < 0) return util::fail("cannot query node '{}': {}", name, last_libvirt_error());
  return a == 1;
}

util::Result<std::vector<LabObject>> LibvirtBackend::list_objects() {
  std::vector<LabObject> out;
  virDomainPtr* doms = nullptr;
  int nd = virConnectListAllDomains(conn_.get(), &doms, 0);
  if (nd < 0) return util::fail("cannot list domains on {}: {}", uri_, last_libvirt_error());
  for (int i = 0; i < nd; ++i) {
    DomainHandle d(doms[i]);  // takes ownership of each element
    char* x = virDomainGetXMLDesc(d.get(), 0);
    if (!x) continue;
    auto meta = parse_object_meta(x);
    free(x);
    if (!meta) continue;
    out.push_back(
        {ObjectKind::kDomain, virDomainGetName(d.get()), virDomainIsActive(d.get()) == 1, *meta});
  }
  free(doms);
  virNetworkPtr* nets = nullptr;
  int nn = virConnectListAllNetworks(conn_.get(), &nets, 0);
  if (nn < 0) return util::fail("cannot list networks on {}: {}", uri_, last_libvirt_error());
  for (int i = 0; i < nn; ++i) {
    NetworkHandle n(nets[i]);
    char* x = virNetworkGetXMLDesc(n.get(), 0);
    if (!x) continue;
    auto meta = parse_object_meta(x);
    free(x);
    if (!meta) continue;
    out.push_back({ObjectKind::kNetwork, virNetworkGetName(n.get()),
                   virNetworkIsActive(n.get()) == 1, *meta});
  }
  free(nets);
  return out;
}

}  // namespace testbed::virt
