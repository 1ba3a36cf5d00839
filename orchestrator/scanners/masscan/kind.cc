#include "orchestrator/scanners/masscan/kind.h"

#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <sstream>

#include "orchestrator/scanners/masscan/options.h"
#include "orchestrator/scanners/nmap/result.h"
#include "orchestrator/scanners/raw_guard.h"

namespace testbed::scanners::masscan {
namespace {

const RawGuardRules kRules{"masscan", /*ranges=*/true, "-oL {output} (or -oX {output})",
                           "--adapter {scan_interface} (or -e)",
                           "--router-mac {router_mac}", ""};

// masscan prints a few lines, then one status line rewritten with \r until it exits:
//   Starting masscan 1.3.2 (http://bit.ly/14GZzcT) at 2026-11-29 20:00:00 GMT
//   Initiating SYN Stealth Scan
//   Scanning 1 hosts [3 ports/host]
//   rate:  0.00-kpps, 100.00% done, waiting 9-secs, found=3
// All of it is one phase: SYN probes, and from "waiting" on only the replies and the
// kernel's RSTs to them (masscan itself sends nothing more without --banners).
//
// After its probes masscan counts down its --wait ("waiting 2-secs", ... "waiting 0-secs")
// and should then exit. 1.3.2 exits only once its receive thread returns from libpcap,
// which on Linux blocks until a packet arrives: in a quiet lab the countdown runs on below
// zero ("waiting -23-secs") for good. Two seconds below zero the tracker says the scan
// is lingering, and the runner wakes masscan with one frame nobody else sees.
class Tracker : public analysis::SinglePhaseTracker {
 public:
  Tracker()
      : SinglePhaseTracker(analysis::Phase::kPortScan, "SYN scan", "masscan console") {}

  void on_line(double epoch_ts, std::string_view line) override {
    SinglePhaseTracker::on_line(epoch_ts, line);
    if (auto left = countdown(line)) countdown_ = *left;
  }
  bool lingering() const override { return countdown_ <= -kGraceSeconds; }

  /// The seconds left in the last "waiting N-secs" of `line`, if it has one.
  static std::optional<long> countdown(std::string_view line) {
    static constexpr std::string_view kWaiting = "waiting ";
    size_t at = line.rfind(kWaiting);
    if (at == std::string_view::npos) return std::nullopt;
    std::string rest(line.substr(at + kWaiting.size()));
    char* end = nullptr;
    long v = std::strtol(rest.c_str(), &end, 10);
    if (end == rest.c_str() || std::string_view(end).substr(0, 5) != "-secs") return std::nullopt;
    return v;
  }

 private:
  static constexpr long kGraceSeconds = 2;
  long countdown_ = kGraceSeconds;  ///< nothing lingers before the first countdown

 protected:
  bool counts(std::string_view line) const override {
    return line.find("Initiating") != std::string_view::npos ||
           line.find("Scanning") != std::string_view::npos ||
           line.find("rate:") != std::string_view::npos;
  }
};

util::Result<analysis::ScanResult> parse_list(std::string_view text, const std::string& name) {
  analysis::ScanResult r;
  std::istringstream in{std::string(text)};
  std::string line;
  size_t n = 0;
  double first = 0, last = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;  // "#masscan", "# end"
    // "open tcp 80 172.24.1.10 1700000000"
    std::istringstream f(line);
    std::string state, proto, port, addr;
    double ts = 0;
    if (!(f >> state >> proto >> port >> addr >> ts))
      return util::fail("{}:{}: expected \"<state> <proto> <port> <address> <time>\" (masscan -oL)",
                        name, n);
    if (state == "open") r.open_ports.push_back(fmt::format("{} {}/{}", addr, port, proto));
    first = first == 0 ? ts : std::min(first, ts);
    last = std::max(last, ts);
  }
  r.start = first;
  r.end = last;
  // -oL records no duration (`finished` stays false): the capture span is the duration.
  return r;
}

}  // namespace

std::vector<Refusal> check(const std::vector<std::string>& command, const LabScope& scope) {
  return check_raw(kRules, command, parse(command), scope);
}

std::vector<std::string> targets(const std::vector<std::string>& command) {
  return raw_targets(command, parse(command));
}

util::Result<analysis::ScanResult> parse_result(std::string_view text, const std::string& name) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i != std::string_view::npos && text[i] == '<') {
    // masscan's XML imitates Nmap's (<nmaprun scanner="masscan">, <host>, <runstats>).
    auto r = nmap::parse_xml(text, name);
    if (!r) return r;
    r->finished = false;  // its <finished elapsed> counts only the sending, not the wait
    return r;
  }
  if (text.substr(0, 8) != "#masscan" && !text.empty())
    return util::fail("{}: neither masscan -oX (XML) nor -oL (\"#masscan\" first)", name);
  return parse_list(text, name);
}

const analysis::ScannerModel& model() {
  static const analysis::ScannerModel m{
      "masscan", "masscan.out", "masscan.log", "masscan",
      [] { return std::unique_ptr<analysis::ConsoleTracker>(std::make_unique<Tracker>()); },
      [] {
        // Every packet of the run is its SYN scan's (probes, replies, the kernel's RSTs).
        return std::unique_ptr<analysis::ShapeClassifier>(
            std::make_unique<analysis::SinglePhaseShapes>(analysis::Phase::kPortScan));
      },
      &parse_result};
  return m;
}

}  // namespace testbed::scanners::masscan
