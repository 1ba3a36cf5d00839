// Host readiness shared by the verbs that need libvirt: a daemon that does not answer is
// "host not ready" (exit 4), said before anything is built or created, not a failure (1)
// of whatever libvirt call happened to come first.
#include "orchestrator/cli/commands.h"
#include "orchestrator/util/log.h"
#include "orchestrator/backends/registry.h"

namespace testbed::cli {

int check_libvirt(const std::string& uri) {
  if (auto st = backends::check_libvirt_answers(uri); !st) {
    util::log_error("{}", st.error().message);
    return kExitEnvironment;
  }
  return kExitOk;
}

}  // namespace testbed::cli
