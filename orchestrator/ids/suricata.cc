#include "orchestrator/ids/suricata.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "orchestrator/images/cache.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::ids {
namespace fs = std::filesystem;

namespace {

constexpr auto kTimeout = std::chrono::minutes(10);

util::Result<util::ProcessResult> run(const Suricata& s, std::vector<std::string> args) {
  std::vector<std::string> argv = s.argv0;
  argv.insert(argv.end(), args.begin(), args.end());
  util::ProcessOptions po;
  po.timeout = kTimeout;
  return util::run_process(argv, po);
}

/// The last lines of Suricata's output, for error messages.
std::string tail(const std::string& s, size_t lines = 6) {
  size_t pos = s.size();
  for (size_t n = 0; n < lines && pos > 0; ++n) pos = s.rfind('\n', pos - 1);
  return s.substr(pos == std::string::npos ? 0 : pos);
}

util::Status write_config(const Suricata& s, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return util::fail("cannot create {}: {}", dir.string(), ec.message());
  return util::write_file_atomic(dir / "suricata.yaml", suricata_config(s, dir));
}

}  // namespace

std::string suricata_config(const Suricata& s, const fs::path& log_dir,
                            const std::vector<std::string>& rule_files) {
  std::string rules;
  if (!rule_files.empty()) {
    rules = fmt::format("default-rule-path: {}\nrule-files:\n", log_dir.string());
    for (const auto& f : rule_files) rules += "  - " + f + "\n";
  }
  return fmt::format(R"(%YAML 1.1
---
# Written by testbed (orchestrator/ids/suricata.cc): offline replay and rule checks.
default-log-dir: {}
classification-file: {}
reference-config-file: {}
threshold-file: {}
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - alert:
            payload: no
            packet: no
        - stats:
            totals: yes
            threads: no
stats:
  enabled: yes
  interval: 1
logging:
  default-log-level: notice
  outputs:
    - console:
        enabled: yes
stream:
  midstream: true
  checksum-validation: no
)",
                     log_dir.string(), (s.root / "etc/suricata/classification.config").string(),
                     (s.root / "etc/suricata/reference.config").string(),
                     (s.root / "etc/suricata/threshold.config").string()) +
         rules;
}

util::Result<Suricata> find_suricata(const fs::path& cache_root) {
  auto img = images::find_image(kSensorImage,
                                cache_root.empty() ? images::default_cache_root() : cache_root);
  if (!img) return img.error();
  Suricata s;
  s.root = img->rootfs;
  s.image_key = img->key;
  const fs::path loader = s.root / "usr/lib64/ld-linux-x86-64.so.2";
  const fs::path bin = s.root / "usr/bin/suricata";
  for (const fs::path& p : {loader, bin})
    if (!fs::exists(p))
      return util::fail("{}: the sensor image has no {} (rebuild it: testbed image build {})",
                        s.root.string(), p.string(), kSensorImage);
  const std::string libs = (s.root / "usr/lib/x86_64-linux-gnu").string() + ":" +
                           (s.root / "usr/lib").string();
  s.argv0 = {loader.string(), "--library-path", libs, bin.string()};
  auto v = run(s, {"-V"});
  if (!v) return v.error();
  std::smatch m;
  const std::string out = v->out + v->err;
  static const std::regex kVersion(R"(Suricata version ([0-9][0-9.]*))");
  if (v->exit_code != 0 || !std::regex_search(out, m, kVersion))
    return util::fail("the sensor image's Suricata does not start ({}):{}",
                      util::format_argv(s.argv0), tail(out));
  s.version = m[1];
  return s;
}

util::Result<RuleCheck> check_rules(const Suricata& s, const std::vector<std::string>& rules,
                                    const fs::path& workdir) {
  if (auto st = write_config(s, workdir); !st) return st.error();
  std::string text;
  for (const std::string& r : rules) text += r + "\n";
  const fs::path file = workdir / "check.rules";
  if (auto st = util::write_file_atomic(file, text); !st) return st.error();
  auto p = run(s, {"-T", "-c", (workdir / "suricata.yaml").string(), "-S", file.string(), "-l",
                   workdir.string()});
  if (!p) return p.error();
  // Suricata names each rejected rule: `… error parsing signature "…" from file F at line N`,
  // after the line(s) saying why.
  RuleCheck out;
  static const std::regex kBad(R"(error parsing signature .* at line ([0-9]+))");
  static const std::regex kLoaded(R"(([0-9]+) rules successfully loaded)");
  std::istringstream in(p->out + "\n" + p->err);
  std::string line, why;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, kBad)) {
      RuleError e;
      e.line = std::stoul(m[1]);
      if (e.line >= 1 && e.line <= rules.size()) e.rule = rules[e.line - 1];
      e.message = why.empty() ? line : why;
      out.errors.push_back(std::move(e));
      why.clear();
    } else if (line.find("Error") != std::string::npos || line.find("<Error>") != std::string::npos) {
      why += (why.empty() ? "" : " ") + line;
    }
    if (std::regex_search(line, m, kLoaded)) out.loaded = std::stoul(m[1]);
  }
  if (p->exit_code != 0 && out.errors.empty())
    return util::fail("suricata -T failed (exit {}) without naming a rule:{}", p->exit_code,
                      tail(p->out + p->err));
  return out;
}

util::Result<std::map<uint32_t, uint64_t>> count_alerts(const fs::path& eve) {
  std::ifstream in(eve);
  if (!in) return util::fail("cannot read {}", eve.string());
  std::map<uint32_t, uint64_t> out;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("event_type", "") != "alert") continue;
    const auto& a = j["alert"];
    if (a.contains("signature_id") && a["signature_id"].is_number_unsigned())
      ++out[a["signature_id"].get<uint32_t>()];
  }
  return out;
}

util::Result<Replay> replay(const Suricata& s, const fs::path& rules, const fs::path& pcap,
                            const fs::path& workdir) {
  if (auto st = write_config(s, workdir); !st) return st.error();
  std::error_code ec;
  fs::remove(workdir / "eve.json", ec);
  auto p = run(s, {"-c", (workdir / "suricata.yaml").string(), "-S", rules.string(), "-r",
                   pcap.string(), "-k", "none", "-l", workdir.string(), "--runmode", "single"});
  if (!p) return p.error();
  if (p->exit_code != 0)
    return util::fail("suricata -r {} failed (exit {}):{}", pcap.string(), p->exit_code,
                      tail(p->out + p->err));
  Replay out;
  out.eve = workdir / "eve.json";
  auto a = count_alerts(out.eve);
  if (!a) return a.error();
  out.alerts = std::move(*a);
  // The last stats record's decoder.pkts: what Suricata read.
  std::ifstream in(out.eve);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("event_type", "") == "stats")
      out.packets = j["stats"]["decoder"].value("pkts", uint64_t{0});
  }
  return out;
}

}  // namespace testbed::ids
