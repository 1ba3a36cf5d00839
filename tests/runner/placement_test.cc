// Placement across several lab hosts: the pure spreading/re-placing rules, then real
// runs on several test:///default connections (one per "host"), with one host failing
// mid-experiment through the worker interface.
#include <gtest/gtest.h>

#include <atomic>

#include "orchestrator/runner/placement.h"
#include "orchestrator/backends/vm/xml.h"
#include "orchestrator/virt/libvirt_backend.h"

namespace testbed::virt {
using backends::vm::VmXml;
using backends::vm::vm_xml_options_for_test_driver;
using runner::HostWorker;
using runner::LabHost;
using runner::MultiHostResult;
using runner::RunOutcome;
using runner::host_lab_name;
using runner::lab_hosts;
using runner::place_runs;
using runner::replace_failed_host;
using runner::run_across_hosts;
namespace {

std::vector<std::string> study_runs(int reps) {
  std::vector<std::string> r;
  for (int k = 1; k <= reps; ++k)
    for (const char* v : {"7.01", "7.60", "7.80"}) r.push_back(fmt::format("{}/{}", v, k));
  return r;
}

TEST(Placement, OneLabPerHostWithDistinctNames) {
  auto hosts = lab_hosts({"qemu+ssh://a/system", "qemu+ssh://b/system"});
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[1].uri, "qemu+ssh://b/system");
  EXPECT_EQ(hosts[1].slots, 1);
  EXPECT_EQ(host_lab_name("nmap7-ubuntu-kvm", 0, 1), "nmap7-ubuntu-kvm");
  EXPECT_EQ(host_lab_name("nmap7-ubuntu-kvm", 0, 2), "nmap7-ubuntu-kvm-h1");
  EXPECT_EQ(host_lab_name("nmap7-ubuntu-kvm", 1, 2), "nmap7-ubuntu-kvm-h2");
  // At most 24 characters, never "--h".
  EXPECT_EQ(host_lab_name("abcdefghijklmnopqrstuvwx", 9, 12), "abcdefghijklmnopqrst-h10");
  EXPECT_EQ(host_lab_name("abcdefghijklmnopqrst-vwx", 0, 2), "abcdefghijklmnopqrst-h1");
}

TEST(Placement, SpreadsEvenlyInOrderAndByWeight) {
  auto p = place_runs(study_runs(2), {{"qemu+ssh://a/system"}, {"qemu+ssh://b/system"}});
  EXPECT_EQ(p["qemu+ssh://a/system"], (std::vector<std::string>{"7.01/1", "7.80/1", "7.60/2"}));
  EXPECT_EQ(p["qemu+ssh://b/system"], (std::vector<std::string>{"7.60/1", "7.01/2", "7.80/2"}));
  auto w = place_runs(study_runs(2), {{"a", 2}, {"b", 1}});
  EXPECT_EQ(w["a"].size(), 4u);
  EXPECT_EQ(w["b"].size(), 2u);
  auto idle = place_runs({}, {{"a"}, {"b"}});
  EXPECT_EQ(idle.size(), 2u);  // every host listed, even with nothing to do
  EXPECT_TRUE(idle["a"].empty());
}

TEST(Placement, FailedHostsUnfinishedRunsMoveToSurvivors) {
  std::vector<LabHost> hosts = {{"a"}, {"b"}, {"c"}};
  auto p = place_runs(study_runs(2), hosts);  // a: 7.01/1 7.01/2; b: 7.60/1 7.60/2; c: ...
  auto next = replace_failed_host(p, "b", {"7.60/1"}, {{"a"}, {"c"}});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->count("b"), 0u);
  size_t total = 0;
  for (auto& [h, rs] : *next) total += rs.size();
  EXPECT_EQ(total, 5u);  // 6 runs minus the one b finished
  EXPECT_EQ((*next)["a"].back(), "7.60/2");
  auto none = replace_failed_host(p, "b", {}, {});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("7.60/2"), std::string::npos) << none.error().message;
}

// A "host": its own test:///default connection; a run defines and starts a VM on it,
// checks it runs, and removes it. `fail_after` injects a host failure at that run.
class TestDriverWorker : public HostWorker {
 public:
  TestDriverWorker(std::unique_ptr<LibvirtBackend> b, std::string tag, int fail_after,
                   std::atomic<int>* runs_seen)
      : b_(std::move(b)), tag_(std::move(tag)), fail_after_(fail_after), seen_(runs_seen) {}
  RunOutcome run(const std::string& run_id, std::string* msg) override {
    ++*seen_;
    if (fail_after_ >= 0 && done_ >= fail_after_) {
      *msg = "injected: libvirt connection to " + tag_ + " lost";
      return RunOutcome::kHostFailed;
    }
    NodeSpec s;
    s.name = "tb-" + tag_ + "-scanner-" + run_id.substr(0, 4) + "-" + run_id.substr(5);
    for (auto& c : s.name)
      if (c == '.' || c == '/') c = '-';
    s.disk_path = "/nonexistent/" + s.name + ".qcow2";
    s.meta = {"multi-" + tag_, 1, 1, "/tmp/none"};
    if (auto st = b_->create_node(s); !st) {
      *msg = st.error().message;
      return RunOutcome::kRunFailed;
    }
    auto running = b_->node_running(s.name);
    bool ok = running && *running;
    (void)b_->remove_node(s.name);
    ++done_;
    return ok ? RunOutcome::kDone : RunOutcome::kRunFailed;
  }

 private:
  std::unique_ptr<LibvirtBackend> b_;
  std::string tag_;
  int fail_after_;
  int done_ = 0;
  std::atomic<int>* seen_;
};

MultiHostResult run_with(const std::vector<std::string>& runs, const std::vector<LabHost>& hosts,
                         std::map<std::string, int> fail_after, std::set<std::string> down,
                         std::atomic<int>* seen) {
  return run_across_hosts(
      runs, hosts, [&](const LabHost& h) -> util::Result<std::unique_ptr<HostWorker>> {
        if (down.count(h.uri)) return util::fail("cannot connect to {}: injected", h.uri);
        auto b = LibvirtBackend::connect(
            "test:///default", std::make_unique<VmXml>(vm_xml_options_for_test_driver()));
        if (!b) return b.error();
        int fa = fail_after.count(h.uri) ? fail_after.at(h.uri) : -1;
        return std::unique_ptr<HostWorker>(new TestDriverWorker(std::move(*b), h.uri, fa, seen));
      });
}

TEST(MultiHost, AllRunsCompleteAcrossThreeConnections) {
  std::atomic<int> seen = 0;
  auto runs = study_runs(3);
  auto r = run_with(runs, {{"h1"}, {"h2"}, {"h3"}}, {}, {}, &seen);
  EXPECT_EQ(r.ran_on.size(), runs.size());
  EXPECT_TRUE(r.failed.empty());
  EXPECT_TRUE(r.dead_hosts.empty());
  std::map<std::string, int> per_host;
  for (auto& [run, host] : r.ran_on) ++per_host[host];
  EXPECT_EQ(per_host, (std::map<std::string, int>{{"h1", 3}, {"h2", 3}, {"h3", 3}}));
  EXPECT_EQ(seen.load(), 9);
}

TEST(MultiHost, HostFailingMidExperimentLosesOnlyItsRunsWhichRunElsewhere) {
  std::atomic<int> seen = 0;
  auto runs = study_runs(3);
  auto r = run_with(runs, {{"h1"}, {"h2"}, {"h3"}}, {{"h2", 1}}, {}, &seen);
  EXPECT_EQ(r.ran_on.size(), runs.size());  // every run done somewhere
  ASSERT_EQ(r.dead_hosts.size(), 1u);
  EXPECT_NE(r.dead_hosts["h2"].find("injected"), std::string::npos);
  int on_h2 = 0;
  for (auto& [run, host] : r.ran_on) on_h2 += host == "h2";
  EXPECT_EQ(on_h2, 1);         // it finished one run before failing; that one stays done
  EXPECT_EQ(seen.load(), 10);  // 9 runs + the one attempt h2 failed on
}

TEST(MultiHost, HostDownFromTheStartAndAllHostsFailing) {
  std::atomic<int> seen = 0;
  auto runs = study_runs(2);
  auto r = run_with(runs, {{"h1"}, {"h2"}}, {}, {"h1"}, &seen);
  EXPECT_EQ(r.ran_on.size(), runs.size());
  for (auto& [run, host] : r.ran_on) EXPECT_EQ(host, "h2");
  EXPECT_EQ(r.dead_hosts.count("h1"), 1u);

  std::atomic<int> seen2 = 0;
  auto all = run_with(runs, {{"h1"}, {"h2"}}, {{"h1", 0}, {"h2", 1}}, {}, &seen2);
  EXPECT_EQ(all.dead_hosts.size(), 2u);
  EXPECT_EQ(all.ran_on.size() + all.unplaced.size(), runs.size());
  EXPECT_EQ(all.ran_on.size(), 1u);
}

}  // namespace
}  // namespace testbed::virt
