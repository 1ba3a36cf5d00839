#pragma once
// The hypervisor side of a lab, as plain specs and one interface.
//
// Split of responsibilities (so a KVM backend is added with new files only):
//   - NetworkSpec / NodeSpec: backend-neutral descriptions built by the Lab;
//   - XmlGenerator (xml.h): spec -> libvirt XML; one per backend (LxcXml now, a VmXml
//     later with <disk> qcow2 overlays, a cloud-init seed and <interface type='network'>
//     + <target dev> tap names), golden-tested without a hypervisor;
//   - NodeStorage (node_storage.h): prepares a node's root (LXC: overlay mount on the
//     host; KVM: qcow2 overlay + NoCloud seed ISO) and fills NodeSpec's root fields;
//   - Backend (this file): creates/removes/lists libvirt objects; LibvirtBackend works
//     for any URI given an XmlGenerator (test:///default in unit tests).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::virt {

/// Carried by every libvirt object of a lab in <metadata> (namespace kMetadataUri), so
/// `testbed gc` can find what a crashed run left behind.
struct ObjectMeta {
  std::string lab;        ///< lab name
  int64_t owner_pid = 0;  ///< process that created the lab (`lab up` / the runner)
  int64_t created = 0;    ///< UNIX time of creation
  std::string state_dir;  ///< the lab's state directory on the host
};

inline constexpr const char* kMetadataUri = "https://testbed.invalid/xmlns/lab/1";
inline constexpr const char* kMetadataPrefix = "testbed";

/// An isolated bridge network: never a <forward>; an <ip> only when host_address is
/// set (the mgmt network), and then without <dhcp> and with DNS disabled.
struct NetworkSpec {
  std::string name;                      ///< libvirt network name (tb-<lab>-<net>)
  std::string bridge;                    ///< bridge device, <= 15 chars
  std::optional<uint32_t> host_address;  ///< host byte order
  int prefix = 24;
  ObjectMeta meta;
  /// The bridge's MAC; empty: libvirt makes up one. The lab fixes it per lab name and
  /// network: a guest restored from a state taken in an earlier lab of that name still
  /// has the host's mgmt address in its ARP cache, and answers a new login at once only
  /// if the MAC behind it is the same.
  std::string mac;
};

struct InterfaceSpec {
  std::string network;    ///< libvirt network name
  std::string host_dev;   ///< host-side device name (<target dev>), <= 15 chars
  std::string guest_dev;  ///< name inside the node (LXC <guest dev>), e.g. "scan"
  std::string mac;        ///< deterministic, locally administered
};

struct NodeSpec {
  std::string name;  ///< libvirt domain name (tb-<lab>-<node>)
  /// One line for `virsh desc`/`virsh list --title` (VM domains): lab, node, role, image.
  std::string title;
  int memory_mib = 512;
  std::vector<InterfaceSpec> interfaces;
  ObjectMeta meta;
  // LXC: the node's root directory on the host (an overlay mount) and its init.
  std::string root_dir;
  std::vector<std::string> init;  ///< argv of PID 1 inside the node
  // VM: the node's disk (a qcow2 overlay) and either a cloud-init seed (cloud images) or
  // direct kernel boot with a config disk (images built here; vm_boot.h); unused by LXC.
  std::string disk_path;
  std::string seed_path;
  std::string kernel;            ///< <kernel>: the image's vmlinuz (empty: boot from disk)
  std::string initrd;            ///< <initrd>
  std::string cmdline;           ///< <cmdline>
  std::string config_disk_path;  ///< raw tar archive of the node's files, read-only vdb
  std::string console_log;       ///< serial console copied to this file (diagnosis)
};

enum class ObjectKind { kDomain, kNetwork };

/// A libvirt object that carries testbed metadata.
struct LabObject {
  ObjectKind kind = ObjectKind::kDomain;
  std::string name;
  bool active = false;
  ObjectMeta meta;
};

/// Creates and removes a lab's libvirt objects. Implementations report libvirt's own
/// message in every error. Remove operations succeed when the object does not exist.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string uri() const = 0;
  /// Defines and starts the network (not persistent across host reboots on purpose:
  /// no autostart).
  virtual util::Status create_network(const NetworkSpec& spec) = 0;
  virtual util::Status remove_network(const std::string& name) = 0;
  /// Defines the node (persistent definition, so reset can restart it) and starts it.
  virtual util::Status create_node(const NodeSpec& spec) = 0;
  virtual util::Status start_node(const std::string& name) = 0;
  /// Hard stop (virDomainDestroy); keeps the definition. Fine if already stopped.
  virtual util::Status stop_node(const std::string& name) = 0;
  /// Stops (if running) and undefines.
  virtual util::Status remove_node(const std::string& name) = 0;
  virtual util::Result<bool> node_running(const std::string& name) = 0;
  /// Every domain and network carrying testbed metadata.
  virtual util::Result<std::vector<LabObject>> list_objects() = 0;
  /// The generated XML for a spec (what create_* would define); for tests and --dry-run.
  virtual std::string network_xml(const NetworkSpec& spec) const = 0;
  virtual std::string domain_xml(const NodeSpec& spec) const = 0;
};

}  // namespace testbed::virt
