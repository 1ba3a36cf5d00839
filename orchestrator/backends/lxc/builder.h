#pragma once
// LXC images: a Debian root file system made by mmdebstrap (no mirror argument: its
// default is the configured mirror; none is ever written into the repo), with the
// recipe's files, build commands and the /testbed/ boot scripts (boot_scripts.h).
#include <string>
#include <vector>

#include "orchestrator/images/builder.h"

namespace testbed::backends::lxc {
using images::Builder;
using images::BuildOutput;
using images::ProgressFn;

/// Packages every LXC image gets whatever its recipe says: the lab's node init needs
/// sshd, `ip`, tini as PID 1 (reaps zombies) and pgrep/ps for services.sh checks.
extern const std::vector<std::string> kLxcLabPackages;

/// The Debian root of `recipe` in work_dir/rootfs, as LxcBuilder::build describes, with
/// `extra_packages` installed too and `extra_args` given to mmdebstrap before the suite
/// (the VM builder adds a kernel and its apt pin). Shared by both builders so an LXC node
/// and a VM node of one recipe run the same userland.
util::Result<BuildOutput> build_debian_root(const config::Recipe& recipe,
                                            const std::filesystem::path& work_dir,
                                            const ProgressFn& progress,
                                            const std::vector<std::string>& extra_packages,
                                            const std::vector<std::string>& extra_args);

class LxcBuilder : public Builder {
 public:
  config::BackendKind backend() const override { return config::BackendKind::kLxc; }
  std::string version() const override;
  std::string key_material(const config::Recipe& recipe) const override;
  /// Runs `mmdebstrap --variant=apt --include=... [--aptopt=...] SUITE work_dir/rootfs`
  /// with hooks that copy the recipe's files and boot scripts in and run its build
  /// commands (under `unshare --net`, so nothing binds a port on the host), then removes
  /// per-host state (ssh host keys, hostname, resolv.conf) and reads the package list
  /// and `nmap --version` from the tree. Needs root.
  util::Result<BuildOutput> build(const config::Recipe& recipe,
                                  const std::filesystem::path& work_dir,
                                  const ProgressFn& progress) override;
};

}  // namespace testbed::backends::lxc
