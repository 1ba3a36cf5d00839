#pragma once
// Scheduled runs: the systemd service + timer and the cron.d file that run
// `testbed run EXPERIMENT --baseline latest-good --keep-results N --junit … [--metrics …]` once a day
// (`testbed nightly install|remove|status`). Generation only; the CLI writes the files.
// Every path is absolute, so the job runs the same from systemd, cron or a shell.
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/util/result.h"

namespace testbed::nightly {

struct NightlyJob {
  std::string name;                  ///< the experiment's name
  std::filesystem::path testbed;     ///< the testbed binary
  std::filesystem::path experiment;  ///< the experiment file
  std::filesystem::path output;      ///< results root (results go to output/name/<time>)
  std::filesystem::path workdir;     ///< where the job runs (image recipes are found from it)
  int hour = 2, minute = 30;         ///< local time of day
  size_t keep_results = 14;
  /// --metrics-dir: node_exporter's textfile directory; empty: no metrics.
  std::filesystem::path metrics_dir;

  std::filesystem::path results_dir() const { return output / name; }
  std::filesystem::path junit() const { return results_dir() / "junit.xml"; }
  std::filesystem::path cron_log() const { return results_dir() / "nightly.log"; }
  /// metrics_dir/testbed-<name>.prom (the textfile collector reads *.prom).
  std::filesystem::path metrics_file() const { return metrics_dir / ("testbed-" + name + ".prom"); }
  /// testbed's argument vector, the binary first.
  std::vector<std::string> argv() const;
};

/// "HH:MM" (00:00–23:59) into job.hour/minute; a clear error otherwise.
util::Status parse_time_of_day(const std::string& at, NightlyJob& job);

/// Refuses paths that a unit file or crontab would read differently than written
/// (%, $, quotes, backslash, control characters); spaces are fine (quoted).
util::Status check_job(const NightlyJob& job);

/// "testbed-nightly-<name>": the units' base name.
std::string unit_base(const std::string& name);
/// The cron.d file name: unit_base with '.' as '_' (cron ignores files with dots).
std::string cron_file_name(const std::string& name);

std::string service_unit(const NightlyJob& job);
std::string timer_unit(const NightlyJob& job);
/// An /etc/cron.d file (with the user field): PATH, then one line that appends the run's
/// output to cron_log().
std::string cron_file(const NightlyJob& job);
/// The command part of cron_file's line (what cron hands to /bin/sh).
std::string cron_command(const NightlyJob& job);

/// The marker line every generated file carries: "# testbed-results: <results_dir>".
inline constexpr const char* kResultsMarker = "# testbed-results: ";

}  // namespace testbed::nightly
