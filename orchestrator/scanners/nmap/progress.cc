#include "orchestrator/scanners/nmap/progress.h"

#include <algorithm>

namespace testbed::scanners::nmap {
using analysis::Phase;
using analysis::PhaseInterval;
using analysis::PhaseTimeline;

namespace {
bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// "SYN Stealth Scan at 22:21" -> "SYN Stealth Scan"; also strips ", 0.01s elapsed …".
std::string_view task_name(std::string_view rest) {
  size_t at = rest.rfind(" at ");
  // The time follows " at "; the task itself may contain " at " only in theory.
  if (at != std::string_view::npos) rest = rest.substr(0, at);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '.')) rest.remove_suffix(1);
  return rest;
}
}  // namespace

Phase ConsoleTracker::phase_of_task(std::string_view t) {
  if (contains(t, "Ping Scan") || starts_with(t, "Parallel DNS resolution") ||
      starts_with(t, "System DNS resolution") || contains(t, "Ping"))
    return Phase::kDiscovery;
  if (starts_with(t, "Service scan")) return Phase::kService;
  if (starts_with(t, "OS detection")) return Phase::kOs;
  if (starts_with(t, "Traceroute")) return Phase::kTraceroute;
  if (starts_with(t, "NSE")) return Phase::kScript;
  if (contains(t, "Scan")) return Phase::kPortScan;  // SYN Stealth, Connect, UDP, FIN, ACK, Idle…
  return Phase::kOther;
}

void ConsoleTracker::open(double ts, Phase p, std::string label) {
  close(ts);
  open_ = PhaseInterval{p, ts, ts, std::move(label)};
}

void ConsoleTracker::close(double ts) {
  if (!open_) return;
  open_->end = ts;
  done_.push_back(std::move(*open_));
  open_.reset();
}

void ConsoleTracker::on_line(double ts, std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (!any_) first_ts_ = ts;
  any_ = true;
  last_ts_ = std::max(last_ts_, ts);
  if (starts_with(line, "Initiating ")) {
    std::string_view task = task_name(line.substr(11));
    open(ts, phase_of_task(task), std::string(task));
    announced_ = true;
  } else if (starts_with(line, "Completed ")) {
    // "Completed SYN Stealth Scan against 172.24.1.11 in 40.60s (2 hosts left)": one host
    // is done, the task goes on (Nmap 7.01/7.60 print these when hosts finish at
    // different times); only the task's own "Completed … elapsed" line ends it.
    if (contains(line, " against ") && (contains(line, " hosts left)") || contains(line, " host left)")))
      return;
    close(ts);
    announced_ = true;
  } else if (starts_with(line, "Retrying OS detection")) {
    if (!open_ || open_->phase != Phase::kOs) open(ts, Phase::kOs, "OS detection (retry)");
    announced_ = true;
  } else if (starts_with(line, "NSE: Script scanning")) {
    open(ts, Phase::kScript, "Script scanning");
    announced_ = true;
  }
}

PhaseTimeline ConsoleTracker::timeline() const {
  PhaseTimeline tl;
  tl.source = "nmap -v log";
  tl.start = first_ts_;
  tl.end = last_ts_;
  tl.intervals = done_;
  if (open_) {
    PhaseInterval iv = *open_;
    iv.end = std::max(iv.start, last_ts_);
    tl.intervals.push_back(std::move(iv));
  }
  return tl;
}

std::string ConsoleTracker::current_phase() const {
  if (!announced_) return "";
  return open_ ? analysis::phase_name(open_->phase) : "other";
}

std::unique_ptr<analysis::ConsoleTracker> make_tracker() {
  return std::make_unique<ConsoleTracker>();
}

}  // namespace testbed::scanners::nmap
