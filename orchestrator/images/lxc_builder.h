#pragma once
// LXC images: a Debian root file system made by mmdebstrap (no mirror argument: its
// default is the configured mirror; none is ever written into the repo), with the
// recipe's files, build commands and the /testbed/ boot scripts (boot_scripts.h).
#include <string>
#include <vector>

#include "orchestrator/images/builder.h"

namespace testbed::images {

/// Packages every LXC image gets whatever its recipe says: the lab's node init needs
/// sshd, `ip`, tini as PID 1 (reaps zombies) and pgrep/ps for services.sh checks.
extern const std::vector<std::string> kLxcLabPackages;

/// Parses the upstream version from `nmap --version` output ("Nmap version 7.80 ( ...").
/// Empty when the text does not contain one.
std::string parse_nmap_version(const std::string& version_output);

/// Parses `dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Version}\n'` output,
/// keeping installed packages only.
std::map<std::string, std::string> parse_dpkg_query(const std::string& text);

class LxcBuilder : public Builder {
 public:
  LxcBuilder() = default;
  /// `extra_trees` are copied over the new root (mmdebstrap sync-in) after the packages
  /// are installed and before the recipe's files and build commands: a source build's
  /// staged `make install` tree (source_build.h). Their contents are not part of
  /// key_material; the caller's builder hashes what made them.
  explicit LxcBuilder(std::vector<std::filesystem::path> extra_trees)
      : extra_trees_(std::move(extra_trees)) {}
  std::string backend() const override { return "lxc"; }
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

 private:
  std::vector<std::filesystem::path> extra_trees_;
};

}  // namespace testbed::images
