// `testbed gc` — remove what crashed runs left: libvirt domains/networks with testbed
// metadata, overlay mounts and lab state dirs whose owner process is gone.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"
#include "orchestrator/lab/gc.h"
#include "orchestrator/lab/lab.h"

namespace testbed::cli {
using lab::Lab;

void add_gc_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    bool dry_run = false;
    std::string uri;  ///< empty: both local drivers, lxc:///system and qemu:///system
    std::string state_root = "/var/lib/testbed/labs";
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand(
      "gc",
      "Remove lab objects (domains, networks, mounts, state) whose owner process is gone; "
      "labs made by `testbed lab up` are kept until `testbed lab down`");
  sub->footer(
      "Exit codes: 0 done (or nothing to remove), 1 a removal failed, 2 bad command line, 4\n"
      "libvirtd not answering.\n"
      "Example: testbed gc --dry-run");
  sub->add_flag("--dry-run,-n", a->dry_run, "Only report what would be removed");
  sub->add_option("--uri", a->uri,
                  "libvirt URI to clean (default: lxc:///system and qemu:///system, so both "
                  "container and VM labs are found)");
  sub->add_option("--state-dir", a->state_root, "Lab state root")->capture_default_str();
  sub->callback([&ctx, a] {
    std::vector<std::string> uris = {a->uri};
    if (a->uri.empty()) uris = {"lxc:///system", "qemu:///system"};
    if (int rc = check_libvirt(uris.front()); rc != kExitOk) {
      ctx.exit_code = rc;
      return;
    }
    lab::GcReport all;
    for (const auto& uri : uris) {
      lab::LabOptions o;
      o.uri = uri;
      o.state_root = a->state_root;
      auto rep = lab::collect_garbage(o, a->dry_run);
      if (!rep) {
        // The VM driver is optional on a host that runs only containers.
        if (a->uri.empty() && uri.rfind("qemu", 0) == 0) {
          util::log_info("gc: no VM labs checked ({}): {}", uri, rep.error().message);
          continue;
        }
        util::log_error("{}", rep.error().message);
        ctx.exit_code = kExitFailure;
        return;
      }
      for (auto& k : rep->kept)
        if (std::find(all.kept.begin(), all.kept.end(), k) == all.kept.end())
          all.kept.push_back(std::move(k));
      for (auto& r : rep->removed) all.removed.push_back(std::move(r));
    }
    for (const auto& k : all.kept) fmt::print("kept: {}\n", k);
    for (const auto& r : all.removed)
      fmt::print("{}: {}\n", a->dry_run ? "would remove" : "removed", r);
    if (all.removed.empty()) fmt::print("nothing to remove\n");
  });
}

}  // namespace testbed::cli
