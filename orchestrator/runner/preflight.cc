#include "orchestrator/runner/preflight.h"

#include <filesystem>

#include "orchestrator/backends/build_many.h"
#include "orchestrator/backends/registry.h"
#include "orchestrator/backends/vm/host_check.h"
#include "orchestrator/config/references.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/log.h"

namespace testbed::runner {

namespace fs = std::filesystem;

util::Result<config::Topology> check_experiment_inputs(const config::Experiment& e) {
  auto t = config::load_topology(e.topology.string());
  if (!t) return t.error();
  // Every problem at once: images without a recipe, then the scope guard's refusals.
  std::string problems;
  for (const util::Status& st :
       {config::check_image_references(&e, *t, backends::default_recipe_dir()),
        scanners::check_experiment(e, *t)})
    if (!st) problems += (problems.empty() ? "" : "\n") + st.error().message;
  if (!problems.empty()) return util::Error{problems};
  return t;
}

uint64_t image_upload_estimate(const std::vector<std::string>& names, config::BackendKind backend) {
  constexpr uint64_t kUnbuilt = 1ull << 30;  // an image not built yet: ~1 GiB (README)
  uint64_t total = 0;
  for (const auto& name : names) {
    auto ref = images::find_image(name, images::default_cache_root(), backend);
    if (!ref) {
      total += kUnbuilt;
      continue;
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(ref->dir, ec))
      if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

namespace {

/// A remote lab host checked whole (host key, tools, QEMU, space) before anything.
bool remote_host_ready(const std::string& uri, uint64_t needed_bytes) {
  auto v = backends::vm::check_host(uri, needed_bytes, {}, false);
  if (!v) {
    util::log_error("{}", v.error().message);
    return false;
  }
  if (!v->ready) util::log_error("{}", v->report);
  return v->ready;
}

}  // namespace

bool lab_hosts_ready(const config::Experiment& exp, const std::vector<std::string>& uris,
                     const std::vector<std::string>& images, const std::string& experiment_file) {
  for (const auto& uri : uris) {
    // Remote lab hosts need the VM backend: say so before building anything.
    if (auto st = backends::check_remote_lab_host(uri, exp.backend); !st) {
      util::log_error("{}: {}", experiment_file, st.error().message);
      return false;
    }
    if (auto st = backends::check_libvirt_answers(uri); !st) {
      util::log_error("{}", st.error().message);
      return false;
    }
    if (backends::is_remote_uri(uri) &&
        !remote_host_ready(uri, image_upload_estimate(images, exp.backend))) {
      util::log_error("{}: lab host {} is not ready; nothing was created", experiment_file, uri);
      return false;
    }
  }
  return true;
}

}  // namespace testbed::runner
