// `testbed host check URI`: is a remote lab host ready (backends/vm/host_check.h)? The same
// check `run` makes of each remote lab host before it creates anything (runner/preflight.h).
#include <fmt/format.h>

#include "orchestrator/backends/registry.h"
#include "orchestrator/backends/vm/host_check.h"
#include "orchestrator/backends/vm/storage.h"
#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {

namespace {

/// `host check`: the whole check printed; kExitEnvironment when the host is not ready.
int check_lab_host(const std::string& uri, uint64_t needed_bytes, bool accept_new_host_key) {
  backends::vm::HostCheckOptions o;
  o.accept_new_host_key = accept_new_host_key;
  auto v = backends::vm::check_host(uri, needed_bytes, o, true);
  if (!v) {
    util::log_error("{}", v.error().message);
    return kExitEnvironment;
  }
  fmt::print("{}", v->report);
  return v->ready ? kExitOk : kExitEnvironment;
}

}  // namespace

void add_host_command(CLI::App& app, CliContext& ctx) {
  auto* host = app.add_subcommand("host", "Remote lab hosts (qemu+ssh://HOST/system)");
  host->require_subcommand(1);
  host->footer(
      "Exit codes: 0 ready, 2 bad command line, 4 the lab host is not ready.\n"
      "Example: testbed host check qemu+ssh://root@lab1/system");
  struct Args {
    std::string uri;
    bool accept = false;
    std::string min_free = "0";
  };
  auto a = std::make_shared<Args>();
  auto* check = host->add_subcommand(
      "check",
      "Check a lab host before use: its SSH host key is pinned, login works, tcpdump, "
      "iproute2 and sha256sum are there, libvirt answers with the QEMU driver and an "
      "x86_64 emulator, KVM or TCG, the storage driver, free space for the images. Each "
      "missing piece is named with what to install; exit 4 when any is missing");
  check->footer(
      "Exit codes: 0 ready, 2 not a remote URI or a bad --min-free, 4 something is missing\n"
      "there (each named with its fix), or its host key is unknown or changed.\n"
      "Examples: testbed host check qemu+ssh://root@lab1/system\n"
      "          testbed host check --accept-new-host-key --min-free 4G qemu+ssh://root@lab2/system");
  check->add_option("URI", a->uri, "libvirt URI of the lab host, e.g. qemu+ssh://root@lab1/system")
      ->required();
  check->add_flag("--accept-new-host-key", a->accept,
                  "Pin the host key it offers when none is pinned yet (never a changed one); "
                  "compare the fingerprint printed first");
  check->add_option("--min-free", a->min_free, "Free space the images need there, e.g. 4G")
      ->capture_default_str();
  check->callback([&ctx, a] {
    if (!backends::is_remote_uri(a->uri)) {
      util::log_error("'{}' is not a remote lab host (qemu+ssh://USER@HOST/system)", a->uri);
      ctx.exit_code = kExitBadInput;
      return;
    }
    const uint64_t need = backends::vm::parse_disk_size(a->min_free);
    if (need == 0 && a->min_free != "0") {
      util::log_error("--min-free '{}' is not a size (e.g. 4G, 512M)", a->min_free);
      ctx.exit_code = kExitBadInput;
      return;
    }
    ctx.exit_code = check_lab_host(a->uri, need, a->accept);
  });
}

}  // namespace testbed::cli
