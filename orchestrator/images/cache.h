#pragma once
// The image cache: where built images live and how other modules find them.
//
// Layout (root = $TESTBED_IMAGE_DIR, default /var/lib/testbed/images):
//   <root>/<name>/<key>/rootfs/          extracted root file system (LXC backend)
//   <root>/<name>/<key>/manifest.json    see images/README.md (written last)
//   <root>/<name>/current -> <key>       the newest complete build of <name>
// <key> = first 16 hex digits of sha256(recipe file bytes + builder version).
//
// Contract with the lab (virt/): every image's root file system carries
//   /testbed/services.sh   starts the recipe's services in order (run once at node boot,
//                          after addresses and sshd are up; reads /testbed/node.env)
//   /testbed/health.sh     exits 0 when every health check passes, else prints the
//                          failing check's name and its service's log tail and exits 1
//   /testbed/image.json    a copy of manifest.json
// and the lab writes /testbed/node.env (NODE_NAME, NODE_ROLE, per-interface addresses,
// LAB_NAME) into the node's overlay before boot. Images are never modified by a lab:
// nodes boot on an overlay whose lower layer is rootfs/.
#include <filesystem>
#include <string>

#include "orchestrator/util/result.h"

namespace testbed::images {

/// A complete, built image in the cache.
struct ImageRef {
  std::string name;
  std::string key;                  ///< cache key (recipe + builder hash prefix)
  std::filesystem::path dir;        ///< <root>/<name>/<key>
  std::filesystem::path rootfs;     ///< dir/rootfs
  std::filesystem::path manifest;   ///< dir/manifest.json
};

/// The cache root: $TESTBED_IMAGE_DIR or /var/lib/testbed/images.
std::filesystem::path default_cache_root();

/// The current complete build of `name`, or an error saying how to build it
/// ("run `testbed image build NAME`").
util::Result<ImageRef> find_image(const std::string& name,
                                  const std::filesystem::path& root = default_cache_root());

}  // namespace testbed::images
