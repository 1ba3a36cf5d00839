#include "orchestrator/nightly/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace testbed::nightly {
namespace fs = std::filesystem;
using util::fail;

std::vector<std::string> NightlyJob::argv() const {
  std::vector<std::string> a = {testbed.string(),
          "--timestamps",
          "run",
          experiment.string(),
          "--output",
          output.string(),
          "--baseline",
          "latest-good",
          "--keep-results",
          std::to_string(keep_results),
          "--junit",
          junit().string()};
  if (!metrics_dir.empty()) {
    a.push_back("--metrics");
    a.push_back(metrics_file().string());
  }
  return a;
}

util::Status parse_time_of_day(const std::string& at, NightlyJob& job) {
  auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 2 &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit((unsigned char)c); });
  };
  auto colon = at.find(':');
  if (colon != std::string::npos && digits(std::string_view(at).substr(0, colon)) &&
      digits(std::string_view(at).substr(colon + 1)) && at.size() - colon - 1 == 2) {
    int h = std::stoi(at.substr(0, colon)), m = std::stoi(at.substr(colon + 1));
    if (h < 24 && m < 60) {
      job.hour = h;
      job.minute = m;
      return {};
    }
  }
  return fail("--at '{}': give a local time of day as HH:MM (00:00 to 23:59), e.g. --at 02:30",
              at);
}

util::Status check_job(const NightlyJob& job) {
  for (const fs::path* p : {&job.testbed, &job.experiment, &job.output, &job.workdir,
                            &job.metrics_dir}) {
    if (p == &job.metrics_dir && p->empty()) continue;  // optional
    const std::string s = p->string();
    if (!p->is_absolute()) return fail("'{}' is not an absolute path", s);
    for (char c : s)
      if (c == '%' || c == '$' || c == '\'' || c == '"' || c == '\\' || c == '`' ||
          static_cast<unsigned char>(c) < 0x20)
        return fail(
            "'{}': the character '{}' would be read differently by systemd or cron; use a path "
            "without it",
            s,
            static_cast<unsigned char>(c) < 0x20
                ? fmt::format("\\x{:02x}", static_cast<int>(c))
                : std::string(1, c));
  }
  return {};
}

std::string unit_base(const std::string& name) { return "testbed-nightly-" + name; }

std::string cron_file_name(const std::string& name) {
  std::string n = unit_base(name);
  std::replace(n.begin(), n.end(), '.', '_');
  return n;
}

namespace {

/// One word for both systemd's ExecStart= and /bin/sh: check_job left no character either
/// reads specially except the space, which single quotes keep in one word for both.
std::string word(const std::string& s) {
  return s.find(' ') == std::string::npos && !s.empty() ? s : "'" + s + "'";
}

std::string words(const std::vector<std::string>& argv) {
  std::string o;
  for (const auto& a : argv) o += (o.empty() ? "" : " ") + word(a);
  return o;
}

std::string header(const NightlyJob& job) {
  return fmt::format(
      "# The nightly run of experiment {} ({}), written by `testbed nightly install`;\n"
      "# `testbed nightly remove {}` removes it. Results: latest, latest-good, junit.xml there.\n"
      "{}{}\n",
      job.name, job.experiment.string(), job.experiment.string(), kResultsMarker,
      job.results_dir().string());
}

}  // namespace

std::string service_unit(const NightlyJob& job) {
  return header(job) + fmt::format(
                           "[Unit]\n"
                           "Description=testbed nightly run of {}\n"
                           "Wants=libvirtd.service\n"
                           "After=libvirtd.service network.target\n"
                           "\n"
                           "[Service]\n"
                           "Type=oneshot\n"
                           "# WorkingDirectory= takes the rest of the line as it is: no quotes.\n"
                           "WorkingDirectory={}\n"
                           "ExecStart={}\n"
                           "# testbed takes its lab down on SIGTERM (exit 130).\n"
                           "TimeoutStartSec=12h\n"
                           "TimeoutStopSec=5min\n"
                           "Nice=5\n",
                           job.name, job.workdir.string(), words(job.argv()));
}

std::string timer_unit(const NightlyJob& job) {
  return header(job) + fmt::format(
                           "[Unit]\n"
                           "Description=testbed nightly run of {} at {:02}:{:02}\n"
                           "\n"
                           "[Timer]\n"
                           "OnCalendar=*-*-* {:02}:{:02}:00\n"
                           "# A run missed while the host was off starts at the next boot.\n"
                           "Persistent=true\n"
                           "Unit={}.service\n"
                           "\n"
                           "[Install]\n"
                           "WantedBy=timers.target\n",
                           job.name, job.hour, job.minute, job.hour, job.minute,
                           unit_base(job.name));
}

std::string cron_command(const NightlyJob& job) {
  return fmt::format("mkdir -p {} && cd {} && {} >> {} 2>&1", word(job.results_dir().string()),
                     word(job.workdir.string()), words(job.argv()),
                     word(job.cron_log().string()));
}

std::string cron_file(const NightlyJob& job) {
  return header(job) + fmt::format(
                           "SHELL=/bin/sh\n"
                           "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
                           "{} {} * * * root {}\n",
                           job.minute, job.hour, cron_command(job));
}

}  // namespace testbed::nightly
