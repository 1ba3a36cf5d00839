#include "orchestrator/lab/gc.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "orchestrator/backends/registry.h"
#include "orchestrator/lab/host_firewall.h"
#include "orchestrator/lab/owner.h"
#include "orchestrator/util/files.h"
#include "orchestrator/virt/naming.h"
#include "orchestrator/virt/node_storage.h"

namespace testbed::lab {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace testbed::virt;
using backends::make_backend;

util::Result<GcReport> collect_garbage(const LabOptions& in, bool dry_run) {
  LabOptions opts = with_defaults(in);
  GcReport rep;
  auto parts = make_backend(opts.uri, opts.backend, "tcg");  // listing and removal only
  if (!parts) return parts.error();
  auto objs = parts->backend->list_objects();
  if (!objs) return objs.error();

  // Which labs exist: from libvirt metadata and from state dirs.
  struct LabSeen {
    int64_t owner = 0;
    int64_t owner_start = 0;
    bool kept = false;
    std::vector<std::string> things;
  };
  std::map<std::string, LabSeen> labs;
  for (const auto& o : *objs) {
    auto& l = labs[o.meta.lab];
    l.owner = o.meta.owner_pid;
    l.things.push_back(
        fmt::format("{} {}", o.kind == ObjectKind::kDomain ? "domain" : "network", o.name));
  }
  std::error_code ec;
  if (fs::is_directory(opts.state_root, ec))
    for (const auto& e : fs::directory_iterator(opts.state_root, ec)) {
      if (!e.is_directory()) continue;
      std::string lab = e.path().filename().string();
      if (lab == ".kept") continue;  // saved states kept for labs to come (kept_states.h)
      if (!check_lab_name(lab).ok()) {
        rep.kept.push_back(
            fmt::format("{}: not a lab state dir name; left alone", e.path().string()));
        continue;
      }
      auto& l = labs[lab];
      if (auto text = util::read_file(e.path() / "lab.json")) {
        try {
          auto j = json::parse(*text);
          l.owner = j.value("owner_pid", l.owner);
          l.owner_start = j.value("owner_start_ticks", int64_t{0});
          l.kept = j.value("kept", false);
        } catch (const std::exception&) {
        }
      }
      for (const auto& m : mounts_under(e.path())) l.things.push_back("mount " + m);
      l.things.push_back("state dir " + e.path().string());
    }
  // Host firewall tables (host_firewall.h), their owner recorded in the table.
  if (host_firewall_applies(opts.uri)) {
    auto tables = list_host_firewalls();
    if (!tables) return tables.error();
    for (const auto& t : *tables) {
      auto& l = labs[t.lab];
      if (l.owner == 0) l.owner = t.owner_pid;
      if (l.owner_start == 0 && l.owner == t.owner_pid) l.owner_start = t.owner_start_ticks;
      l.things.push_back("nft table inet " + firewall_table(t.lab));
    }
  }
  for (const auto& [lab, l] : labs) {
    if (l.kept) {
      rep.kept.push_back(fmt::format(
          "lab {}: kept (made by `testbed lab up`; remove with `testbed lab down {}`)", lab, lab));
      continue;
    }
    if (process_alive(l.owner, l.owner_start)) {
      rep.kept.push_back(fmt::format("lab {}: owner process {} is running", lab, l.owner));
      continue;
    }
    for (const auto& t : l.things)
      rep.removed.push_back(fmt::format("{} (lab {}, owner {} gone)", t, lab, l.owner));
    if (dry_run) continue;
    if (check_lab_name(lab).ok()) {
      LabOptions o = opts;
      if (auto s = Lab::destroy(lab, o); !s) return s.error();
    }
  }
  return rep;
}

}  // namespace testbed::lab
