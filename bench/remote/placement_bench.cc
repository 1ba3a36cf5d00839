// Several lab hosts, on paper: the placement and result collection of `hosts:` runs
// (runner::run_across_hosts) with 50 fake hosts x 500 runs. Prints `name: value` lines:
//   - place_runs for 500 runs over 50 hosts (one call);
//   - the scheduler's own overhead per run: run_across_hosts with workers that do nothing,
//     against the same 500 worker calls in a plain loop (the baseline, same process);
//   - results pulled per second: each worker "collects" its run by copying a capture of
//     --pcap-kib from the host's directory into one results directory (what the real
//     runner does after pulling it over SSH), against one thread copying them all;
//   - the same with 5 hosts failing at their first run (their runs move to the others).
// Fake hosts need no libvirt; the SSH pull itself is measured by bench/remote/pull.sh.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "orchestrator/runner/placement.h"

namespace fs = std::filesystem;
using testbed::runner::HostWorker;
using testbed::runner::LabHost;
using testbed::runner::RunOutcome;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class NoopWorker : public HostWorker {
 public:
  RunOutcome run(const std::string&, std::string*) override { return RunOutcome::kDone; }
};

/// "Pulls" a run's capture: copies <hosts>/<host>/capture.pcap to <results>/<run>.pcap.
class CopyWorker : public HostWorker {
 public:
  CopyWorker(fs::path from, fs::path to, bool fail_first)
      : from_(std::move(from)), to_(std::move(to)), fail_(fail_first) {}
  RunOutcome run(const std::string& id, std::string* msg) override {
    if (fail_) {
      *msg = "host lost";
      return RunOutcome::kHostFailed;
    }
    std::error_code ec;
    std::string name = id;
    std::replace(name.begin(), name.end(), '/', '-');
    fs::copy_file(from_, to_ / (name + ".pcap"), fs::copy_options::overwrite_existing, ec);
    return ec ? RunOutcome::kRunFailed : RunOutcome::kDone;
  }

 private:
  fs::path from_, to_;
  bool fail_;
};

}  // namespace

int main(int argc, char** argv) {
  int hosts_n = 50, runs_n = 500, pcap_kib = 1024;
  fs::path work = fs::temp_directory_path() / "testbed-placement-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--hosts") hosts_n = std::stoi(argv[i + 1]);
    if (a == "--runs") runs_n = std::stoi(argv[i + 1]);
    if (a == "--pcap-kib") pcap_kib = std::stoi(argv[i + 1]);
    if (a == "--workdir") work = argv[i + 1];
  }
  std::vector<LabHost> hosts;
  for (int h = 0; h < hosts_n; ++h) hosts.push_back({fmt::format("qemu+ssh://root@lab{}/system", h), 1});
  std::vector<std::string> runs;
  for (int r = 0; r < runs_n; ++r) runs.push_back(fmt::format("7.{}/{}", r % 9, r / 9 + 1));

  double t0 = now();
  auto placed = testbed::runner::place_runs(runs, hosts);
  double place_s = now() - t0;
  size_t most = 0;
  for (auto& [u, rs] : placed) most = std::max(most, rs.size());
  fmt::print("place_runs_{}x{}_ms: {:.3f}\n", hosts_n, runs_n, place_s * 1e3);
  fmt::print("place_runs_max_per_host: {}\n", most);

  // Scheduler overhead: threads, queues and the condition variable per run.
  NoopWorker direct;
  std::string msg;
  t0 = now();
  for (const auto& r : runs) direct.run(r, &msg);
  double base_s = now() - t0;
  t0 = now();
  auto res = testbed::runner::run_across_hosts(runs, hosts, [](const LabHost&) {
    return testbed::util::Result<std::unique_ptr<HostWorker>>(std::make_unique<NoopWorker>());
  });
  double sched_s = now() - t0;
  if (res.ran_on.size() != runs.size()) {
    fmt::print(stderr, "only {} of {} runs ran\n", res.ran_on.size(), runs.size());
    return 1;
  }
  fmt::print("scheduler_overhead_per_run_us: {:.1f}\n", sched_s / runs_n * 1e6);
  fmt::print("plain_loop_per_run_us: {:.3f}\n", base_s / runs_n * 1e6);

  // Result collection: one capture per run copied into one results directory.
  fs::remove_all(work);
  const fs::path results = work / "results";
  fs::create_directories(results);
  std::string blob(size_t(pcap_kib) * 1024, '\x5a');
  for (int h = 0; h < hosts_n; ++h) {
    fs::create_directories(work / "hosts" / std::to_string(h));
    std::ofstream(work / "hosts" / std::to_string(h) / "capture.pcap", std::ios::binary) << blob;
  }
  auto pcap_of = [&](const std::string& uri) {
    for (int h = 0; h < hosts_n; ++h)
      if (hosts[h].uri == uri) return work / "hosts" / std::to_string(h) / "capture.pcap";
    return fs::path();
  };
  t0 = now();
  for (size_t r = 0; r < runs.size(); ++r) {
    CopyWorker w(work / "hosts" / std::to_string(r % hosts_n) / "capture.pcap", results, false);
    w.run(fmt::format("seq{}", r), &msg);
  }
  double seq_s = now() - t0;
  for (int fails : {0, 5}) {
    fs::remove_all(results);
    fs::create_directories(results);
    std::atomic<int> failing{fails};
    t0 = now();
    auto rr = testbed::runner::run_across_hosts(runs, hosts, [&](const LabHost& h) {
      bool fail = failing.fetch_sub(1) > 0;
      return testbed::util::Result<std::unique_ptr<HostWorker>>(
          std::make_unique<CopyWorker>(pcap_of(h.uri), results, fail));
    });
    double s = now() - t0;
    size_t files = 0;
    for (auto& e : fs::directory_iterator(results)) files += e.is_regular_file();
    if (rr.ran_on.size() != runs.size() || files != runs.size()) {
      fmt::print(stderr, "{} failing hosts: {} runs ran, {} files\n", fails, rr.ran_on.size(), files);
      return 1;
    }
    fmt::print("results_pulled_per_s_{}_failing_hosts: {:.0f}\n", fails, runs_n / s);
    fmt::print("results_MiB_per_s_{}_failing_hosts: {:.0f}\n", fails,
               runs_n * pcap_kib / 1024.0 / s);
    fmt::print("dead_hosts_{}_failing: {}\n", fails, rr.dead_hosts.size());
    fmt::print("results_pulled_vs_one_thread_ratio_{}_failing_hosts: {:.2f}\n", fails, seq_s / s);
  }
  fmt::print("results_pulled_per_s_one_thread_baseline: {:.0f}\n", runs_n / seq_s);
  // The scheduler's cost per run against copying one capture (both measured here).
  fmt::print("scheduler_overhead_vs_one_capture_copy_ratio: {:.3f}\n",
             (sched_s / runs_n) / (seq_s / runs_n));
  fs::remove_all(work);
  return 0;
}
