#include "orchestrator/report/findings.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "orchestrator/analysis/phases.h"
#include "orchestrator/report/payload_decode.h"

namespace testbed::report {
namespace {

using analysis::PacketKey;
using VersionSet = std::set<size_t>;  // study column indexes

std::string phase_title(const std::string& phase) {
  if (phase == "discovery") return "host discovery";
  if (phase == "port-scan") return "port scan";
  if (phase == "service") return "service detection";
  if (phase == "os") return "OS detection";
  if (phase == "script") return "script scan";
  if (phase == "traceroute") return "traceroute";
  return "unattributed packets";
}

/// "TCP SYN probes", "TLS ClientHellos", "UDP payloads", … (plural: what the versions send).
std::string what(const std::string& proto, const std::string& cls) {
  if (cls == "TLS ClientHello") return "TLS ClientHellos";
  if (cls == "HTTP request") return "HTTP requests";
  if (cls == "DNS query") return "DNS queries";
  if (cls == "payload") return proto + " payloads";
  if (cls == "empty UDP") return "empty UDP probes";
  if (proto == "TCP") return "TCP " + cls + " probes";
  return proto + " packets";
}

std::string and_list(const std::vector<std::string>& v) {
  if (v.size() <= 1) return v.empty() ? "" : v[0];
  std::string o;
  for (size_t i = 0; i + 1 < v.size(); ++i) o += (i ? ", " : "") + v[i];
  return o + " and " + v.back();
}

std::string ports_text(const std::vector<uint16_t>& ports) {
  if (ports.empty()) return "";
  constexpr size_t kShown = 8;
  std::vector<uint16_t> shown(ports.begin(), ports.begin() + std::min(ports.size(), kShown));
  std::string o = fmt::format("{}", fmt::join(shown, "/"));
  if (ports.size() > kShown) o += fmt::format(" and {} more ports", ports.size() - kShown);
  return o;
}

/// One (phase, protocol, payload class) of the unique packets: per port, which versions.
struct Group {
  std::map<uint16_t, VersionSet> port_versions;
  std::map<size_t, std::vector<std::pair<uint16_t, PacketKey>>> keys;  // version → (port, key)
};

struct Context {
  const std::vector<std::string>& versions;
  const std::vector<analysis::RunPhaseSets>& runs;
  const analysis::NoiseFloor& noise;
  std::vector<std::string> rows;  // the runs' fine phase rows
};

/// Fills the counts and the noise of `f` from the packets of `sides` (version → ports).
void count(Finding& f, const Group& g,
           const std::vector<std::pair<VersionSet, std::set<uint16_t>>>& sides, const Context& cx) {
  const size_t row =
      static_cast<size_t>(std::find(cx.rows.begin(), cx.rows.end(), f.phase) - cx.rows.begin());
  f.noise_known = true;
  for (const auto& [vs, ports] : sides) {
    std::set<std::string> side_names;
    for (size_t v : vs) side_names.insert(cx.versions[v]);
    for (size_t v : vs) {
      const std::string& version = cx.versions[v];
      size_t runs_of_v = 0;
      for (const auto& r : cx.runs) runs_of_v += r.version == version;
      f.noise_known = f.noise_known && runs_of_v >= 2;
      if (const analysis::NoiseCell* c = cx.noise.find(f.phase, version); c && c->pairs)
        f.noise_floor = std::max(f.noise_floor, c->max);
      auto it = g.keys.find(v);
      if (it == g.keys.end()) continue;
      for (const auto& [port, k] : it->second) {
        if (!ports.count(port)) continue;
        ++f.packets[version];
        ++f.total;
        if (row >= cx.rows.size()) continue;
        // Sent by every run of the versions on its side, by no run of any other version.
        bool noisy = false;
        for (const auto& r : cx.runs) {
          const bool has = r.rows[row].contains(k), ours = side_names.count(r.version) > 0;
          noisy = noisy || (ours ? !has : has);
        }
        f.noisy += noisy;
      }
    }
  }
}

std::string counts_text(const Finding& f, const std::vector<std::string>& order) {
  std::vector<std::string> parts;
  for (const auto& v : order)
    if (auto it = f.packets.find(v); it != f.packets.end())
      parts.push_back(fmt::format("{}: {}", v, it->second));
  return fmt::format("{} packet{} ({})", f.total, f.total == 1 ? "" : "s", fmt::join(parts, ", "));
}

std::string noise_text(const Finding& f) {
  if (!f.noise_known) return "noise unknown (a version has one run only)";
  std::string floor = fmt::format("; phase noise floor ≤{}", f.noise_floor);
  if (f.noisy == 0) return "no noise: in every run of its version and in none of another" + floor;
  if (f.noisy == f.total) return "all noise: not in every run of its version" + floor;
  return fmt::format("{} of them noise (not in every run of their version){}", f.noisy, floor);
}

void write_sentence(Finding& f, const std::vector<std::string>& order, size_t nversions) {
  const std::string w = what(f.proto, f.payload_class);
  const bool ported = !f.ports.empty() && !(f.ports.size() == 1 && f.ports[0] == 0);
  const std::string to = ported ? " to " + ports_text(f.ports) : "";
  std::string s = phase_title(f.phase) + ": ";
  if (!f.other_versions.empty()) {
    s += fmt::format("{} send{} {}{} where {} send{} them to {}", and_list(f.versions),
                     f.versions.size() == 1 ? "s" : "", w, to, and_list(f.other_versions),
                     f.other_versions.size() == 1 ? "s" : "", ports_text(f.other_ports));
  } else if (f.versions.size() == nversions && nversions > 1) {
    s += fmt::format("each version sends {} of its own{}", w, to);
  } else {
    s += fmt::format("{} send{} {}{} that no other version sends", and_list(f.versions),
                     f.versions.size() == 1 ? "s" : "", w, to);
  }
  f.sentence = s + " — " + counts_text(f, order) + ", " + noise_text(f) + ".";
}

}  // namespace

std::string unique_anchor(const std::string& phase, size_t version_index) {
  return fmt::format("u-{}-{}", phase, version_index);
}

std::vector<Finding> find_differences(const analysis::AnalysisResult& study,
                                      const std::vector<std::string>& versions,
                                      const PacketPlaces& places,
                                      const std::vector<analysis::RunPhaseSets>& runs,
                                      const analysis::NoiseFloor& noise) {
  Context cx{versions, runs, noise, analysis::phase_rows(false)};
  std::vector<Finding> out;
  const analysis::UniqueTable& t = study.fine;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    std::map<std::pair<std::string, std::string>, Group> groups;  // (proto, class)
    for (size_t v = 0; v < t.cells[r].size() && v < versions.size(); ++v)
      for (const PacketKey& k : t.cells[r][v].unique) {
        const std::string payload = payload_of(k, places.find(v, k), *study.payloads);
        Group& g = groups[{k.proto_name(), payload_class(k, payload)}];
        g.port_versions[k.dport].insert(v);
        g.keys[v].push_back({k.dport, k});
      }
    for (const auto& [id, g] : groups) {
      std::map<VersionSet, std::set<uint16_t>> by_set;  // which versions → their ports
      for (const auto& [port, vs] : g.port_versions) by_set[vs].insert(port);
      std::set<VersionSet> done;
      for (const auto& [vs, ports] : by_set) {
        if (done.count(vs)) continue;
        done.insert(vs);
        VersionSet rest;
        for (size_t v = 0; v < versions.size(); ++v)
          if (!vs.count(v) && v < t.cells[r].size()) rest.insert(v);
        Finding f;
        f.phase = t.rows[r];
        f.proto = id.first;
        f.payload_class = id.second;
        for (size_t v : vs) f.versions.push_back(versions[v]);
        f.ports.assign(ports.begin(), ports.end());
        std::vector<std::pair<VersionSet, std::set<uint16_t>>> sides = {{vs, ports}};
        if (auto other = by_set.find(rest); !rest.empty() && other != by_set.end()) {
          done.insert(rest);
          for (size_t v : rest) f.other_versions.push_back(versions[v]);
          f.other_ports.assign(other->second.begin(), other->second.end());
          sides.push_back({rest, other->second});
        }
        count(f, g, sides, cx);
        f.anchor = unique_anchor(f.phase, *vs.begin());
        write_sentence(f, versions, versions.size());
        out.push_back(std::move(f));
      }
    }
  }
  auto phase_index = [&](const std::string& p) {
    return std::find(t.rows.begin(), t.rows.end(), p) - t.rows.begin();
  };
  std::stable_sort(out.begin(), out.end(), [&](const Finding& a, const Finding& b) {
    return std::make_tuple(b.total, phase_index(a.phase)) <
           std::make_tuple(a.total, phase_index(b.phase));
  });
  return out;
}

}  // namespace testbed::report
