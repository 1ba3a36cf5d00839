#include "orchestrator/runner/real_drivers.h"

#include <future>

#include <fmt/format.h>
#include <time.h>

#include <algorithm>

#include "orchestrator/capture/live_capture.h"
#include "orchestrator/capture/remote_capture.h"
#include "orchestrator/capture/wake_frame.h"
#include "orchestrator/config/backend.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/remote/ssh.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"
#include "orchestrator/lab/lab.h"

namespace testbed::runner {
namespace {

using util::fail;
using util::Result;
using util::Status;

/// The scanner node over one SSH session (pinned host key, the lab's key).
class SshScannerShell : public ScannerShell {
 public:
  SshScannerShell(remote::SshSession s, std::string node, const std::atomic<bool>* cancel)
      : session_(std::move(s)), node_(std::move(node)), cancel_(cancel) {}

  Result<int> run_streaming(const std::vector<std::string>& argv,
                            const std::function<void(std::string_view)>& on_line,
                            std::chrono::milliseconds timeout) override {
    remote::ExecOptions o;
    o.pty = true;  // Nmap prints its -v lines as they happen only on a terminal
    o.on_line = on_line;
    o.timeout = timeout;
    o.cancel = cancel_;
    auto r = session_.exec(argv, o);
    if (!r) return r.error();
    return r->exit_status;
  }

  Result<std::string> output_of(const std::vector<std::string>& argv) override {
    remote::ExecOptions o;
    o.timeout = std::chrono::seconds(60);
    o.cancel = cancel_;
    auto r = session_.exec(argv, o);
    if (!r) return r.error();
    if (r->exit_status != 0)
      return fail("{} on {} exited with status {}: {}", argv.empty() ? "" : argv[0], node_,
                  r->exit_status, r->err.empty() ? r->out : r->err);
    return r->out;
  }

  Status fetch(const std::string& remote_path, const std::string& local_path) override {
    return session_.download(remote_path, local_path);
  }

 private:
  remote::SshSession session_;
  std::string node_;
  const std::atomic<bool>* cancel_;
};

/// lab::Lab for one experiment: the topology's lab with the scanner node re-imaged per
/// scanner version.
class VirtLabDriver : public LabDriver {
 public:
  VirtLabDriver(config::Topology topo, lab::LabOptions opts, const std::atomic<bool>* cancel)
      : topo_(std::move(topo)), opts_(std::move(opts)), cancel_(cancel) {}
  ~VirtLabDriver() override { down().ok(); }

  Status up() override {
    if (lab_) return {};
    auto lab = lab::Lab::up(topo_, opts_);
    if (!lab) return lab.error();
    lab_ = std::move(*lab);
    facts_ = {};
    facts_.name = lab_->name();
    for (const auto& n : topo_.nodes) {
      if (n.role == config::NodeRole::kScanner && facts_.scanner_node.empty())
        facts_.scanner_node = n.name;
      if (n.role == config::NodeRole::kTarget) facts_.target_nodes.push_back(n.name);
    }
    if (facts_.scanner_node.empty())
      return fail("{}: the topology has no scanner node", topo_.file);
    if (const auto* scan = topo_.network_by_role(config::NetworkRole::kScan)) {
      auto info = lab_->node(facts_.scanner_node);
      auto it = info.addresses.find(scan->name);
      if (it != info.addresses.end()) facts_.scanner_address = it->second;
      facts_.scan_interface = scan->name;
      for (const auto& n : topo_.nodes)
        if (n.role == config::NodeRole::kRouter)
          facts_.router_mac = lab_->interface_mac(n.name, scan->name);
    }
    facts_.target_subnets = lab_->target_subnets();
    facts_.capture_interface = lab_->capture_interface();
    if (lab_->lab_host()) facts_.capture_host = remote::target_of(*lab_->lab_host());
    facts_.provenance = nlohmann::json::object();
    for (const auto& [k, v] : lab_->provenance()) facts_.provenance[k] = v;
    return {};
  }

  const LabFacts& facts() const override { return facts_; }

  Status prepare_scanner(const std::string& image) override {
    if (!lab_) return fail("the lab is not up");
    return lab_->reset_node(facts_.scanner_node, image);
  }

  Status wake_scanner() override {
    if (!lab_) return fail("the lab is not up");
    if (lab_->lab_host()) return fail("waking the scanner needs the lab on this host");
    const auto* scan = topo_.network_by_role(config::NetworkRole::kScan);
    if (!scan) return fail("{}: the topology has no scan network", topo_.file);
    auto info = lab_->node(facts_.scanner_node);
    auto dev = info.host_devs.find(scan->name);
    if (dev == info.host_devs.end())
      return fail("the scanner node has no interface on {}", scan->name);
    return capture::send_wake_frame(dev->second,
                                    lab_->interface_mac(facts_.scanner_node, scan->name));
  }

  Status reset_targets() override {
    if (!lab_) return fail("the lab is not up");
    return lab_->reset_nodes(facts_.target_nodes);
  }

  // Targets and scanner in one Lab::reset_nodes call: their restores (or boots) overlap.
  Status reset_for_run(bool targets, const std::string& image, nlohmann::json* resets,
                       std::string* stage) override {
    if (!lab_) return fail("the lab is not up");
    *stage = "start-scanner";
    if (auto st = lab_->use_image(facts_.scanner_node, image); !st) return st;
    std::vector<std::string> nodes = {facts_.scanner_node};
    if (targets) {
      *stage = "reset-targets";
      nodes.insert(nodes.end(), facts_.target_nodes.begin(), facts_.target_nodes.end());
    }
    auto st = lab_->reset_nodes(nodes);
    resets->update(last_resets());
    return st;
  }

  nlohmann::json last_resets() const override {
    nlohmann::json j = nlohmann::json::object();
    if (lab_)
      for (const auto& [node, r] : lab_->last_resets()) j[node] = lab::to_json(r);
    return j;
  }

  // The targets are checked at once (one SSH session each): under TCG a node's health
  // checks take a second or more, so checking three one after another tripled the wait.
  Status check_targets() override {
    if (!lab_) return fail("the lab is not up");
    std::vector<std::future<Status>> checks;
    for (const auto& t : facts_.target_nodes)
      checks.push_back(std::async(std::launch::async, [this, &t]() -> Status {
        auto running = lab_->backend().node_running(lab_->node(t).domain);
        if (!running) return running.error();
        if (!*running) return fail("target {} stopped during the scan", t);
        // Seconds for a healthy node; a VM under TCG runs its checks several times slower.
        if (auto st = lab_->wait_ready(t, std::chrono::seconds(30)); !st)
          return fail("target {} is no longer healthy after the scan: {}", t,
                      st.error().message);
        return {};
      }));
    Status first;
    for (auto& c : checks)
      if (auto st = c.get(); !st && first) first = st;
    return first;
  }

  Result<nlohmann::json> image_manifest(const std::string& node) override {
    if (!lab_) return fail("the lab is not up");
    auto ref = images::find_image(
        lab_->node(node).image,
        opts_.image_root.empty() ? images::default_cache_root() : opts_.image_root,
        opts_.backend.value_or(config::BackendKind::kLxc));
    if (!ref) return ref.error();
    return images::read_manifest(*ref);
  }

  Result<std::unique_ptr<ScannerShell>> scanner_shell() override {
    if (!lab_) return fail("the lab is not up");
    auto s = remote::SshSession::connect_retrying(lab_->ssh_target(facts_.scanner_node),
                                                  std::chrono::seconds(30));
    if (!s) return s.error();
    return std::unique_ptr<ScannerShell>(
        std::make_unique<SshScannerShell>(std::move(*s), facts_.scanner_node, cancel_));
  }

  Status host_alive() override {
    if (!lab_) return fail("the lab is not up");
    if (!lab_->lab_host()) return {};  // a local lab: this machine is its host
    if (auto objs = lab_->backend().list_objects(); !objs) return objs.error();
    auto r = lab::exec_on_lab_host(*lab_->lab_host(), {"true"});
    if (!r) return r.error();
    return {};
  }

  Status down() override {
    if (!lab_) return {};
    auto st = lab_->down();
    lab_.reset();
    return st;
  }

 private:
  config::Topology topo_;
  lab::LabOptions opts_;
  const std::atomic<bool>* cancel_;
  std::unique_ptr<lab::Lab> lab_;
  LabFacts facts_;
};

/// A running capture, local (LiveCapture) or on a remote lab host (RemoteCapture).
template <typename Capture>
class ActiveCaptureOf : public ActiveCapture {
 public:
  explicit ActiveCaptureOf(std::unique_ptr<Capture> c) : c_(std::move(c)) {}
  uint64_t packets_so_far() const override { return c_->packets_so_far(); }
  Result<CaptureCounters> stop() override {
    auto s = c_->stop();
    if (!s) return s.error();
    CaptureCounters k;
    k.packets = s->packets_written;
    k.bytes = s->bytes_on_wire;
    k.kernel_dropped = s->kernel_dropped;
    k.interface_dropped = s->interface_dropped;
    return k;
  }

 private:
  std::unique_ptr<Capture> c_;
};

class LiveCaptureDriver : public CaptureDriver {
 public:
  Result<std::unique_ptr<ActiveCapture>> start(const CaptureSettings& s) override {
    capture::CaptureOptions o;
    o.interface = s.interface;
    o.output = s.output_path;
    o.snaplen = s.snaplen;
    o.buffer_bytes = s.buffer_bytes;
    o.stop_grace = std::chrono::milliseconds(static_cast<int64_t>(s.grace_seconds * 1000));
    if (s.host) {  // the interface is on a remote lab host: tcpdump there, over SSH
      auto c = capture::RemoteCapture::start(*s.host, o);
      if (!c) return c.error();
      return std::unique_ptr<ActiveCapture>(
          std::make_unique<ActiveCaptureOf<capture::RemoteCapture>>(std::move(*c)));
    }
    auto c = capture::LiveCapture::start(o);
    if (!c) return c.error();
    return std::unique_ptr<ActiveCapture>(
        std::make_unique<ActiveCaptureOf<capture::LiveCapture>>(std::move(*c)));
  }
};

}  // namespace

std::string default_lab_name(const config::Experiment& exp) {
  std::string n;
  for (char c : exp.name) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    n += (std::isalnum(static_cast<unsigned char>(l)) || l == '-') ? l : '-';
  }
  if (n.empty() || !std::isalpha(static_cast<unsigned char>(n[0]))) n = "x" + n;
  return n.substr(0, 24);
}

std::vector<std::string> images_needed(const config::Experiment& exp,
                                       const config::Topology& topo) {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  for (const auto& n : topo.nodes) {
    if (n.role == config::NodeRole::kScanner) continue;
    auto it = exp.node_images.find(n.name);
    add(it != exp.node_images.end() ? it->second : n.image);
  }
  for (const auto& s : exp.scanners) add(s.image);
  return out;
}

Result<std::unique_ptr<LabDriver>> make_lab_driver(const config::Experiment& exp,
                                                   const LabDriverOptions& opts) {
  auto topo = config::load_topology(exp.topology.string());
  if (!topo) return topo.error();
  lab::LabOptions lo;
  lo.name = opts.lab_name.empty() ? default_lab_name(exp) : opts.lab_name;
  lo.uri = !opts.uri.empty() ? opts.uri : config::lab_uris(exp).front();
  lo.backend = exp.backend;
  lo.accel = exp.accel;
  lo.reset = exp.reset;
  lo.keep_states = exp.keep_states;
  lo.images = exp.node_images;  // e.g. kvm-router for router on KVM
  if (!exp.scanners.empty()) {
    for (const auto& n : topo->nodes) {
      // The lab starts on the first scanner's image; each run re-images the node.
      if (n.role == config::NodeRole::kScanner) lo.images[n.name] = exp.scanners.front().image;
    }
  }
  lo.keep = opts.keep;
  return std::unique_ptr<LabDriver>(
      std::make_unique<VirtLabDriver>(std::move(*topo), std::move(lo), opts.cancel));
}

std::unique_ptr<CaptureDriver> make_capture_driver() {
  return std::make_unique<LiveCaptureDriver>();
}

HostDriverFactory make_host_driver_factory(const config::Experiment& exp,
                                           const LabDriverOptions& opts, size_t host_count) {
  return [&exp, opts, host_count](const runner::LabHost& host, size_t index) -> Result<HostDrivers> {
    LabDriverOptions o = opts;
    o.uri = host.uri;
    o.lab_name = runner::host_lab_name(opts.lab_name.empty() ? default_lab_name(exp) : opts.lab_name,
                                     index, host_count);
    auto lab = make_lab_driver(exp, o);
    if (!lab) return lab.error();
    return HostDrivers{std::move(*lab), make_capture_driver()};
  };
}

double SystemClock::now() const {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

}  // namespace testbed::runner
