#pragma once
// Saved running states that outlive their lab (LabOptions::keep_states, the experiment's
// `keep_states: true`). A VM node's saved state is taken once per lab when the node is
// first ready (virt/node_snapshots.h); booting every node again at the next `lab up` is
// most of a short VM experiment's overhead under TCG. With keep_states, taking the lab
// down moves every complete node state, and the SSH keys the guests were made with, to
// <state_root>/.kept/<lab>/; the next lab of that name takes them back — when the testbed
// build, the topology file, the libvirt URI and the acceleration are the same, and per
// state when the node's image is the same build — and restores those nodes instead of
// booting them. Anything else differing: the kept states are removed and the nodes boot.
//
// Layout of <state_root>/.kept/<lab>/:
//   kept.json                       the inputs below, and when the states were kept
//   id_ed25519, id_ed25519.pub      the lab's SSH key (in the guests' authorized_keys)
//   nodes/<node>/ssh_host_ed25519_key{,.pub}   each guest's host key
//   nodes/<node>/states/<image>/    a complete state (state.json present), as in the lab
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "orchestrator/util/result.h"

namespace testbed::lab {

/// The file in a state dir naming the image build (cache key) the state was taken on.
inline constexpr const char* kStateImageKey = "image-key";

/// What must be equal for kept states to be used again (lab.json "keep_inputs"): the
/// testbed build (util::build_id), the topology file's SHA-256, the URI and the
/// acceleration that ran.
nlohmann::json keep_inputs(const std::string& uri, const std::string& accel,
                           const std::filesystem::path& topology_file);

/// <state_root>/.kept/<lab>
std::filesystem::path kept_dir(const std::filesystem::path& state_root, const std::string& lab);

/// Moves the lab's keys and every complete node state from its state dir `state_dir` to
/// `kept` (what was kept there before is replaced), recording `inputs`. The domains must
/// be gone (a state's frozen disk is the backing file of a running node's layer).
/// Returns how many states were kept.
util::Result<int> stash_states(const std::filesystem::path& state_dir,
                               const std::filesystem::path& kept, const nlohmann::json& inputs);

struct Reclaimed {
  int states = 0;       ///< states taken back into the lab dir
  int64_t kept_at = 0;  ///< when they were kept (UNIX time)
  std::string why_not;  ///< why nothing was taken back; empty when nothing was kept
};

/// Takes kept states back into the new lab dir `state_dir` when `inputs` equal the kept
/// ones: the keys (before the lab would make new ones) and the state of each node whose
/// image build `image_key(image)` is the one the state was taken on. What is not taken
/// back is deleted; so is `kept` afterwards.
Reclaimed reclaim_states(const std::filesystem::path& kept, const std::filesystem::path& state_dir,
                         const nlohmann::json& inputs,
                         const std::function<std::string(const std::string& image)>& image_key);

}  // namespace testbed::lab
