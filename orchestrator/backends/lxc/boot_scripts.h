#pragma once
// The scripts an LXC image carries under /testbed/ (the contract with the lab, see
// cache.h). Containers have no init system, so these scripts are the init: the lab's
// node init runs services.sh once after addresses and sshd are up, then health.sh.
// Pure text generation: unit-tested without building anything.
#include <string>

#include "orchestrator/config/recipe.h"

namespace testbed::backends::lxc {

/// Where each templated file's pristine copy lives inside the image (services.sh
/// renders it to its real path at boot). Index = position in recipe.files.
std::string template_store_path(size_t index);

/// /testbed/services.sh: sources /testbed/node.env (exported), renders templated files,
/// starts each service in order with stdout+stderr appended to its log, skipping a
/// service whose `running` check passes. On a failing start it prints the service's
/// name, exit status and log tail and exits 1.
std::string services_script(const config::Recipe& r);

/// /testbed/health.sh [--wait SECONDS]: runs every check (each under `timeout`); exit 0
/// when all pass. With --wait it retries the whole set once a second until they pass or
/// the time is up. On failure prints the failing check's name, its output and the tail
/// of its service's log (to stdout) and exits 1.
std::string health_script(const config::Recipe& r);

/// /testbed/build.sh: the recipe's build commands, run once in the chroot with `set -e`.
std::string build_script(const config::Recipe& r);

/// Quotes `s` as one POSIX shell word ('...').
std::string shell_quote(const std::string& s);

}  // namespace testbed::backends::lxc
