#pragma once
// The image cache: where built images live and how other modules find them.
//
// Layout (root = $TESTBED_IMAGE_DIR, default /var/lib/testbed/images):
//   <root>/<name>/<key>/rootfs/          extracted root file system (LXC backend)
//   <root>/<name>/<key>/manifest.json    see images/README.md (written last)
//   <root>/<name>/current -> <key>       the newest complete LXC build of <name>
//   <root>/<name>/current-vm -> <key>    the newest complete VM build of <name> (a recipe
//                                        may have both; their keys differ by builder)
//   <root>/<name>/.lock                  flock held while <name> is being built
//   <root>/.tmp/                         builds in progress (same file system: rename)
// <key> = first 16 hex digits of sha256(recipe file bytes + builder version + what the
// builder derives from the recipe (generated scripts) + bytes of `source:` files); see
// build.h. Older keys stay until `testbed image rm NAME`.
//
// Contract with the lab (virt/): every LXC image's root file system carries
//   /testbed/services.sh   starts the recipe's services in order (run once at node boot,
//                          after addresses and sshd are up; reads /testbed/node.env).
//                          Prints one line per service on stdout; on a failing start
//                          prints the service's name, exit status and log tail and
//                          exits 1. Running it again skips services already running.
//   /testbed/health.sh     exits 0 when every health check passes, else prints (stdout)
//                          the failing check's name, its output and its service's log
//                          tail and exits 1. `health.sh --wait SECONDS` retries the
//                          checks once a second until they pass or the time is up.
//   /testbed/image.json    a copy of manifest.json
// and the lab writes /testbed/node.env (NODE_NAME, NODE_ROLE, per-interface addresses,
// LAB_NAME; shell `NAME=value` lines, sourced with `set -a`) into the node's overlay
// before boot. Recipe files marked `template: true` have every `{{NAME}}` replaced by
// node.env's NAME when services.sh runs. Images are never modified by a lab: nodes boot
// on an overlay whose lower layer is rootfs/.
//
// What else the node init can rely on (lxc_builder.h):
//   - /usr/bin/tini (PID 1 reaper), sshd, `ip`, pgrep/ps are in every LXC image;
//   - there are no ssh host keys in the image: the node init runs `ssh-keygen -A`, so
//     every node gets its own; /etc/hostname holds the image name and /etc/resolv.conf
//     a placeholder comment: the lab sets both per node;
//   - the router image serves DNS from /testbed/lab-hosts (hosts-file format; the lab
//     may write it before boot, an empty one is created otherwise) and its services.sh
//     enables net.ipv4.ip_forward in the node's own network namespace; if /proc/sys is
//     read-only in the container the lab must enable it from the host before boot.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "orchestrator/config/backend.h"
#include "orchestrator/util/result.h"

namespace testbed::images {

/// A complete, built image in the cache.
struct ImageRef {
  std::string name;
  std::string key;                 ///< cache key (recipe + builder hash prefix)
  std::filesystem::path dir;       ///< <root>/<name>/<key>
  std::filesystem::path rootfs;    ///< dir/rootfs
  std::filesystem::path manifest;  ///< dir/manifest.json
};

/// The cache root: $TESTBED_IMAGE_DIR or /var/lib/testbed/images.
std::filesystem::path default_cache_root();

/// The name of the symlink to the current build of an image for `backend`: "current"
/// for lxc, "current-vm" for vm.
std::string current_link(config::BackendKind backend);

/// The current complete build of `name` for `backend`, or an error saying how to build
/// it ("run `testbed image build NAME`").
util::Result<ImageRef> find_image(const std::string& name,
                                  const std::filesystem::path& root = default_cache_root(),
                                  config::BackendKind backend = config::BackendKind::kLxc);

/// The image's manifest.json (fields: images/README.md); an error names the file.
util::Result<nlohmann::json> read_manifest(const ImageRef& ref);

}  // namespace testbed::images
