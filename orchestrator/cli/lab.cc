// `testbed lab up|status|exec|cp|reset|down` — bring a topology's lab up by hand, look at it,
// run commands on its nodes, take it down.
#include "orchestrator/config/backend.h"
#include "orchestrator/lab/lab.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>

#include "orchestrator/cli/commands.h"
#include "orchestrator/cli/lab_node_io.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/util/log.h"
#include "orchestrator/virt/naming.h"

namespace testbed::cli {
using lab::Lab;
namespace fs = std::filesystem;
namespace {

struct LabArgs {
  std::string topology;
  std::string name;
  std::string uri = "lxc:///system";
  std::string backend;        ///< up: lxc | vm (default: implied by --uri)
  std::string accel = "auto";  ///< up, vm: auto | kvm | tcg
  std::string reset;           ///< up: snapshot | boot; empty: snapshot where possible
  bool boot = false;           ///< reset: boot even when the node has a saved state
  bool keep_states = false;    ///< up, vm: saved states outlive the lab (kept_states.h)
  std::string state_root = "/var/lib/testbed/labs";
  std::string image_root;
  std::string image;  ///< reset --image
  bool json = false;
  bool ignore_missing = false;  ///< down: an unknown lab is not an error
  std::string node;
  std::vector<std::string> command;
  ExecFlags exec;
  std::string cp_src, cp_dst;  ///< cp: SOURCE and DEST (one of them NODE:PATH)
};

lab::LabOptions options_from(const LabArgs& a) {
  lab::LabOptions o;
  o.name = a.name;
  o.uri = a.uri;
  o.backend = config::parse_backend_kind(a.backend);  // --backend is checked: "" or a name
  // `--backend vm` without --uri: the local QEMU driver.
  if (o.backend == config::BackendKind::kVm && a.uri == "lxc:///system") o.uri = "qemu:///system";
  o.accel = a.accel;
  o.reset = a.reset;
  o.keep_states = a.keep_states;
  o.state_root = a.state_root;
  if (!a.image_root.empty()) o.image_root = a.image_root;
  return o;
}

/// True when `a.name` has a state directory (lab.json is written first, so a half-made lab
/// has one too).
bool lab_exists(const LabArgs& a) {
  std::error_code ec;
  return fs::exists(fs::path(a.state_root) / a.name, ec);
}

std::optional<int> check_lab_exists(const LabArgs& a, int code = kExitBadInput) {
  return cli::check_lab_exists(a.name, a.state_root, code);
}

/// Logs the lab's nodes and returns `code` when `node` is not one of them.
std::optional<int> check_node(const lab::Lab& lab, const std::string& node,
                              int code = kExitBadInput) {
  if (lab.topology().node(node)) return std::nullopt;
  util::log_error("lab '{}' has no node '{}'; its nodes: {}", lab.name(), node,
                  fmt::join(lab.node_names(), ", "));
  return code;
}

void add_common(CLI::App* sub, LabArgs& a) {
  sub->add_option("--state-dir", a.state_root, "Where lab state lives (keys, overlays, lab.json)")
      ->capture_default_str();
}

int cmd_up(const LabArgs& a) {
  // Bad input first: nothing is checked on the host or created for a command that cannot work.
  if (!a.name.empty()) {
    if (auto s = virt::check_lab_name(a.name); !s) {
      util::log_error("--name: {}", s.error().message);
      return kExitBadInput;
    }
  }
  auto topo = config::load_topology(a.topology);
  if (!topo) {
    util::log_error("{}", topo.error().message);
    return kExitBadInput;
  }
  if (a.name.empty()) {
    if (auto s = virt::check_lab_name(topo->name); !s) {
      util::log_error("{}: {}; pass --name", a.topology, s.error().message);
      return kExitBadInput;
    }
  }
  if (::geteuid() != 0) {
    util::log_error("`testbed lab up` needs root (libvirt LXC, overlay mounts, bridges)");
    return kExitEnvironment;
  }
  if (int rc = check_libvirt(a.uri); rc != kExitOk) return rc;
  lab::LabOptions o = options_from(a);
  o.keep = true;  // a lab made by hand stays until `testbed lab down`; gc leaves it alone
  auto lab = lab::Lab::up(*topo, o);
  if (!lab) {
    util::log_error("{}", lab.error().message);
    return kExitFailure;
  }
  auto& l = **lab;
  fmt::print("lab {} is up ({} nodes); capture interface: {}\n", l.name(), l.node_names().size(),
             l.capture_interface());
  fmt::print("  {:<12} {:<8} {:<14} {}\n", "NODE", "ROLE", "MGMT", "ADDRESSES");
  for (const auto& n : l.node_names()) {
    const lab::NodeInfo info = l.node(n);
    std::string addrs;
    for (const auto& [net, addr] : info.addresses)
      addrs += (addrs.empty() ? "" : " ") + net + "=" + addr;
    fmt::print("  {:<12} {:<8} {:<14} {}\n", n, config::to_string(info.role), info.mgmt_address,
               addrs);
  }
  fmt::print(
      "  run on a node:  testbed lab exec {} NODE -- CMD...\n  take it down:   testbed lab down "
      "{}\n",
      l.name(), l.name());
  return kExitOk;
}

int cmd_status(const LabArgs& a) {
  std::vector<std::string> names;
  if (!a.name.empty()) {
    if (auto rc = check_lab_exists(a)) return *rc;
    names.push_back(a.name);
  } else {
    std::error_code ec;
    if (fs::is_directory(a.state_root, ec))
      for (const auto& e : fs::directory_iterator(a.state_root, ec))
        if (fs::exists(e.path() / "lab.json")) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
  }
  nlohmann::json out = nlohmann::json::array();
  int rc = kExitOk;
  for (const auto& n : names) {
    auto lab = lab::Lab::open(n, options_from(a));
    if (!lab) {
      util::log_error("{}", lab.error().message);
      rc = kExitFailure;
      continue;
    }
    auto st = (*lab)->status();
    if (!st) {
      util::log_error("{}", st.error().message);
      rc = kExitFailure;
      continue;
    }
    nlohmann::json jl = {{"name", n},
                         {"capture_interface", (*lab)->capture_interface()},
                         {"nodes", nlohmann::json::array()}};
    if (!a.json) {
      fmt::print("lab {} (capture interface {})\n", n, (*lab)->capture_interface());
      fmt::print("  {:<12} {:<8} {:<20} {:<8} {:<5} {}\n", "NODE", "ROLE", "IMAGE", "STATE", "SSH",
                 "ADDRESSES");
    }
    for (const auto& s : *st) {
      std::string addrs;
      for (const auto& [net, addr] : s.info.addresses)
        addrs += (addrs.empty() ? "" : " ") + net + "=" + addr;
      if (!a.json)
        fmt::print("  {:<12} {:<8} {:<20} {:<8} {:<5} {}\n", s.info.name,
                   config::to_string(s.info.role), s.info.image, s.running ? "running" : "stopped",
                   s.ssh_reachable ? "yes" : "no", addrs);
      jl["nodes"].push_back({{"name", s.info.name},
                             {"role", config::to_string(s.info.role)},
                             {"image", s.info.image},
                             {"domain", s.info.domain},
                             {"running", s.running},
                             {"ssh_reachable", s.ssh_reachable},
                             {"mgmt_address", s.info.mgmt_address},
                             {"addresses", s.info.addresses},
                             {"host_devs", s.info.host_devs},
                             {"saved_state_bytes", s.saved_state_bytes}});
    }
    uint64_t saved = 0;
    for (const auto& s : *st) saved += s.saved_state_bytes;
    jl["reset"] = (*lab)->reset_mode();
    jl["saved_state_bytes"] = saved;
    if (!a.json)
      fmt::print("  resets: {}{}\n", (*lab)->reset_mode(),
                 saved ? fmt::format("; saved states use {} MiB in {}", saved >> 20,
                                     ((*lab)->state_dir() / "nodes").string())
                       : std::string());
    out.push_back(jl);
  }
  if (a.json)
    fmt::print("{}\n", out.dump(2));
  else if (names.empty())
    fmt::print("no labs\n");
  return rc;
}

// Every failure of testbed's own is 255 here (see lab_node_io.h), the rest is the command's.
int cmd_exec(const LabArgs& a) {
  if (auto rc = check_lab_exists(a, kExitExecFailed)) return *rc;
  auto lab = lab::Lab::open(a.name, options_from(a));
  if (!lab) {
    util::log_error("{}", lab.error().message);
    return kExitExecFailed;
  }
  if (auto rc = check_node(**lab, a.node, kExitExecFailed)) return *rc;
  return exec_on_node(**lab, a.node, a.command, a.exec);
}

int cmd_cp(const LabArgs& a) {
  if (auto rc = check_lab_exists(a)) return *rc;
  auto lab = lab::Lab::open(a.name, options_from(a));
  if (!lab) {
    util::log_error("{}", lab.error().message);
    return kExitFailure;
  }
  const auto nodes = (*lab)->node_names();
  // NODE:PATH whose NODE is not a node: say so rather than copying to a local "x:path".
  for (const auto* arg : {&a.cp_src, &a.cp_dst}) {
    const size_t colon = arg->find(':');
    const std::string head = arg->substr(0, colon);
    if (colon != std::string::npos && colon > 0 && head.find('/') == std::string::npos)
      if (auto rc = check_node(**lab, head)) return *rc;
  }
  return copy_with_node(**lab, parse_copy_end(a.cp_src, nodes), parse_copy_end(a.cp_dst, nodes));
}

int cmd_reset(const LabArgs& a) {
  if (auto rc = check_lab_exists(a)) return *rc;
  auto lab = lab::Lab::open(a.name, options_from(a));
  if (!lab) {
    util::log_error("{}", lab.error().message);
    return kExitFailure;
  }
  if (auto rc = check_node(**lab, a.node)) return *rc;
  if (auto s = (*lab)->reset_node(a.node, a.image, a.boot); !s) {
    util::log_error("{}", s.error().message);
    return kExitFailure;
  }
  const auto& how = (*lab)->last_resets();
  auto it = how.find(a.node);
  std::string detail;
  if (it != how.end()) {
    const lab::NodeReset& r = it->second;
    detail = r.method == "snapshot"
                 ? fmt::format(
                       " (restored from its saved state in {:.1f} s: restore {:.1f} s, SSH "
                       "{:.1f} s, clock/RNG refresh {:.1f} s; guest clock was {:+.0f} ms off, "
                       "now {:+.1f} ms)",
                       r.seconds, r.restore_seconds, r.answer_seconds,
                       r.fresh ? r.fresh->seconds : 0.0,
                       r.fresh ? r.fresh->clock_offset_before_ms : 0.0,
                       r.fresh ? r.fresh->clock_offset_after_ms : 0.0)
                 : fmt::format(" (booted in {:.1f} s{})", r.seconds,
                               r.fallback.empty() ? "" : "; its saved state failed: " + r.fallback);
  }
  fmt::print("node {} of lab {} was reset and is ready{}\n", a.node, a.name, detail);
  return kExitOk;
}

int cmd_down(const LabArgs& a) {
  // An unknown lab is an error (a typo must not read as "it is down"), unless the caller
  // only wants it gone (--ignore-missing: scripts, cleanup traps). Either way destroy()
  // runs only for a valid name; it also removes libvirt objects a half-made lab left.
  if (a.ignore_missing && virt::check_lab_name(a.name) && !lab_exists(a)) {
    util::log_info("no lab '{}' (--ignore-missing): removing whatever libvirt still has of it",
                   a.name);
  } else if (auto rc = check_lab_exists(a)) {
    return *rc;
  }
  auto s = lab::Lab::destroy(a.name, options_from(a));
  if (!s) {
    util::log_error("{}", s.error().message);
    return kExitFailure;
  }
  fmt::print("lab {} is down\n", a.name);
  return kExitOk;
}

}  // namespace

std::optional<int> check_lab_exists(const std::string& name, const std::string& state_root,
                                    int code) {
  if (auto s = virt::check_lab_name(name); !s) {
    util::log_error("{}", s.error().message);
    return code;
  }
  std::error_code ec;
  if (!fs::exists(fs::path(state_root) / name, ec)) {
    util::log_error("no lab '{}' (nothing in {}); `testbed lab status` lists the labs", name,
                    state_root);
    return code;
  }
  return std::nullopt;
}

void add_lab_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<LabArgs>();
  auto* lab = app.add_subcommand(
      "lab", "Bring a lab up from a topology, inspect it, run commands, take it down");
  lab->require_subcommand(1);
  // Inherited by up, status, exec, cp, reset and down (lab graph and capture have their own).
  lab->footer(
      "Exit codes: 0 done, 1 a libvirt or SSH operation failed, 2 bad input (bad topology or\n"
      "name, unknown lab, node or image; nothing was created), 4 host not ready (libvirtd not\n"
      "answering, not root). `lab exec` exits with the remote command's status; its own\n"
      "failures are 255 and a signal N to it exits 128+N.\n"
      "Examples: testbed lab up topology/two-subnet.yaml\n"
      "          testbed lab status two-subnet\n"
      "          testbed lab exec two-subnet scanner -- nmap --version\n"
      "          testbed lab cp two-subnet scanner:/tmp/scan.xml .\n"
      "          testbed lab reset two-subnet target1\n"
      "          testbed lab capture two-subnet scan -w - | tshark -r -\n"
      "          testbed lab down two-subnet");
  lab->add_option("--uri", args->uri, "libvirt URI of the backend")->capture_default_str();

  auto* up = lab->add_subcommand(
      "up", "Create and start the lab of TOPOLOGY; waits until every node is ready");
  up->add_option("topology", args->topology, "Topology file, e.g. topology/two-subnet.yaml")
      ->required();
  up->add_option("--name", args->name, "Lab name (default: the topology's name)");
  up->add_option("--backend", args->backend,
                 "lxc (containers) or vm (QEMU guests; uses qemu:///system unless --uri)")
      ->check(CLI::IsMember({"lxc", "vm", "kvm"}));
  up->add_option("--accel", args->accel,
                 "vm: auto (KVM where /dev/kvm is usable, else TCG), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
      ->capture_default_str();
  up->add_option("--reset", args->reset,
                 "how `lab reset` resets a node: snapshot (vm: restore the node's saved "
                 "running state, taken when it was first ready) or boot; default snapshot "
                 "on VM labs of this host, boot otherwise")
      ->check(CLI::IsMember({"snapshot", "boot"}));
  up->add_flag("--keep-states", args->keep_states,
               "vm: keep the nodes' saved running states when the lab goes down; the next "
               "`lab up` of this name (same testbed build, topology, URI, acceleration) "
               "restores those nodes instead of booting them");
  up->add_option("--cache", args->image_root,
                 "Image cache root, as for `testbed image` (default: $TESTBED_IMAGE_DIR or "
                 "/var/lib/testbed/images)");
  // The option's old name, kept working but no longer listed.
  up->add_option("--images", args->image_root, "deprecated: --cache")->group("");
  add_common(up, *args);
  up->callback([&ctx, args] { ctx.exit_code = cmd_up(*args); });

  auto* st = lab->add_subcommand(
      "status", "Nodes, state, addresses and SSH reachability of one or every lab");
  st->add_option("name", args->name, "Lab name (default: every lab)");
  st->add_flag("--json", args->json, "Machine-readable output");
  add_common(st, *args);
  st->callback([&ctx, args] { ctx.exit_code = cmd_status(*args); });

  auto* ex = lab->add_subcommand(
      "exec",
      "Run a command on a node over SSH, as ssh does: standard input streamed to it, its "
      "output byte for byte (stdout and stderr apart), its exit status passed through; "
      "SIGINT/SIGTERM/SIGHUP end it and exit 128+N; testbed's own failures exit 255");
  ex->add_option("name", args->name, "Lab name")->required();
  ex->add_option("node", args->node, "Node name, e.g. scanner")->required();
  ex->add_option("command", args->command, "Command and arguments (after --)")->required();
  ex->add_flag("-t,--tty", args->exec.tty,
               "Run on a pseudo-terminal (stdout and stderr merged as on a terminal; a local "
               "terminal is put in raw mode and its size follows)");
  ex->add_flag("-n,--no-stdin", args->exec.no_stdin,
               "Give the command an empty standard input instead of ours");
  add_common(ex, *args);
  // A bad command line is testbed's failure too: 255, not a status the command could have.
  ex->preparse_callback([&ctx](size_t) { ctx.usage_error_exit = kExitExecFailed; });
  ex->callback([&ctx, args] { ctx.exit_code = cmd_exec(*args); });

  auto* cp = lab->add_subcommand(
      "cp", "Copy a file to or from a node by SFTP, byte for byte: NODE:PATH on one side");
  cp->add_option("name", args->name, "Lab name")->required();
  cp->add_option("source", args->cp_src, "Local file or NODE:PATH")->required();
  cp->add_option("dest", args->cp_dst,
                 "Local path or NODE:PATH (a directory receives the file under its name)")
      ->required();
  add_common(cp, *args);
  cp->callback([&ctx, args] { ctx.exit_code = cmd_cp(*args); });

  auto* rs = lab->add_subcommand(
      "reset",
      "Reset a node to its pristine state (discarding its changes): VM labs restore the "
      "node's saved running state, else it boots from a fresh overlay; waits until ready");
  rs->add_option("name", args->name, "Lab name")->required();
  rs->add_option("node", args->node, "Node name, e.g. target1")->required();
  rs->add_option("--image", args->image,
                 "Boot the node from this image instead (e.g. scanner-nmap-7.95)");
  rs->add_flag("--boot", args->boot,
               "Boot even when the node has a saved running state (the state is kept)");
  add_common(rs, *args);
  rs->callback([&ctx, args] { ctx.exit_code = cmd_reset(*args); });

  add_lab_graph_subcommand(*lab, ctx);
  add_lab_capture_subcommand(*lab, ctx);
  auto* dn = lab->add_subcommand(
      "down", "Remove the lab's nodes, networks, mounts and state; an unknown lab is an error (2)");
  dn->add_option("name", args->name, "Lab name")->required();
  dn->add_flag("--ignore-missing", args->ignore_missing,
               "An unknown lab is not an error: remove whatever is left of it and exit 0");
  add_common(dn, *args);
  dn->callback([&ctx, args] { ctx.exit_code = cmd_down(*args); });
}

}  // namespace testbed::cli
