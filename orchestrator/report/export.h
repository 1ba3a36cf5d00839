#pragma once
// `testbed export`: the unique packets of one scanner version (Table 2's method, the list the
// report shows with run and frame number) as a capture file of their own, frame for frame
// from the run's capture: same link type, same bytes, original time stamps, capture order;
// optionally with the frames that answer them (analysis/replies.h).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::report {

struct ExportOptions {
  std::string version;  ///< the scanner label, as in plan.json ("7.93")
  /// The version's run to take (its repetition); 0: the run the report uses, its first
  /// complete, readable one. The other versions are always the report's runs.
  int repetition = 0;
  /// Table 2 by fine phase instead of the study's three phases.
  bool fine = false;
  /// One row of the table only ("strobe", or with `fine` "os"); "" every phase.
  std::string phase;
  /// Also the frames that answer them (analysis/replies.h: the targets' SYN-ACKs, RSTs, data,
  /// echo replies, and ICMP errors quoting them), in capture order among them.
  bool replies = false;
  /// Once set, no further run is analysed and nothing is returned.
  const std::atomic<bool>* cancel = nullptr;
};

struct ExportedPackets {
  std::string run;                  ///< the run the frames come from ("7.93/1")
  std::filesystem::path capture;    ///< its capture file
  std::vector<std::string> others;  ///< the runs it was compared with, one per other version
  std::string grouping;             ///< "three-phase" or "fine"
  size_t unique = 0;                ///< unique packets (keys) listed for the version
  std::vector<uint64_t> frames;     ///< their frames in the capture, ascending (1-based)
  size_t replies = 0;               ///< frames that answer them (ExportOptions::replies)
  int link_type = 0;                ///< the capture's DLT
  std::string pcap;                 ///< the new file: a nanosecond pcap of `frames` (+ replies)
};

/// Analyses the complete runs of `results_dir` as the report does, takes the study's columns
/// (one run per version; the asked version's run per `repetition`), and copies the frame of
/// each of the version's unique packets out of its run's capture. Fails, naming what there
/// is, when the directory is not a results directory, the version, repetition or phase names
/// nothing, the version has no complete readable run, or the capture cannot be read again.
util::Result<ExportedPackets> export_unique(const std::filesystem::path& results_dir,
                                            const ExportOptions& opts);

}  // namespace testbed::report
