#include "orchestrator/lab/kept_states.h"

#include <ctime>
#include <system_error>

#include <fmt/format.h>

#include "orchestrator/util/build_id.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"

namespace testbed::lab {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kKeptJson = "kept.json";
constexpr int kFormat = 1;
// The lab's key pair; each node's host key pair sits in nodes/<node>/.
constexpr const char* kLabKeys[] = {"id_ed25519", "id_ed25519.pub"};
constexpr const char* kNodeKeys[] = {"ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"};

bool complete_state(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(dir / "state.json", ec) && fs::exists(dir / kStateImageKey, ec);
}

// Renames `from` to `to` (same file system: the kept dir sits beside the lab dirs).
util::Status move(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  fs::rename(from, to, ec);
  if (ec) return util::fail("cannot move {} to {}: {}", from.string(), to.string(), ec.message());
  return {};
}

std::string first_difference(const json& kept, const json& now) {
  for (const auto& [k, v] : now.items())
    if (!kept.contains(k) || kept[k] != v)
      return fmt::format("{} was {}, is {}", k, kept.contains(k) ? kept[k].dump() : "unset",
                         v.dump());
  return "";
}

}  // namespace

json keep_inputs(const std::string& uri, const std::string& accel, const fs::path& topology_file) {
  auto topo = util::sha256_file(topology_file);
  return {{"format", kFormat},
          {"testbed_build", util::build_id()},
          {"topology_sha256", topo ? *topo : std::string()},
          {"uri", uri},
          {"accel", accel}};
}

fs::path kept_dir(const fs::path& state_root, const std::string& lab) {
  return state_root / ".kept" / lab;
}

util::Result<int> stash_states(const fs::path& state_dir, const fs::path& kept,
                               const json& inputs) {
  std::error_code ec;
  const fs::path next = kept.string() + ".new";
  fs::remove_all(next, ec);
  fs::create_directories(next / "nodes", ec);
  if (ec) return util::fail("cannot create {}: {}", next.string(), ec.message());
  int states = 0;
  for (const auto& node : fs::directory_iterator(state_dir / "nodes", ec)) {
    const fs::path states_dir = node.path() / "states";
    if (!fs::is_directory(states_dir, ec)) continue;
    for (const auto& s : fs::directory_iterator(states_dir, ec)) {
      if (!complete_state(s.path())) continue;  // one being taken when the lab went down
      const fs::path to = next / "nodes" / node.path().filename() / "states" / s.path().filename();
      if (auto st = move(s.path(), to); !st) return st.error();
      ++states;
    }
    if (fs::exists(next / "nodes" / node.path().filename(), ec))
      for (const char* k : kNodeKeys)
        if (auto st = move(node.path() / k, next / "nodes" / node.path().filename() / k); !st)
          return st.error();
  }
  if (states == 0) {
    fs::remove_all(next, ec);
    return 0;
  }
  for (const char* k : kLabKeys)
    if (auto st = move(state_dir / k, next / k); !st) return st.error();
  json j = inputs;
  j["kept_at"] = static_cast<int64_t>(::time(nullptr));
  if (auto st = util::write_file_atomic(next / kKeptJson, j.dump(2) + "\n", 0600); !st)
    return st.error();
  fs::remove_all(kept, ec);
  if (auto st = move(next, kept); !st) return st.error();
  return states;
}

Reclaimed reclaim_states(const fs::path& kept, const fs::path& state_dir, const json& inputs,
                         const std::function<std::string(const std::string&)>& image_key) {
  Reclaimed r;
  std::error_code ec;
  auto text = util::read_file(kept / kKeptJson);
  if (!text) {
    fs::remove_all(kept, ec);  // nothing kept, or a stash cut short
    return r;
  }
  const json j = json::parse(*text, nullptr, false);
  auto drop = [&](std::string why) {
    fs::remove_all(kept, ec);
    r.why_not = std::move(why);
    return r;
  };
  if (j.is_discarded() || !j.is_object()) return drop(kept.string() + "/kept.json is damaged");
  if (auto diff = first_difference(j, inputs); !diff.empty()) return drop(diff);
  r.kept_at = j.value("kept_at", int64_t{0});
  for (const char* k : kLabKeys)
    if (auto st = move(kept / k, state_dir / k); !st) return drop(st.error().message);
  for (const auto& node : fs::directory_iterator(kept / "nodes", ec)) {
    const fs::path node_dir = state_dir / "nodes" / node.path().filename();
    for (const char* k : kNodeKeys)
      if (auto st = move(node.path() / k, node_dir / k); !st) return drop(st.error().message);
    for (const auto& s : fs::directory_iterator(node.path() / "states", ec)) {
      auto key = util::read_file(s.path() / kStateImageKey);
      const std::string image = s.path().filename().string();
      if (!key || *key != image_key(image)) continue;  // the image was rebuilt since
      if (auto st = move(s.path(), node_dir / "states" / image); !st) return drop(st.error().message);
      ++r.states;
    }
  }
  fs::remove_all(kept, ec);
  if (r.states == 0) r.why_not = "every kept state was of an image built again since";
  return r;
}

}  // namespace testbed::lab
