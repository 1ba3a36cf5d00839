// `testbed version`: versions of testbed and of the libraries it was built with.
#include <libvirt/libvirt.h>
#include <pcap/pcap.h>
#include <libssh/libssh.h>

#include <fmt/format.h>

#include "orchestrator/cli/commands.h"
#include "orchestrator/util/version.h"

namespace testbed::cli {

void add_version_command(CLI::App& app, CliContext& ctx) {
  auto* sub = app.add_subcommand("version", "Print testbed's version and its libraries' versions");
  sub->footer("Exit codes: 0 printed, 2 bad command line.\nExample: testbed version");
  sub->callback([&ctx] {
    unsigned long lv = 0;
    virGetVersion(&lv, nullptr, nullptr);
    fmt::print("testbed {}\nlibvirt {}.{}.{}\n{}\nlibssh {}\n", kVersion, lv / 1000000,
               (lv / 1000) % 1000, lv % 1000, pcap_lib_version(), ssh_version(0));
    ctx.exit_code = kExitOk;
  });
}

}  // namespace testbed::cli
