#include "orchestrator/virt/libvirt_backend.h"

#include <libvirt/virterror.h>

#include <cstdlib>

#include "orchestrator/util/log.h"

namespace testbed::virt {

util::Result<std::unique_ptr<LibvirtBackend>> LibvirtBackend::connect(
    const std::string& uri, std::unique_ptr<XmlGenerator> xml) {
  auto c = open_connection(uri);
  if (!c) return c.error();
  return std::unique_ptr<LibvirtBackend>(new LibvirtBackend(uri, std::move(*c), std::move(xml)));
}

util::Status LibvirtBackend::ensure_connected() {
  if (conn_ && virConnectIsAlive(conn_.get()) == 1) return {};
  auto c = open_connection(uri_);
  if (!c)
    return util::fail(
        "libvirtd at {} closed testbed's connection (stopped or restarted) and reconnecting "
        "failed: {}",
        uri_, c.error().message);
  conn_ = std::move(*c);
  util::log_warn(
      "libvirtd at {} had closed testbed's connection (stopped or restarted); "
      "reconnected",
      uri_);
  return {};
}

util::Error LibvirtBackend::failure(const std::string& what) const {
  std::string why = last_libvirt_error();  // before the next call resets it
  if (conn_ && virConnectIsAlive(conn_.get()) == 1) return util::Error{what + ": " + why};
  return util::Error{fmt::format(
      "{}: lost the connection to libvirtd at {} ({}): libvirtd was stopped or restarted; "
      "testbed reconnects for its next step",
      what, uri_, why)};
}

util::Result<DomainHandle> LibvirtBackend::find_domain(const std::string& name) {
  if (auto s = ensure_connected(); !s) return s.error();
  DomainHandle d(virDomainLookupByName(conn_.get(), name.c_str()));
  if (!d && virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
    return failure(fmt::format("cannot look up node '{}'", name));
  return d;
}

util::Result<NetworkHandle> LibvirtBackend::find_network(const std::string& name) {
  if (auto s = ensure_connected(); !s) return s.error();
  NetworkHandle n(virNetworkLookupByName(conn_.get(), name.c_str()));
  if (!n && virGetLastErrorCode() != VIR_ERR_NO_NETWORK)
    return failure(fmt::format("cannot look up network '{}'", name));
  return n;
}

util::Status LibvirtBackend::create_network(const NetworkSpec& spec) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  if (auto s = ensure_connected(); !s) return s;
  std::string xml = xml_->network_xml(spec);
  NetworkHandle net(virNetworkDefineXML(conn_.get(), xml.c_str()));
  if (!net)
    return failure(fmt::format("cannot define network '{}' (bridge {})", spec.name, spec.bridge));
  if (virNetworkCreate(net.get()) < 0) {
    util::Error why =
        failure(fmt::format("cannot start network '{}' (bridge {})", spec.name, spec.bridge));
    virNetworkUndefine(net.get());
    return why;
  }
  return {};
}

util::Status LibvirtBackend::remove_network(const std::string& name) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  auto net = find_network(name);
  if (!net) return net.error();
  if (!*net) return {};
  int active = virNetworkIsActive(net->get());
  if (active < 0 || (active == 1 && virNetworkDestroy(net->get()) < 0))
    return failure(fmt::format("cannot stop network '{}'", name));
  int persistent = virNetworkIsPersistent(net->get());
  if (persistent < 0 || (persistent == 1 && virNetworkUndefine(net->get()) < 0))
    return failure(fmt::format("cannot undefine network '{}'", name));
  return {};
}

util::Status LibvirtBackend::create_node(const NodeSpec& spec) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  if (auto s = ensure_connected(); !s) return s;
  std::string xml = xml_->domain_xml(spec);
  DomainHandle dom(virDomainDefineXML(conn_.get(), xml.c_str()));
  if (!dom) return failure(fmt::format("cannot define node '{}'", spec.name));
  if (virDomainCreate(dom.get()) < 0)
    return failure(fmt::format("cannot start node '{}'", spec.name));
  return {};
}

util::Status LibvirtBackend::start_node(const std::string& name) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  auto dom = find_domain(name);
  if (!dom) return dom.error();
  if (!*dom) return util::fail("no node '{}' is defined", name);
  int active = virDomainIsActive(dom->get());
  if (active < 0) return failure(fmt::format("cannot query node '{}'", name));
  if (active == 1) return {};
  if (virDomainCreate(dom->get()) < 0) return failure(fmt::format("cannot start node '{}'", name));
  return {};
}

util::Status LibvirtBackend::stop_node(const std::string& name) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  auto dom = find_domain(name);
  if (!dom) return dom.error();
  if (!*dom) return {};
  int active = virDomainIsActive(dom->get());
  if (active < 0) return failure(fmt::format("cannot query node '{}'", name));
  if (active == 1 && virDomainDestroy(dom->get()) < 0)
    return failure(fmt::format("cannot stop node '{}'", name));
  return {};
}

util::Status LibvirtBackend::remove_node(const std::string& name) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  auto dom = find_domain(name);
  if (!dom) return dom.error();
  if (!*dom) return {};
  // Asked first: a transient domain (a restored saved state) is gone once destroyed.
  int persistent = virDomainIsPersistent(dom->get());
  if (persistent < 0) return failure(fmt::format("cannot query node '{}'", name));
  int active = virDomainIsActive(dom->get());
  if (active < 0 || (active == 1 && virDomainDestroy(dom->get()) < 0))
    return failure(fmt::format("cannot stop node '{}'", name));
  if (persistent == 1 && virDomainUndefine(dom->get()) < 0)
    return failure(fmt::format("cannot undefine node '{}'", name));
  return {};
}

util::Status LibvirtBackend::save_node(const std::string& name, const std::string& file) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  auto dom = find_domain(name);
  if (!dom) return dom.error();
  if (!*dom) return util::fail("no node '{}' is defined", name);
  if (virDomainSaveFlags(dom->get(), file.c_str(), nullptr, VIR_DOMAIN_SAVE_RUNNING) < 0)
    return failure(fmt::format("cannot save node '{}' to {}", name, file));
  return {};
}

util::Result<std::string> LibvirtBackend::saved_state_xml(const std::string& file) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  if (auto s = ensure_connected(); !s) return s.error();
  char* xml = virDomainSaveImageGetXMLDesc(conn_.get(), file.c_str(),
                                           VIR_DOMAIN_SAVE_IMAGE_XML_SECURE);
  if (!xml) return failure(fmt::format("cannot read the saved state {}", file));
  std::string out(xml);
  std::free(xml);
  return out;
}

util::Status LibvirtBackend::set_saved_state_xml(const std::string& file, const std::string& xml) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  if (auto s = ensure_connected(); !s) return s;
  if (virDomainSaveImageDefineXML(conn_.get(), file.c_str(), xml.c_str(),
                                  VIR_DOMAIN_SAVE_RUNNING) < 0)
    return failure(fmt::format("cannot update the domain XML of the saved state {}", file));
  return {};
}

util::Status LibvirtBackend::restore_node(const std::string& file) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  if (auto s = ensure_connected(); !s) return s;
  if (virDomainRestoreFlags(conn_.get(), file.c_str(), nullptr, VIR_DOMAIN_SAVE_RUNNING) < 0)
    return failure(fmt::format("cannot restore the saved state {}", file));
  return {};
}

util::Result<bool> LibvirtBackend::node_running(const std::string& name) {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  auto dom = find_domain(name);
  if (!dom) return dom.error();
  if (!*dom) return false;
  int a = virDomainIsActive(dom->get());
  if (a < 0) return failure(fmt::format("cannot query node '{}'", name));
  return a == 1;
}

util::Result<std::vector<LabObject>> LibvirtBackend::list_objects() {
  SigpipeGuard no_sigpipe;  // libvirtd may have closed the connection
  if (auto s = ensure_connected(); !s) return s.error();
  std::vector<LabObject> out;
  virDomainPtr* doms = nullptr;
  int nd = virConnectListAllDomains(conn_.get(), &doms, 0);
  if (nd < 0) return failure(fmt::format("cannot list domains on {}", uri_));
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
  if (nn < 0) return failure(fmt::format("cannot list networks on {}", uri_));
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
