#pragma once
// A running lab: the libvirt networks and nodes of one topology, their roots, keys and
// state dir. The runner and `testbed lab` use only this class.
//
// State dir (root-only, 0700): <state_root>/<lab>/
//   lab.json            name, uri, backend, owner pid, created, kept, image per node (written
//   first,
//                       so `testbed gc` can find a half-created lab)
//   topology.yaml       copy of the topology file (open() re-reads it)
//   id_ed25519[.pub]    the lab's SSH key (0600), authorised on every node
//   known_hosts         every node's pinned host key at its mgmt address
//   nodes/<node>/       ssh_host_ed25519_key[.pub], upper/, work/, root/ (LXC overlay mount)
//                       or disk.qcow2 + seed.iso (KVM)
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/backends/registry.h"
#include "orchestrator/config/backend.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/lab/fresh_guest.h"
#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/result.h"
#include "orchestrator/virt/backend.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed::lab {
using virt::Backend;
using virt::NodeStorage;

struct LabOptions {
  std::string name;  ///< default: the topology's name
  /// Default: lxc:///system, or qemu:///system when `backend` is kVm.
  std::string uri;
  /// The experiment's `backend:` (names read by config::parse_backend_kind); nullopt =
  /// implied by the URI (backends.h). Needed only for test:///default, which takes either.
  std::optional<config::BackendKind> backend;
  /// VM labs: "auto" | "kvm" | "tcg" (the experiment's `accel:`, resolve_accel); the
  /// acceleration that ran is in lab.json and provenance()["accel"].
  std::string accel = "auto";
  std::filesystem::path state_root = "/var/lib/testbed/labs";
  std::filesystem::path image_root;  ///< default: images::default_cache_root()
  /// node -> image, overriding the topology's `image:` (the experiment's `node_images`,
  /// e.g. KVM images for a topology written with LXC ones). Every image must be built
  /// for this lab's backend (its manifest's `backend`), else up() refuses.
  std::map<std::string, std::string> images;
  /// Progress lines ("network scan up", "node target1 ready"); default: log_info.
  std::function<void(const std::string&)> progress;
  int64_t owner_pid = 0;  ///< default: getpid()
  /// The lab outlives its owner process (`testbed lab up`): gc leaves it alone.
  bool keep = false;
  /// How long a node may take to boot and pass its checks; 0 = the backend's default
  /// (90 s for LXC; 300 s for VMs, which boot a kernel, under TCG emulated).
  std::chrono::milliseconds ready_timeout{0};
  bool check_host = true;  ///< refuse subnets overlapping host addresses/routes
  /// false: up() and reset_node() return once the nodes are started, without waiting
  /// for SSH/health (tests on test:///default, where no guest ever answers).
  bool wait_until_ready = true;
  /// How nodes are reset between runs: "snapshot" restores the node's saved running state
  /// (taken once per node and image when it first passed wait_ready; VM nodes on this
  /// host), "boot" boots it afresh. Empty: snapshot where the backend has saved states,
  /// else boot (LXC nodes reset with a fresh overlay, which is a boot of ~1 s).
  std::string reset;
  /// Saved states outlive the lab (lab/kept_states.h): `down` keeps them, with the keys
  /// the guests were made with, and the next lab of this name made by the same testbed
  /// build from the same topology, URI and acceleration restores those nodes instead of
  /// booting them (the router too: its state is saved at `up` as well). Only where the
  /// backend saves states (VM nodes on this host).
  bool keep_states = false;
  /// How to reach the lab host over SSH when `uri` names another machine (KVM only):
  /// default lab_host_ssh(uri) (backends.h). Used for its addresses (the subnet check),
  /// as the jump to the nodes, and by the runner for the capture.
  std::optional<remote::SshJump> lab_host;
};

struct NodeInfo {
  std::string name;
  config::NodeRole role = config::NodeRole::kTarget;
  std::string image;
  std::string domain;  ///< libvirt domain name
  std::string mgmt_address;
  std::map<std::string, std::string> addresses;  ///< network -> address
  std::map<std::string, std::string> host_devs;  ///< network -> host-side veth
};

/// How one node was last reset (Lab::last_resets; the run manifest's "resets").
struct NodeReset {
  std::string image;
  std::string method;    ///< "snapshot" (restored) or "boot"
  std::string fallback;  ///< why a snapshot reset booted instead; empty when it did not
  std::string state_sha256;  ///< the restored (or, after a boot, newly taken) state's hash
  int64_t state_taken = 0;   ///< UNIX time that state was saved
  double seconds = 0;        ///< the reset until the node was ready again
  double restore_seconds = 0;  ///< of which libvirt's restore (new layer included)
  double answer_seconds = 0;   ///< of which waiting for the restored guest's SSH
  std::optional<FreshGuest> fresh;  ///< clock, RNG and network refresh after a restore
};

/// The manifest's record of one node reset (results/manifest.h Manifest::resets).
nlohmann::json to_json(const NodeReset& r);

struct NodeStatus {
  NodeInfo info;
  bool running = false;
  bool ssh_reachable = false;
  uint64_t saved_state_bytes = 0;  ///< disk used by the node's saved states
};

class Lab {
 public:
  /// Validates against the host (images present, subnets free), then creates networks,
  /// keys, roots and nodes and waits until every node is ready. On failure everything
  /// created is removed again and the error says which step failed.
  static util::Result<std::unique_ptr<Lab>> up(const config::Topology& topo,
                                               const LabOptions& opts);
  /// Attaches to an existing lab by name (reads its state dir; connects to its URI).
  static util::Result<std::unique_ptr<Lab>> open(const std::string& name,
                                                 const LabOptions& opts = {});
  /// Removes everything of lab `name` found via libvirt metadata, mounts and the state
  /// dir, whether or not it is complete. Idempotent: an absent lab is success.
  static util::Status destroy(const std::string& name, const LabOptions& opts = {});

  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  /// Removes domains, networks, mounts, host interfaces and state. Idempotent.
  util::Status down();
  /// Destroys the node, gives it a fresh upper dir (and optionally another image),
  /// starts it and waits until ready.
  /// `boot`: boot this time even when the node has a saved state (its state is kept).
  util::Status reset_node(const std::string& node, const std::string& image = "",
                          bool boot = false);
  /// Makes `image` the image `node` runs from its next reset on (checked: built, and for
  /// this lab's backend); empty or the same image: nothing to do.
  util::Status use_image(const std::string& node, const std::string& image);
  /// reset_node for several nodes at once: all are restarted, then all are waited for
  /// (the boots overlap, so resetting N targets takes about as long as one).
  util::Status reset_nodes(const std::vector<std::string>& nodes, bool boot = false);
  /// How each node of the last reset_node(s) call was reset.
  const std::map<std::string, NodeReset>& last_resets() const { return resets_; }
  /// "snapshot" or "boot": what resets of this lab do.
  std::string reset_mode() const { return snapshots_ ? "snapshot" : "boot"; }
  /// Waits until SSH answers, the node's init finished, /testbed/health.sh exits 0 and
  /// the image's `expect` facts hold on the node (check_expect). The error names the
  /// failing check and shows its output (for a VM that never answers, its console).
  util::Status wait_ready(const std::string& node, std::chrono::milliseconds timeout);

  const std::string& name() const { return name_; }
  const std::filesystem::path& state_dir() const { return state_dir_; }
  const config::Topology& topology() const { return topo_; }
  std::vector<std::string> node_names() const;
  /// Info for a node of this lab (asserts the name exists).
  NodeInfo node(const std::string& name) const;
  /// The MAC address of `node`'s interface on `network` (deterministic; the raw-frame
  /// scanners address the router by it: runner LabFacts::router_mac).
  std::string interface_mac(const std::string& node, const std::string& network) const;
  /// The host-side veth of the router's scan interface: the capture point.
  std::string capture_interface() const;
  /// The lab host when it is another machine (capture and node SSH go through it).
  const std::optional<remote::SshJump>& lab_host() const { return opts_.lab_host; }
  /// root@<mgmt address> with the lab key and the lab's known_hosts (pinned host keys).
  remote::SshTarget ssh_target(const std::string& node) const;
  std::vector<std::string> target_subnets() const;
  /// The bridge device of a network.
  std::string bridge(const std::string& network) const;
  /// What may be captured on (`testbed lab capture`), in topology order as (target, host
  /// device): every network by name (its bridge), then every node interface as
  /// NODE:NETWORK (its host-side veth or tap). On the lab host when lab_host() is set.
  std::vector<std::pair<std::string, std::string>> capture_targets() const;
  /// Runs argv on the node over SSH (a fresh remote::SshSession). A non-zero exit status
  /// is in the result; connection failures and timeouts are errors.
  util::Result<remote::ExecResult> exec(const std::string& node,
                                        const std::vector<std::string>& argv,
                                        const remote::ExecOptions& opts = {}) const;
  util::Result<std::vector<NodeStatus>> status();
  /// Facts for run manifests: "uri", "backend", "libvirt_version", "kernel",
  /// "topology_sha256", "lab", "image.<node>" = "<image name>@<cache key>" for every
  /// node, and for VM labs "accel" (kvm or tcg) and "qemu_version".
  std::map<std::string, std::string> provenance() const;
  Backend& backend() { return *backend_; }

 private:
  Lab() = default;
  // The stages of up(), in order (see lab.cc).
  util::Status check_inputs();    ///< images, backends, remote host, subnets; creates nothing
  util::Status connect();         ///< acceleration, backend and storage (a remote host's too)
  void describe_nodes();          ///< names, addresses and host devices of every node
  util::Status create_state();    ///< state dir, lab.json, keys, known_hosts
  util::Status launch();          ///< networks, host containment, nodes (router first)
  util::Status wait_all();        ///< every node ready, router first
  /// Snapshot resets: the saved state of every scanner and target node (reset.cc).
  util::Status capture_states();
  /// Saves `node`'s state (it is ready and pristine) and restores it at once.
  util::Status capture_state(const std::string& node, NodeReset* rec);
  /// capture_state; when that fails the node's resets boot (a warning and the reset's
  /// `fallback` say why) and the node is made to run again if saving stopped it.
  util::Status capture_or_boot(const std::string& node, NodeReset* rec);
  /// Turns IPv6 off on the host side of `node`'s interfaces (after a boot or a restore).
  void no_host_ipv6(const std::string& node) const;
  /// Restores `node` from its saved state and refreshes the guest; an error means the
  /// caller boots it instead.
  util::Status restore_state(const std::string& node, NodeReset* rec);
  /// After a restore: SSH answers, then clock, RNG and neighbours (fresh_guest.h).
  util::Status refresh_restored(const std::string& node, NodeReset* rec);
  std::vector<const config::TopologyNode*> boot_order() const;
  util::Status create_networks();
  util::Status create_node(const config::TopologyNode& n);
  util::Status write_state(bool kept) const;
  /// Remote lab host: its SSH login (opts_.lab_host) and the node disks as volumes.
  util::Status attach_lab_host();
  /// The image's `expect` facts (its manifest: Nmap version, package versions) checked on
  /// the booted node over `session`; the error names the node, the fact, the expected
  /// and the found value.
  util::Status check_expect(const std::string& node, remote::SshSession& session);
  /// The last lines of a VM node's serial console (empty for LXC or when there is none).
  std::string console_tail(const std::string& node, size_t lines = 25) const;
  void progress(const std::string& line) const;
  /// This lab's backend entry (backends/registry.h).
  const backends::Type& type() const {
    return backends::type_of(opts_.backend.value_or(config::BackendKind::kLxc));
  }

  std::string name_;
  config::Topology topo_;
  LabOptions opts_;
  std::filesystem::path state_dir_;
  std::map<std::string, std::string> images_;  // node -> image name
  std::map<std::string, NodeInfo> infos_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<NodeStorage> storage_;
  std::unique_ptr<virt::NodeSnapshots> snapshots_;  ///< null: nodes boot on every reset
  std::map<std::string, NodeReset> resets_;
  int64_t created_ = 0;
  bool kept_ = false;
  /// Nodes restored at `up` from kept states (they are ready: wait_all skips them).
  std::vector<std::string> restored_at_up_;
  /// Whether `node` has a complete saved state of the image it runs.
  bool has_saved_state(const std::string& node) const;
  /// create_state: takes kept states back (LabOptions::keep_states).
  void reclaim_kept_states();
  /// The cache key of the build of `image` this lab would use ("" when not built).
  std::string image_key(const std::string& image) const;
  std::string accel_;  ///< VM labs: "kvm" or "tcg" (resolve_accel); "test" on test:///
};

/// `opts` with every default filled in (URI, backend, image root, owner, ready timeout).
LabOptions with_defaults(LabOptions opts);

/// Runs argv on a remote lab host over SSH (its login as in LabOptions::lab_host).
util::Result<remote::ExecResult> exec_on_lab_host(const remote::SshJump& host,
                                                  const std::vector<std::string>& argv);
/// A remote lab host's IPv4 addresses and routes (`ip -j` there), for the subnet check.
util::Result<std::vector<config::HostPrefix>> read_lab_host_prefixes(const remote::SshJump& host);

}  // namespace testbed::lab
