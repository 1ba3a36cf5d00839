#pragma once
// Runs across several lab hosts (an experiment's `hosts:` list of libvirt URIs, e.g.
// qemu+ssh://lab1/system). Each host has its own lab; runs are spread over the hosts
// and a host that fails takes only its unfinished runs with it: they are placed again on
// the hosts still up. Transport is libvirt's own remote protocol (and SSH for the
// nodes), nothing else: this file only decides who runs what.
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::runner {

struct LabHost {
  std::string uri;  ///< libvirt URI, also the host's identity here
  int slots = 1;    ///< runs this host does at once (labs on it); weights placement
};

/// One LabHost (slots 1) per URI, in order: the experiment's config::lab_uris().
std::vector<LabHost> lab_hosts(const std::vector<std::string>& uris);

/// The lab name for host `index` (0-based) of `count`: `lab` itself when there is one
/// host, else `lab` shortened to fit and suffixed "-h<index+1>" (lab names are at most 24
/// characters, [a-z][a-z0-9-]*). Distinct per host, because every lab's state dir lives
/// on the machine running testbed.
std::string host_lab_name(const std::string& lab, size_t index, size_t count);

/// run ids per host URI, in execution order. Every host of the input appears.
using Placement = std::map<std::string, std::vector<std::string>>;

/// Spreads `runs` over `hosts` in proportion to their slots, keeping the run order
/// within each host and interleaving so that the first runs land on different hosts
/// (run k goes to the host with the least load per slot; ties by host order).
/// Deterministic. Asserts hosts is non-empty and slots >= 1.
Placement place_runs(const std::vector<std::string>& runs, const std::vector<LabHost>& hosts);

/// Moves the runs of `failed` that are not in `done` onto `alive` (place_runs over the
/// moved runs, appended after each host's own). Fails when `alive` is empty, naming
/// the runs that have nowhere to go.
util::Result<Placement> replace_failed_host(const Placement& current, const std::string& failed,
                                            const std::set<std::string>& done,
                                            const std::vector<LabHost>& alive);

/// What running one run on a host gave.
enum class RunOutcome {
  kDone,        ///< the run directory is complete (collected back)
  kRunFailed,   ///< the run itself failed (recorded; not retried elsewhere)
  kHostFailed,  ///< the host is gone (libvirt connection lost, lab broken): retry elsewhere
  kStopped,     ///< not run: the experiment is stopping (interrupted, --stop-on-failure)
};

/// One host's side: runs one run at a time on that host's lab. The real one wraps a Lab
/// on the host's URI and the runner; tests use test:///default connections.
class HostWorker {
 public:
  virtual ~HostWorker() = default;
  /// `message` explains a failure for the report.
  virtual RunOutcome run(const std::string& run_id, std::string* message) = 0;
};

/// Opens a worker for a host (connects, brings its lab up). Failing = the host is down
/// from the start; its runs are placed elsewhere.
using WorkerFactory = std::function<util::Result<std::unique_ptr<HostWorker>>(const LabHost& host)>;

struct MultiHostResult {
  std::map<std::string, std::string> ran_on;      ///< run -> host URI where it completed
  std::map<std::string, std::string> failed;      ///< run -> message (kRunFailed)
  std::map<std::string, std::string> dead_hosts;  ///< host URI -> why it was given up
  std::vector<std::string> unplaced;              ///< runs left when every host had failed
  std::vector<std::string> stopped;               ///< runs a worker declined (kStopped)
};

/// Runs every run once across `hosts`, one thread per host (runs on one host are
/// sequential here; slots only weight placement). A host whose worker reports
/// kHostFailed (or cannot be opened) is dropped and its unfinished runs, including the
/// one in flight, go to the hosts still alive. Returns when all runs are done, failed or
/// unplaceable.
MultiHostResult run_across_hosts(const std::vector<std::string>& runs,
                                 const std::vector<LabHost>& hosts, const WorkerFactory& open);

}  // namespace testbed::runner
