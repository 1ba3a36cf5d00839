// `testbed gc` — remove what crashed runs left: libvirt domains/networks with testbed
// metadata, overlay mounts and lab state dirs whose owner process is gone.
#include <fmt/format.h>
#include <unistd.h>

#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"
#include "orchestrator/virt/lab.h"

namespace testbed::cli {

void add_gc_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    bool dry_run = false;
    std::string uri = "lxc:///system";
    std::string state_root = "/var/lib/testbed/labs";
  };
  auto a = std::make_shared<Args>();
  auto* sub = app.add_subcommand(
      "gc",
      "Remove lab objects (domains, networks, mounts, state) whose owner process is gone; "
      "labs made by `testbed lab up` are kept until `testbed lab down`");
  sub->add_flag("--dry-run,-n", a->dry_run, "Only report what would be removed");
  sub->add_option("--uri", a->uri, "libvirt URI to clean")->capture_default_str();
  sub->add_option("--state-dir", a->state_root, "Lab state root")->capture_default_str();
  sub->callback([&ctx, a] {
    virt::LabOptions o;
    o.uri = a->uri;
    o.state_root = a->state_root;
    if (int rc = check_libvirt(a->uri); rc != kExitOk) {
      ctx.exit_code = rc;
      return;
    }
    auto rep = virt::collect_garbage(o, a->dry_run);
    if (!rep) {
      util::log_error("{}", rep.error().message);
      ctx.exit_code = kExitFailure;
      return;
    }
    for (const auto& k : rep->kept) fmt::print("kept: {}\n", k);
    for (const auto& r : rep->removed)
      fmt::print("{}: {}\n", a->dry_run ? "would remove" : "removed", r);
    if (rep->removed.empty()) fmt::print("nothing to remove\n");
  });
}

}  // namespace testbed::cli
