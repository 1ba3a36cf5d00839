#include "orchestrator/ids/live.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/log.h"

namespace testbed::ids {
namespace fs = std::filesystem;

namespace {

std::string log_tail(const fs::path& log) {
  auto t = util::read_file(log);
  if (!t) return "";
  const std::string& s = *t;
  size_t pos = s.size();
  for (int n = 0; n < 8 && pos > 0; ++n) pos = s.rfind('\n', pos - 1);
  return s.substr(pos == std::string::npos ? 0 : pos);
}

/// Waits up to `seconds` for `pid` to exit; true when it did.
bool wait_exit(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

std::vector<fs::path> suricata_event_rules(const Suricata& s) {
  std::vector<fs::path> out;
  for (const char* dir : {"etc/suricata/rules", "usr/share/suricata/rules"})
    for (const char* f : {"decoder-events.rules", "stream-events.rules"})
      if (fs::exists(s.root / dir / f)) out.push_back(s.root / dir / f);
  return out;
}

util::Result<SensorStats> sensor_stats(const fs::path& eve) {
  std::ifstream in(eve);
  if (!in) return util::fail("cannot read {}", eve.string());
  SensorStats st;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    const std::string type = j.value("event_type", "");
    if (type == "alert") ++st.alerts;
    if (type == "stats" && j["stats"].contains("capture")) {
      const auto& c = j["stats"]["capture"];
      st.packets = c.value("kernel_packets", uint64_t{0});
      st.kernel_drops = c.value("kernel_drops", uint64_t{0});
      st.ifdrops = c.value("kernel_ifdrops", uint64_t{0});
    }
  }
  return st;
}

nlohmann::json sensor_manifest(const Suricata& s, const std::string& device, const fs::path& dir,
                               const std::vector<std::string>& rule_files, const SensorStats& st) {
  nlohmann::json rules = nlohmann::json::array();
  for (const auto& f : rule_files) {
    auto h = util::sha256_file(dir / f);
    rules.push_back({{"file", "ids/" + f}, {"sha256", h ? *h : ""}});
  }
  return {{"suricata_version", s.version},
          {"image", {{"name", kSensorImage}, {"key", s.image_key}}},
          {"mode", "IDS, libpcap live on the router's scan-side host device"},
          {"device", device},
          {"eve", "ids/eve.json"},
          {"rule_files", rules},
          {"packets", st.packets},
          {"kernel_drops", st.kernel_drops},
          {"kernel_ifdrops", st.ifdrops},
          {"alerts", st.alerts}};
}

std::optional<uint64_t> manifest_sensor_drops(const nlohmann::json& i) {
  if (!i.is_object()) return std::nullopt;
  return i.value("kernel_drops", uint64_t{0}) + i.value("kernel_ifdrops", uint64_t{0});
}

util::Result<std::unique_ptr<LiveSensor>> LiveSensor::start(const Suricata& s,
                                                            const std::string& device,
                                                            const fs::path& dir,
                                                            const std::vector<fs::path>& rules) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return util::fail("cannot create {}: {}", dir.string(), ec.message());
  std::unique_ptr<LiveSensor> ls(new LiveSensor());
  ls->dir_ = dir;
  ls->device_ = device;
  ls->suricata_ = s;
  std::vector<fs::path> all = rules;
  for (const auto& r : suricata_event_rules(s)) all.push_back(r);
  // Copies: the run directory keeps exactly the rules the sensor ran with.
  for (const auto& r : all) {
    const std::string name = r.filename().string();
    fs::copy_file(r, dir / name, fs::copy_options::overwrite_existing, ec);
    if (ec) return util::fail("cannot copy rules {}: {}", r.string(), ec.message());
    ls->rule_files_.push_back(name);
  }
  if (auto st = util::write_file_atomic(dir / "suricata.yaml", suricata_config(s, dir, ls->rule_files_)); !st)
    return st.error();
  std::vector<std::string> argv = s.argv0;
  for (const std::string& a : {std::string("-c"), (dir / "suricata.yaml").string(),
                               std::string("--pcap=") + device, std::string("-k"),
                               std::string("none"), std::string("-l"), dir.string()})
    argv.push_back(a);
  const fs::path log = dir / "suricata.log";
  pid_t pid = fork();
  if (pid < 0) return util::fail("fork: {}", std::strerror(errno));
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    setpgid(0, 0);  // a terminal's Ctrl-C reaches testbed, which stops the sensor
    std::vector<char*> av;
    for (auto& a : argv) av.push_back(a.data());
    av.push_back(nullptr);
    execv(av[0], av.data());
    _exit(127);
  }
  ls->pid_ = pid;
  // Ready when Suricata says its engine started (the packet threads are capturing).
  for (int i = 0; i < 600; ++i) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ls->pid_ = -1;
      return util::fail("the IDS sensor (Suricata {}) exited on {} before it started:{}",
                        s.version, device, log_tail(log));
    }
    auto text = util::read_file(log);
    if (text && text->find("Engine started") != std::string::npos) {
      util::log_info("IDS sensor: Suricata {} listening on {} (pid {})", s.version, device, pid);
      return ls;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return util::fail("the IDS sensor (Suricata {}) did not start on {} within a minute:{}",
                    s.version, device, log_tail(log));  // the destructor stops it
}

LiveSensor::~LiveSensor() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    wait_exit(pid_, 10);
  }
}

util::Result<nlohmann::json> LiveSensor::stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    if (!wait_exit(pid_, 30)) {
      kill(pid_, SIGKILL);
      wait_exit(pid_, 10);
    }
    pid_ = -1;
  }
  auto st = sensor_stats(dir_ / "eve.json");
  if (!st) return util::fail("IDS sensor on {}: {}:{}", device_, st.error().message,
                             log_tail(dir_ / "suricata.log"));
  // Suricata's own final count at shutdown (the last EVE stats record is up to a second old):
  // "device: DEV: packets: N, drops: D (x%), invalid chksum: C".
  if (auto log = util::read_file(dir_ / "suricata.log")) {
    static const std::regex kFinal(R"(device: \S+: packets: ([0-9]+), drops: ([0-9]+))");
    std::smatch m;
    if (std::regex_search(*log, m, kFinal)) {
      st->packets = std::stoull(m[1]);
      st->kernel_drops = std::max<uint64_t>(st->kernel_drops, std::stoull(m[2]));
    }
  }
  return sensor_manifest(suricata_, device_, dir_, rule_files_, *st);
}

}  // namespace testbed::ids
