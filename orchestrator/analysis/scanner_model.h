#pragma once
// What the analysis needs from one scanner kind, as an interface: how its console output
// becomes a phase timeline (and live progress), how its result file is summarised, and
// how its packets are attributed to phases by their shape when no timeline exists. Each
// kind implements it in its own folder (orchestrator/scanners/<kind>/, registered in
// scanners/registry.cc); the analysis itself names no scanner.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/analysis/decode.h"
#include "orchestrator/analysis/phases.h"
#include "orchestrator/util/result.h"

namespace testbed::analysis {

/// What a scanner's result file says about its run (Nmap's -oX, masscan's -oX/-oJ/-oL,
/// ZMap's CSV): the facts reported beside the traffic. Fields a format lacks stay empty.
struct ScanResult {
  std::string version;      ///< the scanner's version, when the file records it
  std::string args;         ///< the command line the scanner recorded
  double start = 0;         ///< epoch seconds
  double end = 0;           ///< epoch seconds
  double elapsed = 0;       ///< the scanner's own duration, seconds (0 = not recorded)
  bool finished = false;    ///< the file says the scanner ended normally (then `elapsed` is its duration)
  int hosts_up = 0, hosts_down = 0, hosts_total = 0;
  /// Open ports as "ADDR PORT/PROTO[ SERVICE[ PRODUCT VERSION]]", in file order.
  std::vector<std::string> open_ports;
};

/// Turns a scanner's console lines, each stamped with the capture clock when it arrived,
/// into a PhaseTimeline; the runner also shows current_phase() as live progress.
class ConsoleTracker {
 public:
  virtual ~ConsoleTracker() = default;
  /// One console line (a trailing \r or \n is ignored) seen at `epoch_ts`, in arrival order.
  virtual void on_line(double epoch_ts, std::string_view line) = 0;
  /// The intervals so far; an interval still open ends at the last line's time.
  virtual PhaseTimeline timeline() const = 0;
  /// The phase the latest lines announced ("" before the first, "other" between phases).
  virtual std::string current_phase() const = 0;
  /// The scanner process ended at `epoch_ts` (the runner knows; a replayed log does not).
  /// A kind whose last phase lasts until it exits (masscan, ZMap) closes it there.
  virtual void on_exit(double epoch_ts) { (void)epoch_ts; }
  /// The scanner's own output says its work is over and only its exit is missing, past
  /// any wait it announced (masscan 1.3.2's countdown below zero: its receive thread
  /// sleeps until a packet arrives, which a quiet lab may never send). The runner then
  /// wakes it (runner::LabDriver::wake_scanner).
  virtual bool lingering() const { return false; }
};

/// Attributes packets to phases from their shape alone. Stateful: packets in capture order.
class ShapeClassifier {
 public:
  virtual ~ShapeClassifier() = default;
  /// `sent`: the packet comes from the scanner; otherwise it is addressed to it.
  virtual Phase classify(const PacketInfo& p, bool sent) = 0;
};

/// One scanner kind as the analysis sees it.
struct ScannerModel {
  std::string_view kind;           ///< "nmap", "masscan", "zmap"
  std::string_view result_file;    ///< its result file in a run directory, e.g. "nmap.xml"
  std::string_view console_log;    ///< its console log in a run directory, e.g. "nmap.log"
  std::string_view result_source;  ///< duration_source when the result file gives the duration
  std::unique_ptr<ConsoleTracker> (*tracker)();
  std::unique_ptr<ShapeClassifier> (*classifier)();
  util::Result<ScanResult> (*parse_result)(std::string_view text, const std::string& name);
};

/// Reads a console log written as "<epoch seconds> <line>" per line (the runner's format)
/// and replays it through the kind's tracker. `name` stands for the file in messages.
util::Result<PhaseTimeline> parse_console_log(const ScannerModel& kind, std::string_view text,
                                              const std::string& name);
util::Result<PhaseTimeline> read_console_log(const ScannerModel& kind,
                                             const std::filesystem::path& path);
/// The kind's result file, read and summarised.
util::Result<ScanResult> read_result_file(const ScannerModel& kind,
                                          const std::filesystem::path& path);

/// A phase timeline of one interval per phase the console announced, for kinds whose
/// console output is one progress line repeated (masscan, ZMap): `phase` from the first
/// line to the last. Used by those kinds' trackers.
class SinglePhaseTracker : public ConsoleTracker {
 public:
  SinglePhaseTracker(Phase phase, std::string label, std::string source)
      : phase_(phase), label_(std::move(label)), source_(std::move(source)) {}
  void on_line(double epoch_ts, std::string_view line) override;
  PhaseTimeline timeline() const override;
  std::string current_phase() const override;
  void on_exit(double epoch_ts) override;

 protected:
  /// Whether `line` is the scanner's own output that belongs to the phase (default: any
  /// non-empty line).
  virtual bool counts(std::string_view line) const { return !line.empty(); }

 private:
  Phase phase_;
  std::string label_, source_;
  double first_ = 0, last_ = 0, exit_ = 0;
  bool any_ = false;
};

/// Every IP packet in one phase: for kinds that do one thing (masscan's and ZMap's SYN scan).
class SinglePhaseShapes : public ShapeClassifier {
 public:
  explicit SinglePhaseShapes(Phase phase) : phase_(phase) {}
  Phase classify(const PacketInfo& p, bool) override {
    return p.ip_version == 0 ? Phase::kOther : phase_;
  }

 private:
  Phase phase_;
};

}  // namespace testbed::analysis
