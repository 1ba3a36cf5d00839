#include "orchestrator/runner/placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace testbed::runner {

std::vector<LabHost> lab_hosts(const std::vector<std::string>& uris) {
  std::vector<LabHost> out;
  for (const auto& u : uris) out.push_back({u, 1});
  return out;
}

std::string host_lab_name(const std::string& lab, size_t index, size_t count) {
  if (count <= 1) return lab;
  std::string suffix = "-h" + std::to_string(index + 1);
  std::string base = lab.substr(0, 24 - suffix.size());
  while (!base.empty() && base.back() == '-') base.pop_back();  // no "--h2"
  return base + suffix;
}

Placement place_runs(const std::vector<std::string>& runs, const std::vector<LabHost>& hosts) {
  assert(!hosts.empty());
  Placement p;
  for (const auto& h : hosts) {
    assert(h.slots >= 1);
    p[h.uri];
  }
  for (const auto& r : runs) {
    const LabHost* best = nullptr;
    double best_load = 0;
    for (const auto& h : hosts) {
      double load = double(p[h.uri].size()) / h.slots;
      if (!best || load < best_load) {
        best = &h;
        best_load = load;
      }
    }
    p[best->uri].push_back(r);
  }
  return p;
}

util::Result<Placement> replace_failed_host(const Placement& current, const std::string& failed,
                                            const std::set<std::string>& done,
                                            const std::vector<LabHost>& alive) {
  std::vector<std::string> moved;
  if (auto it = current.find(failed); it != current.end())
    for (const auto& r : it->second)
      if (!done.count(r)) moved.push_back(r);
  if (alive.empty()) {
    std::string list;
    for (const auto& r : moved) list += (list.empty() ? "" : ", ") + r;
    return util::fail("host {} failed and no other host is left for its runs: {}", failed,
                      list.empty() ? "(none)" : list);
  }
  Placement next;
  for (const auto& h : alive) {
    auto it = current.find(h.uri);
    next[h.uri] = it == current.end() ? std::vector<std::string>{} : it->second;
  }
  Placement extra = place_runs(moved, alive);
  for (auto& [uri, rs] : extra)
    for (auto& r : rs) next[uri].push_back(r);
  return next;
}

MultiHostResult run_across_hosts(const std::vector<std::string>& runs,
                                 const std::vector<LabHost>& hosts, const WorkerFactory& open) {
  MultiHostResult result;
  if (hosts.empty()) {
    result.unplaced = runs;
    return result;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::deque<std::string>> queues;
  std::vector<LabHost> alive = hosts;
  size_t settled = 0;  // runs done, failed or unplaced
  for (auto& [uri, rs] : place_runs(runs, hosts)) queues[uri] = {rs.begin(), rs.end()};

  // Called with mu held: drop `uri`, hand its queue (plus `in_flight`) to the survivors.
  auto give_up_host = [&](const std::string& uri, const std::string& why,
                          const std::string& in_flight) {
    result.dead_hosts[uri] = why;
    alive.erase(
        std::remove_if(alive.begin(), alive.end(), [&](const LabHost& h) { return h.uri == uri; }),
        alive.end());
    std::vector<std::string> orphans;
    if (!in_flight.empty()) orphans.push_back(in_flight);
    orphans.insert(orphans.end(), queues[uri].begin(), queues[uri].end());
    queues[uri].clear();
    if (alive.empty()) {
      result.unplaced.insert(result.unplaced.end(), orphans.begin(), orphans.end());
      settled += orphans.size();
    } else {
      for (auto& [to, rs] : place_runs(orphans, alive))
        for (auto& r : rs) queues[to].push_back(r);
    }
    cv.notify_all();
  };

  auto host_thread = [&](const LabHost& host) {
    auto worker = open(host);
    std::unique_lock lock(mu);
    if (!worker) {
      give_up_host(host.uri, worker.error().message, "");
      return;
    }
    for (;;) {
      cv.wait(lock, [&] { return !queues[host.uri].empty() || settled == runs.size(); });
      if (queues[host.uri].empty()) return;  // everything settled
      std::string run = queues[host.uri].front();
      queues[host.uri].pop_front();
      lock.unlock();
      std::string msg;
      RunOutcome out = (*worker)->run(run, &msg);
      lock.lock();
      if (out == RunOutcome::kHostFailed) {
        give_up_host(host.uri, msg.empty() ? fmt::format("failed during run {}", run) : msg, run);
        return;
      }
      if (out == RunOutcome::kDone)
        result.ran_on[run] = host.uri;
      else if (out == RunOutcome::kStopped)
        result.stopped.push_back(run);
      else
        result.failed[run] = msg;
      ++settled;
      cv.notify_all();
    }
  };

  std::vector<std::thread> threads;
  for (const auto& h : hosts) threads.emplace_back(host_thread, std::cref(h));
  for (auto& t : threads) t.join();
  // Runs queued on a host that ended while others were still busy cannot remain: every
  // give-up moves its queue, and a live host only exits when all runs are settled.
  return result;
}

}  // namespace testbed::runner
