#pragma once
// Backend over a libvirt connection: works with any URI (lxc:///system for real labs,
// test:///default in unit tests, qemu:///system with a KVM XmlGenerator).
#include <memory>
#include <string>

#include "orchestrator/virt/backend.h"
#include "orchestrator/virt/handles.h"
#include "orchestrator/virt/xml.h"

namespace testbed::virt {

class LibvirtBackend : public Backend {
 public:
  /// Connects to `uri`; the generator decides the domain XML flavour.
  static util::Result<std::unique_ptr<LibvirtBackend>> connect(const std::string& uri,
                                                               std::unique_ptr<XmlGenerator> xml);

  std::string uri() const override { return uri_; }
  util::Status create_network(const NetworkSpec& spec) override;
  util::Status remove_network(const std::string& name) override;
  util::Status create_node(const NodeSpec& spec) override;
  util::Status start_node(const std::string& name) override;
  util::Status stop_node(const std::string& name) override;
  util::Status remove_node(const std::string& name) override;
  util::Result<bool> node_running(const std::string& name) override;
  util::Result<std::vector<LabObject>> list_objects() override;
  std::string network_xml(const NetworkSpec& spec) const override {
    return xml_->network_xml(spec);
  }
  std::string domain_xml(const NodeSpec& spec) const override { return xml_->domain_xml(spec); }

  // Saved running state (libvirt's save/restore; QEMU domains): the snapshot resets of
  // VM nodes (backends/vm/snapshot.h) are built on these four.
  /// Saves the running domain's memory and device state to `file` (on the libvirt host);
  /// the domain stops. Its disks are not copied: the caller freezes them.
  util::Status save_node(const std::string& name, const std::string& file);
  /// The domain XML stored in a saved state (with security info, as restore uses it).
  util::Result<std::string> saved_state_xml(const std::string& file);
  /// Replaces the domain XML stored in a saved state (disk paths only may change).
  util::Status set_saved_state_xml(const std::string& file, const std::string& xml);
  /// Starts a transient domain from a saved state, running. No domain of that name may be
  /// defined with another UUID (remove_node first).
  util::Status restore_node(const std::string& file);

  /// The raw connection (borrowed). A later call of this backend replaces a connection
  /// libvirtd closed; objects opened on the old one (e.g. HostVolumes' pool, which holds a
  /// reference to it) stay valid but keep failing, as they would without the reconnect.
  virConnectPtr connection() const { return conn_.get(); }

 private:
  LibvirtBackend(std::string uri, ConnectHandle conn, std::unique_ptr<XmlGenerator> xml)
      : uri_(std::move(uri)), conn_(std::move(conn)), xml_(std::move(xml)) {}
  // libvirtd stopped or restarted (its LXC containers keep running; our connection does
  // not survive it): the call that finds the connection closed fails with failure()'s
  // message naming libvirtd, and is not retried, so a run during which the daemon went
  // away is never passed off as complete. Every later call first reconnects, once.
  util::Status ensure_connected();
  /// The error of a libvirt call that just failed: `what`, libvirt's message, and that
  /// libvirtd closed the connection when it did.
  util::Error failure(const std::string& what) const;
  /// The named object; a null handle when it does not exist, an error when libvirt could
  /// not tell (e.g. the connection is gone).
  util::Result<DomainHandle> find_domain(const std::string& name);
  util::Result<NetworkHandle> find_network(const std::string& name);
  std::string uri_;
  ConnectHandle conn_;
  std::unique_ptr<XmlGenerator> xml_;
};

}  // namespace testbed::virt
