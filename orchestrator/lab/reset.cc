// Resetting nodes between runs: restore a saved running state (snapshot) or boot afresh.
// A snapshot reset that cannot restore (no state yet, a damaged one, a guest that does
// not answer) boots instead, says why in the log and in the run manifest, and takes a
// new state once the booted node is ready; no run is lost to it.
#include <chrono>
#include <future>

#include <fmt/format.h>

#include "orchestrator/lab/kept_states.h"
#include "orchestrator/lab/lab.h"
#include "orchestrator/util/clock.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"

namespace testbed::lab {
namespace fs = std::filesystem;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A restored guest answers at once (its sshd was running when saved); 60 s covers a
// loaded TCG host. Longer means the restore went wrong and a boot is the way out.
constexpr std::chrono::seconds kRestoredAnswer{60};

// A node's state dir, and where its saved state of `image` lives (virt/node_snapshots.h).
fs::path node_dir_of(const fs::path& lab_state, const std::string& node) {
  return lab_state / "nodes" / node;
}
fs::path saved_state_of(const fs::path& lab_state, const std::string& node,
                        const std::string& image) {
  return node_dir_of(lab_state, node) / "states" / image;
}

}  // namespace

nlohmann::json to_json(const NodeReset& r) {
  nlohmann::json j = {{"image", r.image}, {"method", r.method}, {"seconds", r.seconds}};
  if (r.method == "snapshot")
    j["seconds_of"] = {{"restore", r.restore_seconds},
                       {"ssh", r.answer_seconds},
                       {"refresh", r.fresh ? r.fresh->seconds : 0.0}};
  if (!r.fallback.empty()) j["fallback"] = r.fallback;
  if (!r.state_sha256.empty()) {
    j["state_sha256"] = r.state_sha256;
    j["state_taken"] = r.state_taken;
  }
  if (r.fresh) {
    j["clock_offset_ms"] = {{"restored", r.fresh->clock_offset_before_ms},
                            {"after_correction", r.fresh->clock_offset_after_ms},
                            {"probe_rtt", r.fresh->clock_rtt_ms}};
    j["reseeded"] = r.fresh->reseeded;
    j["other_tcp_connections"] = r.fresh->other_tcp_connections;
  }
  return j;
}

util::Status Lab::refresh_restored(const std::string& node, NodeReset* rec) {
  const auto t0 = std::chrono::steady_clock::now();
  auto t = ssh_target(node);
  t.connect_timeout = std::chrono::milliseconds(2000);
  auto session =
      remote::SshSession::connect_retrying(t, kRestoredAnswer, std::chrono::milliseconds(50));
  if (!session)
    return util::fail("the restored node does not answer SSH within {} s: {}",
                      kRestoredAnswer.count(), session.error().message);
  rec->answer_seconds = since(t0);
  auto fresh = refresh_guest(*session);
  if (!fresh) return fresh.error();
  rec->fresh = *fresh;
  return {};
}

bool Lab::has_saved_state(const std::string& node) const {
  std::error_code ec;
  return fs::exists(saved_state_of(state_dir_, node, images_.at(node)) / "state.json", ec);
}

void Lab::reclaim_kept_states() {
  const fs::path kept = kept_dir(opts_.state_root, name_);
  auto r = reclaim_states(kept, state_dir_, keep_inputs(opts_.uri, accel_, topo_.file),
                          [this](const std::string& image) { return image_key(image); });
  if (r.states > 0)
    progress(fmt::format("{} saved state(s) kept by the last lab of this name ({}) taken back: "
                         "those nodes are restored, not booted",
                         r.states, util::utc_time(r.kept_at, "%Y-%m-%d %H:%M UTC")));
  else if (!r.why_not.empty())
    progress(fmt::format("the saved states kept by the last lab of this name are not used ({}); "
                         "its nodes boot",
                         r.why_not));
}

util::Status Lab::capture_state(const std::string& node, NodeReset* rec) {
  const fs::path node_dir = node_dir_of(state_dir_, node);
  auto st = snapshots_->capture(infos_.at(node).domain, node_dir, images_.at(node));
  if (!st) return st.error();
  // Which build of the image: kept states are used again only on the same one.
  if (auto s = util::write_file_atomic(st->dir / kStateImageKey, image_key(images_.at(node)), 0600);
      !s)
    return s;
  no_host_ipv6(node);  // capture restores the node at once: new taps
  rec->state_sha256 = st->sha256;
  rec->state_taken = st->taken;
  progress(fmt::format("node {}: running state of {} saved ({:.1f} s, {} MiB)", node,
                       images_.at(node), st->save_seconds, st->bytes >> 20));
  return refresh_restored(node, rec);
}

util::Status Lab::restore_state(const std::string& node, NodeReset* rec) {
  const fs::path node_dir = node_dir_of(state_dir_, node);
  auto st = snapshots_->find(node_dir, images_.at(node));
  if (!st) return st.error();
  rec->state_sha256 = st->sha256;
  rec->state_taken = st->taken;
  progress(fmt::format("node {}: restoring its saved state of {}", node, images_.at(node)));
  const auto t0 = std::chrono::steady_clock::now();
  if (auto s = snapshots_->restore(infos_.at(node).domain, node_dir, *st); !s) return s;
  no_host_ipv6(node);
  rec->restore_seconds = since(t0);
  return refresh_restored(node, rec);
}

util::Status Lab::capture_or_boot(const std::string& node, NodeReset* rec) {
  auto s = capture_state(node, rec);
  if (s) return {};
  // No state: this node boots on its resets until one is taken. Not a reason to lose a
  // run: the node is booted again if saving stopped it.
  rec->fallback = "no saved state: " + s.error().message;
  util::log_warn("node {} of lab {}: cannot save its running state, so its resets boot: {}",
                 node, name_, s.error().message);
  (void)snapshots_->remove(node_dir_of(state_dir_, node), images_.at(node));
  auto running = backend_->node_running(infos_.at(node).domain);
  if (running && *running) {
    auto t = ssh_target(node);
    t.connect_timeout = std::chrono::milliseconds(2000);
    if (remote::SshSession::connect(t)) return {};
  }
  if (auto r = backend_->remove_node(infos_.at(node).domain); !r) return r;
  if (auto r = create_node(*topo_.node(node)); !r) return r;
  return wait_ready(node, opts_.ready_timeout);
}

util::Status Lab::capture_states() {
  if (!snapshots_) return {};
  for (const auto& n : topo_.nodes) {
    // The router is never reset; its state is kept only for the next lab (keep_states).
    if (n.role == config::NodeRole::kRouter && !opts_.keep_states) continue;
    if (has_saved_state(n.name)) continue;  // restored at up from a kept state
    NodeReset rec;
    if (auto s = capture_or_boot(n.name, &rec); !s) return s;
  }
  return {};
}

util::Status Lab::reset_nodes(const std::vector<std::string>& nodes, bool boot) {
  for (const auto& node : nodes)
    if (!topo_.node(node)) return util::fail("lab '{}' has no node '{}'", name_, node);
  resets_.clear();
  std::map<std::string, std::chrono::steady_clock::time_point> started;
  for (const auto& node : nodes) {
    started[node] = std::chrono::steady_clock::now();
    resets_[node].image = images_.at(node);
    resets_[node].method = "boot";
  }
  // Restores run at once (one libvirt call and one SSH session each): resetting three
  // targets takes about as long as one.
  std::map<std::string, std::future<util::Status>> restoring;
  if (snapshots_ && opts_.wait_until_ready && !boot)
    for (const auto& node : nodes) {
      NodeReset* rec = &resets_[node];
      restoring[node] = std::async(std::launch::async,
                                   [this, &node, rec] { return restore_state(node, rec); });
    }
  std::vector<std::string> to_boot;
  for (const auto& node : nodes) {
    NodeReset& rec = resets_[node];
    auto it = restoring.find(node);
    if (it != restoring.end()) {
      const bool had_state = fs::exists(saved_state_of(state_dir_, node, rec.image));
      util::Status s = it->second.get();
      if (s) {
        rec.method = "snapshot";
        rec.seconds = since(started[node]);
        continue;
      }
      // The first reset on a new image has no state yet; anything else is a fault.
      if (had_state) {
        rec.fallback = s.error().message;
        util::log_warn("node {} of lab {}: snapshot reset failed, booting instead: {}", node,
                       name_, rec.fallback);
        (void)snapshots_->remove(node_dir_of(state_dir_, node), rec.image);
      }
      rec.state_sha256.clear();
      rec.state_taken = 0;
      rec.fresh.reset();
    }
    to_boot.push_back(node);
  }
  for (const auto& node : to_boot)
    if (auto s = backend_->remove_node(infos_.at(node).domain); !s) return s;
  for (const auto& node : to_boot)
    if (auto s = create_node(*topo_.node(node)); !s) return s;
  for (const auto& node : to_boot) {
    if (!opts_.wait_until_ready) continue;
    if (auto s = wait_ready(node, opts_.ready_timeout); !s) return s;
    NodeReset& rec = resets_[node];
    // A forced boot keeps the state it has; a node without one gets one now.
    const bool has_state = fs::exists(saved_state_of(state_dir_, node, rec.image) / "state.json");
    if (snapshots_ && !(boot && has_state))
      if (auto s = capture_or_boot(node, &rec); !s) return s;
    rec.seconds = since(started[node]);
  }
  return {};
}

}  // namespace testbed::lab
