#include "orchestrator/lab/lab.h"

#include <fmt/format.h>
#include <libvirt/libvirt.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "orchestrator/config/backend.h"
#include "orchestrator/images/build.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/remote/quote.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"
#include "orchestrator/backends/registry.h"
#include "orchestrator/virt/libvirt_backend.h"
#include "orchestrator/lab/host_firewall.h"
#include "orchestrator/lab/kept_states.h"
#include "orchestrator/lab/owner.h"
#include "orchestrator/virt/naming.h"
#include "orchestrator/virt/node_init.h"
#include "orchestrator/virt/xml.h"

namespace testbed::lab {
using namespace testbed::virt;  // the libvirt primitives the lifecycle drives
using backends::backend_kind_for_uri;
using backends::check_remote_lab_host;
using backends::is_remote_uri;
using backends::lab_host_ssh;
using backends::make_backend;
namespace fs = std::filesystem;
using config::BackendKind;
using nlohmann::json;

LabOptions with_defaults(LabOptions o) {
  if (o.image_root.empty()) o.image_root = images::default_cache_root();
  if (o.owner_pid == 0) o.owner_pid = ::getpid();
  if (o.uri.empty()) o.uri = backends::type_of(o.backend.value_or(BackendKind::kLxc)).default_uri;
  if (!o.backend) o.backend = backend_kind_for_uri(o.uri);
  if (o.ready_timeout.count() == 0 && o.backend)
    o.ready_timeout = backends::type_of(*o.backend).ready_timeout;
  return o;
}

namespace {

/// The backend lab.json names ("kvm" read as vm), `fallback` when it names none; an
/// unknown name fails.
util::Result<std::optional<BackendKind>> backend_in_state(const json& j,
                                                          std::optional<BackendKind> fallback) {
  if (!j.contains("backend")) return fallback;
  const std::string name = j["backend"].get<std::string>();
  if (name.empty()) return std::optional<BackendKind>();
  auto kind = config::parse_backend_kind(name);
  if (!kind) return util::fail("unknown backend '{}' (known: lxc, vm)", name);
  return kind;
}

util::Status keygen(const fs::path& path, const std::string& comment) {
  return remote::generate_ed25519_keypair(path, comment);
}

// The backend an image was built for (its manifest's "backend"); "" when unknown.
std::string image_backend(const images::ImageRef& ref) {
  auto j = images::read_manifest(ref);
  std::string b = j && j->contains("backend") && (*j)["backend"].is_string()
                      ? (*j)["backend"].get<std::string>()
                      : "";
  return config::normalise_backend(b);  // manifests of the older spelling
}

}  // namespace

Lab::~Lab() = default;

void Lab::progress(const std::string& line) const {
  if (opts_.progress)
    opts_.progress(line);
  else
    util::log_info("lab {}: {}", name_, line);
}

std::vector<std::string> Lab::node_names() const {
  std::vector<std::string> out;
  for (const auto& n : topo_.nodes) out.push_back(n.name);
  return out;
}

std::string Lab::interface_mac(const std::string& node, const std::string& network) const {
  return make_mac(name_ + "/" + node + "/" + network);
}

NodeInfo Lab::node(const std::string& name) const {
  auto it = infos_.find(name);
  assert(it != infos_.end() && "Lab::node: unknown node");
  return it->second;
}

std::string Lab::capture_interface() const {
  const auto* scan = topo_.network_by_role(config::NetworkRole::kScan);
  return infos_.at(topo_.router().name).host_devs.at(scan->name);
}

remote::SshTarget Lab::ssh_target(const std::string& node) const {
  remote::SshTarget t;
  t.host = this->node(node).mgmt_address;
  t.identity_file = (state_dir_ / "id_ed25519").string();
  t.known_hosts_file = (state_dir_ / "known_hosts").string();
  t.jump = opts_.lab_host;  // a remote lab's mgmt network is reachable only from its host
  return t;
}

util::Result<remote::ExecResult> exec_on_lab_host(const remote::SshJump& host,
                                                  const std::vector<std::string>& argv) {
  auto s = remote::SshSession::connect(remote::target_of(host));
  if (!s) return util::fail("lab host {}: {}", host.host, s.error().message);
  return s->exec(argv);
}

util::Result<std::vector<config::HostPrefix>> read_lab_host_prefixes(const remote::SshJump& host) {
  return config::read_host_prefixes(
      [&](const std::vector<std::string>& argv) -> util::Result<std::string> {
        auto r = exec_on_lab_host(host, argv);
        if (!r) return r.error();
        if (r->exit_status != 0)
          return util::fail("lab host {}: `{}` failed (exit {}): {}", host.host,
                            remote::shell_join(argv), r->exit_status, r->err);
        return r->out;
      });
}

util::Status Lab::attach_lab_host() {
  if (!opts_.lab_host) return {};
  const backends::Type& t = type();
  if (!t.remote_hosts)
    return util::fail("lab '{}' on {}: the {} backend cannot run on a remote lab host: {}", name_,
                      opts_.uri, config::backend_name(t.kind), t.no_remote_reason);
  backends::BackendParts parts{std::move(backend_), std::move(storage_), std::move(snapshots_)};
  auto s = t.attach_lab_host(parts);
  backend_ = std::move(parts.backend);
  storage_ = std::move(parts.storage);
  snapshots_ = std::move(parts.snapshots);
  return s;
}

std::vector<std::string> Lab::target_subnets() const { return topo_.target_subnets(); }

std::string Lab::bridge(const std::string& network) const { return bridge_name(name_, network); }

std::vector<std::pair<std::string, std::string>> Lab::capture_targets() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& net : topo_.networks) out.emplace_back(net.name, bridge(net.name));
  for (const auto& n : topo_.nodes)
    for (const auto& itf : n.interfaces)
      out.emplace_back(n.name + ":" + itf.network, infos_.at(n.name).host_devs.at(itf.network));
  return out;
}

util::Status Lab::write_state(bool kept) const {
  json j;
  j["name"] = name_;
  j["uri"] = opts_.uri;
  j["backend"] = config::backend_name(opts_.backend);
  if (!accel_.empty()) j["accel"] = accel_;
  j["owner_pid"] = opts_.owner_pid;
  j["owner_start_ticks"] = process_start_ticks(opts_.owner_pid);
  j["created"] = created_;
  j["kept"] = kept;
  j["topology_file"] = topo_.file;
  j["image_root"] = opts_.image_root.string();
  j["images"] = images_;
  j["reset"] = reset_mode();
  if (opts_.keep_states && snapshots_) {
    j["keep_states"] = true;
    j["keep_inputs"] = keep_inputs(opts_.uri, accel_, topo_.file);
  }
  return util::write_file_atomic(state_dir_ / "lab.json", j.dump(2) + "\n", 0600);
}

// Lab::up in stages, as libvirt's own drivers start a domain (init -> prepare -> launch ->
// finish): nothing exists until check_inputs and connect have passed; from create_state on,
// a failure takes down what exists.
util::Result<std::unique_ptr<Lab>> Lab::up(const config::Topology& topo, const LabOptions& in) {
  LabOptions opts = with_defaults(in);
  std::unique_ptr<Lab> lab(new Lab());
  lab->name_ = opts.name.empty() ? topo.name : opts.name;
  if (auto s = check_lab_name(lab->name_); !s) return s.error();
  lab->topo_ = topo;
  lab->opts_ = opts;
  lab->state_dir_ = opts.state_root / lab->name_;
  lab->created_ = static_cast<int64_t>(::time(nullptr));

  if (auto s = lab->check_inputs(); !s) return s.error();
  if (auto s = lab->connect(); !s) return s.error();
  lab->describe_nodes();

  auto fail_and_clean = [&](const util::Error& e) -> util::Result<std::unique_ptr<Lab>> {
    if (std::getenv("TESTBED_KEEP_FAILED_LAB")) {
      util::log_warn("TESTBED_KEEP_FAILED_LAB is set: leaving lab '{}' for inspection", lab->name_);
      return e;
    }
    if (auto s = lab->down(); !s)
      util::log_warn("cleaning up after a failed `lab up` also failed: {}", s.error().message);
    return e;
  };
  if (auto s = lab->create_state(); !s) return fail_and_clean(s.error());
  if (auto s = lab->launch(); !s) return fail_and_clean(s.error());
  if (opts.wait_until_ready) {
    if (auto s = lab->wait_all(); !s) return fail_and_clean(s.error());
    if (auto s = lab->capture_states(); !s) return fail_and_clean(s.error());
  }
  if (opts.keep) {
    lab->kept_ = true;
    if (auto s = lab->write_state(true); !s) return fail_and_clean(s.error());
  }
  return lab;
}

util::Status Lab::check_inputs() {
  const LabOptions& opts = opts_;
  if (!opts.reset.empty() && opts.reset != "snapshot" && opts.reset != "boot")
    return util::fail("reset '{}' is not one of snapshot, boot", opts.reset);
  if (fs::exists(state_dir_ / "lab.json"))
    return util::fail("lab '{}' already exists ({}); take it down first: testbed lab down {}",
                      name_, state_dir_.string(), name_);
  if (auto s = check_remote_lab_host(opts.uri, opts.backend); !s) return s;
  std::map<std::string, images::ImageRef> refs;
  std::string missing;
  for (const auto& n : topo_.nodes) {
    std::string image = opts.images.count(n.name) ? opts.images.at(n.name) : n.image;
    images_[n.name] = image;
    if (refs.count(image)) continue;
    auto ref = images::find_image(image, opts.image_root, type().kind);
    if (!ref) {
      missing += fmt::format("\n  {}: node '{}': {}", n.where, n.name, ref.error().message);
      continue;
    }
    refs.emplace(image, *ref);
  }
  if (!missing.empty()) return util::fail("images missing for lab '{}':{}", name_, missing);
  std::string wrong;
  for (const auto& n : topo_.nodes) {
    const std::string& image = images_[n.name];
    std::string built_for = image_backend(refs.at(image));
    if (!built_for.empty() && opts.backend && config::parse_backend_kind(built_for) != opts.backend)
      wrong += fmt::format("\n  {}: node '{}': image '{}' is a {} image", n.where, n.name, image,
                           built_for);
  }
  if (!wrong.empty())
    return util::fail(
        "lab '{}' runs on the {} backend ({}), but some nodes would boot images built for "
        "another backend:{}\nname a {} image for each (experiment key `node_images`, or "
        "the topology's `image:`)",
        name_, config::backend_name(opts.backend), opts.uri, wrong,
        config::backend_name(opts.backend));
  if (is_remote_uri(opts.uri) && !opts_.lab_host) {
    auto j = lab_host_ssh(opts.uri);
    if (!j) return j.error();
    opts_.lab_host = *j;
  }
  if (opts.check_host) {
    auto host = opts_.lab_host ? read_lab_host_prefixes(*opts_.lab_host)
                               : config::read_host_prefixes();
    if (!host) return host.error();
    if (auto s = config::check_against_host(topo_, *host); !s) return s;
  }
  return {};
}

util::Status Lab::connect() {
  auto a = type().resolve_accel(opts_.uri, opts_.accel);
  if (!a) return a.error();
  accel_ = *a;
  auto parts = make_backend(opts_.uri, opts_.backend, accel_.empty() ? "auto" : accel_);
  if (!parts) return parts.error();
  backend_ = std::move(parts->backend);
  storage_ = std::move(parts->storage);
  if (opts_.reset != "boot") snapshots_ = std::move(parts->snapshots);
  if (auto s = attach_lab_host(); !s) return s;
  if (accel_ == "kvm" || accel_ == "tcg")
    progress(fmt::format("nodes run under {}", accel_ == "kvm" ? "KVM"
                                                               : "QEMU's TCG emulator (no usable "
                                                                 "/dev/kvm, or accel: tcg)"));
  type().prepare_host(opts_.uri);
  return {};
}

void Lab::describe_nodes() {
  std::vector<std::string> names;
  std::vector<size_t> counts;
  for (const auto& n : topo_.nodes) {
    names.push_back(n.name);
    counts.push_back(n.interfaces.size());
  }
  auto veths = veth_names(name_, names, counts);
  for (size_t k = 0; k < topo_.nodes.size(); ++k) {
    const auto& n = topo_.nodes[k];
    NodeInfo info;
    info.name = n.name;
    info.role = n.role;
    info.image = images_.count(n.name) ? images_[n.name] : n.image;
    info.domain = domain_name(name_, n.name);
    for (size_t i = 0; i < n.interfaces.size(); ++i) {
      const auto& itf = n.interfaces[i];
      info.addresses[itf.network] = util::format_ipv4(itf.address);
      info.host_devs[itf.network] = veths[k][i];
      if (topo_.network(itf.network)->role == config::NetworkRole::kMgmt)
        info.mgmt_address = util::format_ipv4(itf.address);
    }
    infos_[n.name] = info;
  }
}

util::Status Lab::create_state() {
  std::error_code ec;
  fs::create_directories(state_dir_ / "nodes", ec);
  if (ec) return util::fail("cannot create lab state dir {}: {}", state_dir_.string(), ec.message());
  ::chmod(state_dir_.c_str(), 0700);
  if (auto s = write_state(false); !s) return s;
  if (auto text = util::read_file(topo_.file))
    (void)util::write_file_atomic(state_dir_ / "topology.yaml", *text, 0600);
  if (opts_.keep_states && snapshots_) reclaim_kept_states();
  // Keys taken back with kept states are the ones their guests know: made only when absent.
  auto key = [](const fs::path& path, const std::string& comment) -> util::Status {
    std::error_code e;
    return fs::exists(path, e) ? util::Status{} : keygen(path, comment);
  };
  if (auto s = key(state_dir_ / "id_ed25519", "testbed-lab-" + name_); !s) return s;
  std::string known_hosts;
  for (const auto& n : topo_.nodes) {
    fs::path nd = state_dir_ / "nodes" / n.name;
    fs::create_directories(nd, ec);
    if (auto s = key(nd / "ssh_host_ed25519_key", n.name + "@" + name_); !s) return s;
    auto line =
        remote::known_hosts_line(infos_[n.name].mgmt_address, 22, nd / "ssh_host_ed25519_key.pub");
    if (!line) return line.error();
    known_hosts += *line;
    if (known_hosts.back() != '\n') known_hosts += '\n';
  }
  return util::write_file_atomic(state_dir_ / "known_hosts", known_hosts, 0600);
}

std::vector<const config::TopologyNode*> Lab::boot_order() const {
  // Router first: it forwards and serves DNS for the others.
  std::vector<const config::TopologyNode*> order;
  order.push_back(&topo_.router());
  for (const auto& n : topo_.nodes)
    if (n.role != config::NodeRole::kRouter) order.push_back(&n);
  return order;
}

util::Status Lab::launch() {
  if (auto s = create_networks(); !s) return s;
  if (auto s = contain_lab(name_, topo_, opts_.uri, opts_.owner_pid,
                           process_start_ticks(opts_.owner_pid), infos_);
      !s)
    return s;
  for (const auto* n : boot_order()) {
    if (snapshots_ && opts_.wait_until_ready && has_saved_state(n->name)) {
      restored_at_up_.push_back(n->name);  // kept from an earlier lab: restored below
      continue;
    }
    if (auto s = create_node(*n); !s) return s;
  }
  // While the others boot. A state that cannot be restored boots its node instead.
  if (!restored_at_up_.empty())
    if (auto s = reset_nodes(restored_at_up_); !s) return s;
  return {};
}

util::Status Lab::wait_all() {
  for (const auto* n : boot_order()) {
    if (std::find(restored_at_up_.begin(), restored_at_up_.end(), n->name) !=
        restored_at_up_.end())
      continue;  // restored and refreshed, or booted and waited for by reset_nodes
    if (auto s = wait_ready(n->name, opts_.ready_timeout); !s) return s;
    progress(fmt::format("node {} ready", n->name));
  }
  return {};
}

util::Status Lab::create_networks() {
  ObjectMeta meta{name_, opts_.owner_pid, created_, state_dir_.string()};
  for (const auto& net : topo_.networks) {
    NetworkSpec spec;
    spec.name = network_name(name_, net.name);
    spec.bridge = bridge_name(name_, net.name);
    spec.prefix = net.cidr.prefix;
    spec.meta = meta;
    spec.mac = make_mac(name_ + "/bridge/" + net.name);
    if (net.role == config::NetworkRole::kMgmt) spec.host_address = net.host_address;
    if (auto s = backend_->create_network(spec); !s) return s;
    progress(fmt::format("network {} up (bridge {})", net.name, spec.bridge));
  }
  return {};
}

util::Status Lab::create_node(const config::TopologyNode& n) {
  const NodeInfo& info = infos_.at(n.name);
  auto ref = images::find_image(info.image, opts_.image_root,
                                type().kind);
  if (!ref) return ref.error();
  fs::path nd = state_dir_ / "nodes" / n.name;
  BootConfig boot = make_boot_config(topo_, name_, n);
  NodeRootRequest req;
  req.node_dir = nd;
  req.image_root = ref->rootfs;
  req.boot = &boot;  // KVM: the storage turns it into the node's cloud-init seed
  req.files["/testbed/init.sh"] = {make_init_script(boot), 0755};
  req.files["/testbed/node.env"] = {make_node_env(boot), 0644};
  req.files["/etc/resolv.conf"] = {make_resolv_conf(topo_, n), 0644};
  req.files["/etc/hostname"] = {n.name + "\n", 0644};
  req.files["/etc/hosts"] = {fmt::format("127.0.0.1 localhost\n127.0.1.1 {}\n", n.name), 0644};
  if (n.role == config::NodeRole::kRouter)
    req.files["/testbed/lab-hosts"] = {make_lab_hosts(topo_), 0644};
  auto lab_pub = util::read_file(state_dir_ / "id_ed25519.pub");
  auto host_key = util::read_file(nd / "ssh_host_ed25519_key");
  auto host_pub = util::read_file(nd / "ssh_host_ed25519_key.pub");
  if (!lab_pub) return lab_pub.error();
  if (!host_key) return host_key.error();
  if (!host_pub) return host_pub.error();
  req.files["/root/.ssh/authorized_keys"] = {*lab_pub, 0600};
  req.files["/etc/ssh/ssh_host_ed25519_key"] = {*host_key, 0600};
  req.files["/etc/ssh/ssh_host_ed25519_key.pub"] = {*host_pub, 0644};

  NodeSpec spec;
  spec.name = info.domain;
  spec.title = fmt::format("testbed lab {}: {} {} ({})", name_, config::to_string(n.role), n.name,
                           info.image);
  spec.meta = ObjectMeta{name_, opts_.owner_pid, created_, state_dir_.string()};
  spec.init = lxc_init_argv();
  spec.memory_mib = type().node_memory_mib;
  for (const auto& itf : n.interfaces) {
    InterfaceSpec is;
    is.network = network_name(name_, itf.network);
    is.host_dev = info.host_devs.at(itf.network);
    is.guest_dev = itf.network;
    is.mac = interface_mac(n.name, itf.network);
    spec.interfaces.push_back(is);
  }
  if (auto s = storage_->prepare(req, &spec); !s) return s;
  if (auto s = backend_->create_node(spec); !s) return s;
  no_host_ipv6(n.name);
  progress(fmt::format("node {} started ({})", n.name, info.image));
  return {};
}

void Lab::no_host_ipv6(const std::string& node) const {
  // The host side of the veths and taps carries no IPv6 (it would speak link-local and
  // answer ND on lab links). Called whenever they are made anew: a boot, and a snapshot
  // restore, whose new QEMU process makes new taps.
  const NodeInfo& info = infos_.at(node);
  if (opts_.lab_host) {
    std::vector<std::string> argv = {"sysctl", "-qw"};
    for (const auto& [network, dev] : info.host_devs)
      argv.push_back("net.ipv6.conf." + dev + ".disable_ipv6=1");
    if (auto r = exec_on_lab_host(*opts_.lab_host, argv); !r || r->exit_status != 0)
      util::log_warn("lab host {}: could not turn IPv6 off on {}'s tap devices: {}",
                     opts_.lab_host->host, node, r ? r->err : r.error().message);
  } else {
    for (const auto& [network, dev] : info.host_devs) {
      std::ofstream f("/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6");
      f << "1\n";
    }
  }
}

util::Result<remote::ExecResult> Lab::exec(const std::string& node,
                                           const std::vector<std::string>& argv,
                                           const remote::ExecOptions& opts) const {
  auto t = ssh_target(node);
  t.connect_timeout = std::chrono::milliseconds(t.jump ? 20000 : 5000);
  auto session = remote::SshSession::connect(t);
  if (!session)
    return util::fail("node '{}' of lab '{}': {}", node, name_, session.error().message);
  return session->exec(argv, opts);
}

util::Status Lab::wait_ready(const std::string& node, std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + timeout;
  // 1. SSH reachable (sshd starts early in the node's init).
  auto t = ssh_target(node);
  // Through a remote lab host the jump's own SSH login comes first (~2 s on a loaded host).
  t.connect_timeout = std::chrono::milliseconds(t.jump ? 20000 : 2000);
  auto session = remote::SshSession::connect_retrying(
      t, t.jump ? std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(30)) : timeout,
      std::chrono::milliseconds(50));
  // Through a remote lab host, every 30 s without a login asks its libvirt whether the
  // node still runs: a lab host that died ends the wait then, not after the whole timeout.
  while (!session && t.jump && clock::now() < deadline) {
    auto running = backend_->node_running(infos_.at(node).domain);
    if (!running || !*running) {
      return util::fail("node '{}' of lab '{}': check 'ssh' failed: {} (last SSH error: {})",
                        node, name_,
                        running ? "its domain is no longer running"
                                : "the lab host's libvirt does not answer: " +
                                      running.error().message,
                        session.error().message);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    session = remote::SshSession::connect_retrying(
        t, std::min<std::chrono::milliseconds>(left, std::chrono::seconds(30)),
        std::chrono::milliseconds(50));
  }
  if (!session) {
    std::string console = console_tail(node);
    return util::fail(
        "node '{}' of lab '{}': check 'ssh' failed: no SSH login at {} within {} ms: {}{}", node,
        name_, t.host, timeout.count(), session.error().message,
        console.empty() ? ""
                        : fmt::format("\nlast lines of its console ({}):\n{}",
                                      (state_dir_ / "nodes" / node / "console.log").string(),
                                      console));
  }
  // 2. Init finished and services started, then the image's health checks.
  auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - clock::now()).count();
  if (left < 1) left = 1;
  std::string script = fmt::format(
      "i=0; while [ ! -e /run/testbed/booted ] && [ $i -lt {0} ]; do sleep 0.1; i=$((i+1)); done\n"
      "[ -e /run/testbed/booted ] || {{ echo 'init did not finish'; tail -n 20 "
      "/var/log/testbed/init.log; exit 3; }}\n"
      "if [ -e /run/testbed/failed ]; then echo \"init failed: $(cat /run/testbed/failed)\"; exit "
      "4; fi\n"
      "if [ -x /testbed/health.sh ]; then exec /testbed/health.sh --wait {1}; fi\n",
      left * 10, left);
  remote::ExecOptions eo;
  eo.timeout = std::chrono::milliseconds((left + 10) * 1000);
  auto r = session->exec_shell(script, eo);  // fixed script from this file
  // A guest whose sshd is restarted by its init (or a loaded TCG host) may drop the first
  // connection: log in again while time is left rather than fail the lab.
  while (!r && clock::now() + std::chrono::seconds(2) < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto again = remote::SshSession::connect_retrying(
        t, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()),
        std::chrono::milliseconds(200));
    if (!again) break;
    *session = std::move(*again);
    r = session->exec_shell(script, eo);
  }
  if (!r)
    return util::fail("node '{}' of lab '{}': readiness check failed: {}", node, name_,
                      r.error().message);
  if (r->exit_status == 0) return check_expect(node, *session);
  const char* check = r->exit_status == 3 ? "init" : r->exit_status == 4 ? "services" : "health.sh";
  return util::fail("node '{}' of lab '{}': check '{}' failed (exit {}):\n{}{}", node, name_, check,
                    r->exit_status, r->out, r->err);
}

util::Status Lab::check_expect(const std::string& node, remote::SshSession& session) {
  auto ref = images::find_image(infos_.at(node).image, opts_.image_root,
                                type().kind);
  if (!ref) return {};  // a fake image in tests; up() already refused missing ones
  auto m = images::read_manifest(*ref);
  if (!m || !m->contains("expect") || !(*m)["expect"].is_object()) return {};
  config::Recipe want;
  want.name = infos_.at(node).image;
  want.expect.nmap_version = (*m)["expect"].value("nmap_version", std::string());
  if ((*m)["expect"].contains("packages") && (*m)["expect"]["packages"].is_object())
    want.expect.packages =
        (*m)["expect"]["packages"].get<std::map<std::string, std::string>>();
  images::BuildOutput found;
  std::vector<std::string> argv = {"dpkg-query", "-W",
                                   "-f=${db:Status-Abbrev}\t${Package}\t${Version}\n"};
  for (const auto& [pkg, prefix] : want.expect.packages) argv.push_back(pkg);
  if (!want.expect.packages.empty()) {
    auto q = session.exec(argv);
    if (!q) return util::fail("node '{}' of lab '{}': check 'expect': {}", node, name_, q.error().message);
    found.packages = images::parse_dpkg_query(q->out);
  }
  if (!want.expect.nmap_version.empty()) {
    auto v = session.exec({"nmap", "--version"});
    if (!v) return util::fail("node '{}' of lab '{}': check 'expect': {}", node, name_, v.error().message);
    found.nmap_version = images::parse_nmap_version(v->out);
  }
  auto s = images::check_expectations(want, found);
  if (s) return {};
  return util::fail("node '{}' of lab '{}': check 'expect' failed on the booted node: {}", node,
                    name_, s.error().message);
}

std::string Lab::console_tail(const std::string& node, size_t lines) const {
  auto text = util::read_file(state_dir_ / "nodes" / node / "console.log");
  if (!text || text->empty()) return "";
  std::vector<std::string> all;
  std::istringstream in(*text);
  for (std::string l; std::getline(in, l);) {
    while (!l.empty() && (l.back() == '\r')) l.pop_back();
    all.push_back("  | " + l);
  }
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += all[i] + "\n";
  return out;
}

util::Status Lab::reset_node(const std::string& node, const std::string& image, bool boot) {
  if (auto s = use_image(node, image); !s) return s;
  return reset_nodes({node}, boot);
}

util::Status Lab::use_image(const std::string& node, const std::string& image) {
  const config::TopologyNode* n = topo_.node(node);
  if (!n) return util::fail("lab '{}' has no node '{}'", name_, node);
  if (!image.empty() && image != images_[node]) {
    auto ref = images::find_image(image, opts_.image_root,
                                  type().kind);
    if (!ref) return ref.error();
    std::string built_for = image_backend(*ref);
    if (!built_for.empty() && opts_.backend &&
        config::parse_backend_kind(built_for) != opts_.backend)
      return util::fail("image '{}' is a {} image; lab '{}' runs on the {} backend ({})", image,
                        built_for, name_, config::backend_name(opts_.backend), opts_.uri);
    images_[node] = image;
    infos_[node].image = image;
    if (auto s = write_state(kept_); !s) return s;
  }
  return {};
}

util::Result<std::unique_ptr<Lab>> Lab::open(const std::string& name, const LabOptions& in) {
  LabOptions opts = with_defaults(in);
  if (auto s = check_lab_name(name); !s) return s.error();
  fs::path dir = opts.state_root / name;
  auto text = util::read_file(dir / "lab.json");
  if (!text)
    return util::fail("no lab '{}' (no {}): see `testbed lab status`", name,
                      (dir / "lab.json").string());
  json j;
  try {
    j = json::parse(*text);
  } catch (const std::exception& e) {
    return util::fail("{} is damaged: {}; remove the lab with `testbed lab down {}`",
                      (dir / "lab.json").string(), e.what(), name);
  }
  auto topo_text = util::read_file(dir / "topology.yaml");
  if (!topo_text) return topo_text.error();
  auto topo =
      config::parse_topology(*topo_text, j.value("topology_file", std::string("topology.yaml")));
  if (!topo) return topo.error();
  opts.name = name;
  opts.uri = j.value("uri", opts.uri);
  auto backend = backend_in_state(j, backend_kind_for_uri(opts.uri));
  if (!backend) return backend.error();
  opts.backend = *backend;
  opts.owner_pid = j.value("owner_pid", int64_t{0});
  opts.image_root = j.value("image_root", opts.image_root.string());
  opts.reset = j.value("reset", std::string("boot"));  // labs from before snapshot resets
  std::unique_ptr<Lab> lab(new Lab());
  lab->name_ = name;
  lab->topo_ = *topo;
  lab->opts_ = opts;
  lab->state_dir_ = dir;
  lab->created_ = j.value("created", int64_t{0});
  lab->kept_ = j.value("kept", false);
  lab->images_ = j.value("images", std::map<std::string, std::string>{});
  if (is_remote_uri(opts.uri) && !opts.lab_host) {
    auto jh = lab_host_ssh(opts.uri);
    if (!jh) return jh.error();
    opts.lab_host = *jh;
    lab->opts_.lab_host = *jh;
  }
  lab->accel_ = j.value("accel", std::string());
  auto parts = make_backend(opts.uri, opts.backend, lab->accel_.empty() ? "tcg" : lab->accel_);
  if (!parts) return parts.error();
  lab->backend_ = std::move(parts->backend);
  lab->storage_ = std::move(parts->storage);
  if (lab->opts_.reset != "boot") lab->snapshots_ = std::move(parts->snapshots);
  if (auto s = lab->attach_lab_host(); !s) return s.error();
  lab->describe_nodes();
  return lab;
}

util::Result<std::vector<NodeStatus>> Lab::status() {
  std::vector<NodeStatus> out;
  for (const auto& n : topo_.nodes) {
    NodeStatus st;
    st.info = infos_.at(n.name);
    auto running = backend_->node_running(st.info.domain);
    if (!running) return running.error();
    st.running = *running;
    if (st.running) {
      auto t = ssh_target(n.name);
      t.connect_timeout = std::chrono::milliseconds(2000);
      st.ssh_reachable = remote::SshSession::connect(t).ok();
    }
    st.saved_state_bytes = virt::saved_state_bytes(state_dir_ / "nodes" / n.name);
    out.push_back(st);
  }
  return out;
}

std::map<std::string, std::string> Lab::provenance() const {
  std::map<std::string, std::string> p;
  p["lab"] = name_;
  p["uri"] = opts_.uri;
  p["backend"] = config::backend_name(opts_.backend);
  p["reset"] = reset_mode();
  type().provenance(*backend_, accel_, &p);
  unsigned long lib = 0;
  if (virGetVersion(&lib, nullptr, nullptr) == 0)
    p["libvirt_version"] = fmt::format("{}.{}.{}", lib / 1000000, lib / 1000 % 1000, lib % 1000);
  struct utsname u;
  if (::uname(&u) == 0) p["kernel"] = std::string(u.release) + " " + u.version;
  if (auto h = util::sha256_file(state_dir_ / "topology.yaml")) p["topology_sha256"] = *h;
  for (const auto& [node, image] : images_) {
    const std::string key = image_key(image);
    p["image." + node] = image + "@" + (key.empty() ? "?" : key);
  }
  return p;
}

std::string Lab::image_key(const std::string& image) const {
  auto ref = images::find_image(image, opts_.image_root, type().kind);
  return ref ? ref->key : std::string();
}

util::Status Lab::down() {
  LabOptions o = opts_;
  o.name = name_;
  return destroy(name_, o);
}

util::Status Lab::destroy(const std::string& name, const LabOptions& in) {
  LabOptions opts = with_defaults(in);
  if (auto s = check_lab_name(name); !s) return s;
  fs::path dir = opts.state_root / name;
  std::string uri = opts.uri;
  std::optional<BackendKind> kind = in.backend;
  json keep;  // lab.json's keep_inputs when the lab keeps its saved states
  if (auto text = util::read_file(dir / "lab.json")) {
    try {
      auto j = json::parse(*text);
      uri = j.value("uri", uri);
      if (j.value("keep_states", false) && j.contains("keep_inputs")) keep = j["keep_inputs"];
      auto k = backend_in_state(j, kind);
      if (!k) return k.error();
      kind = *k;
    } catch (const std::exception&) {
    }
  }
  auto parts = make_backend(uri, kind, "tcg");  // removal: the domain type does not matter
  if (!parts) return parts.error();
  auto& backend = parts->backend;
  auto objs = backend->list_objects();
  if (!objs) return objs.error();
  std::string errors;
  // What the backend keeps outside domains and networks (a remote lab's node volumes).
  if (is_remote_uri(uri) && kind)
    if (auto s = backends::type_of(*kind).remove_lab_storage(*backend, uri, name); !s)
      errors += s.error().message + "\n";
  // Domains first (their veths go with them), then networks (bridges go with them).
  for (auto kind : {ObjectKind::kDomain, ObjectKind::kNetwork})
    for (const auto& o : *objs) {
      if (o.meta.lab != name || o.kind != kind) continue;
      auto s = kind == ObjectKind::kDomain ? backend->remove_node(o.name)
                                           : backend->remove_network(o.name);
      if (!s) errors += s.error().message + "\n";
    }
  // The state dir recorded in the objects' metadata too (a lab made with another
  // --state-dir), but only a dir named after the lab: metadata is not trusted further.
  std::set<fs::path> dirs = {dir};
  for (const auto& o : *objs)
    if (o.meta.lab == name && !o.meta.state_dir.empty() &&
        fs::path(o.meta.state_dir).filename() == name && fs::path(o.meta.state_dir).is_absolute())
      dirs.insert(fs::path(o.meta.state_dir));
  // The domains are gone, so the states' frozen disks are nobody's backing file now.
  if (errors.empty() && !keep.is_null()) {
    auto kept = stash_states(dir, kept_dir(opts.state_root, name), keep);
    if (!kept)
      util::log_warn("lab {}: its saved states could not be kept (the next lab boots): {}", name,
                     kept.error().message);
    else if (*kept > 0)
      util::log_info("lab {}: {} saved state(s) kept in {} for the next lab of this name", name,
                     *kept, kept_dir(opts.state_root, name).string());
  }
  for (const auto& d : dirs) {
    if (auto s = unmount_all_under(d); !s) errors += s.error().message + "\n";
    std::error_code ec;
    if (errors.empty() && fs::exists(d)) {
      if (!mounts_under(d).empty())
        errors += fmt::format("mounts remain under {}; not deleting it\n", d.string());
      else
        fs::remove_all(d, ec);
      if (ec) errors += fmt::format("cannot remove {}: {}\n", d.string(), ec.message());
    }
  }
  if (host_firewall_applies(uri))
    if (auto s = remove_host_firewall(name); !s) errors += s.error().message + "\n";
  if (!errors.empty()) {
    errors.pop_back();
    return util::fail("taking down lab '{}' left something behind:\n{}", name, errors);
  }
  return {};
}

}  // namespace testbed::lab
