// `testbed nightly install|remove|status EXPERIMENT`: schedule `testbed run` once a day with
// systemd (service + timer) or cron (/etc/cron.d), orchestrator/nightly/schedule.h.
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "orchestrator/cli/commands.h"
#include "orchestrator/config/experiment.h"
#include "orchestrator/nightly/pointers.h"
#include "orchestrator/nightly/schedule.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::cli {
namespace {
namespace fs = std::filesystem;

constexpr const char* kSystemUnitDir = "/etc/systemd/system";

struct NightlyArgs {
  std::string experiment;  ///< file (install) or file/name (remove, status)
  std::string at = "02:30";
  std::string output;
  size_t keep_results = 14;
  std::string via = "auto";
  std::string unit_dir = kSystemUnitDir;
  std::string cron_dir = "/etc/cron.d";
  std::string testbed;
  std::string metrics_dir;
};

bool systemd_running() {
  std::error_code ec;
  return fs::is_directory("/run/systemd/system", ec);
}

/// systemctl is used only for the real unit directory on a host where systemd runs.
bool manage_with_systemctl(const NightlyArgs& a) {
  return systemd_running() && fs::path(a.unit_dir) == kSystemUnitDir;
}

std::string via(const NightlyArgs& a) {
  if (a.via != "auto") return a.via;
  return systemd_running() ? "systemd" : "cron";
}

/// The experiment's name: from the file when it is one, else the argument itself.
util::Result<std::string> job_name(const std::string& experiment) {
  std::error_code ec;
  if (!fs::is_regular_file(experiment, ec)) return experiment;
  auto exp = config::load_experiment(experiment);
  if (!exp) return exp.error();
  return exp->name;
}

int systemctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"systemctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = util::run_process(argv);
  if (!r || r->exit_code != 0) {
    util::log_error("{} failed: {}", util::format_argv(argv), r ? r->err : r.error().message);
    return kExitFailure;
  }
  return kExitOk;
}

int install(const NightlyArgs& a) {
  auto exp = config::load_experiment(a.experiment);
  if (!exp) {
    util::log_error("{}", exp.error().message);
    return kExitBadInput;
  }
  nightly::NightlyJob job;
  job.name = exp->name;
  std::error_code ec;
  job.testbed = a.testbed.empty() ? fs::read_symlink("/proc/self/exe", ec) : fs::absolute(a.testbed);
  job.experiment = fs::absolute(a.experiment).lexically_normal();
  job.output = fs::absolute(a.output.empty() ? exp->output : fs::path(a.output)).lexically_normal();
  job.workdir = fs::current_path();
  job.keep_results = a.keep_results;
  if (!a.metrics_dir.empty()) job.metrics_dir = fs::absolute(a.metrics_dir).lexically_normal();
  if (auto st = nightly::parse_time_of_day(a.at, job); !st) {
    util::log_error("{}", st.error().message);
    return kExitBadInput;
  }
  if (auto st = nightly::check_job(job); !st) {
    util::log_error("{}", st.error().message);
    return kExitBadInput;
  }
  const std::string base = nightly::unit_base(job.name);
  if (via(a) == "cron") {
    fs::path file = fs::path(a.cron_dir) / nightly::cron_file_name(job.name);
    if (auto st = util::write_file_atomic(file, nightly::cron_file(job)); !st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
    std::cout << "installed " << file.string() << ": every day at " << a.at << ", log "
              << job.cron_log().string() << '\n';
    return kExitOk;
  }
  for (const auto& [suffix, text] : {std::pair{".service", nightly::service_unit(job)},
                                     std::pair{".timer", nightly::timer_unit(job)}}) {
    fs::path file = fs::path(a.unit_dir) / (base + suffix);
    if (auto st = util::write_file_atomic(file, text); !st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
    std::cout << "installed " << file.string() << '\n';
  }
  if (!manage_with_systemctl(a)) {
    std::cout << "not enabled (" << (systemd_running() ? "--unit-dir is not " : "systemd is not "
                                                                                "running; ")
              << (systemd_running() ? kSystemUnitDir : "") << "): systemctl enable --now "
              << base << ".timer\n";
    return kExitOk;
  }
  if (int rc = systemctl({"daemon-reload"}); rc != kExitOk) return rc;
  if (int rc = systemctl({"enable", "--now", base + ".timer"}); rc != kExitOk) return rc;
  std::cout << "enabled " << base << ".timer: every day at " << a.at
            << " (journalctl -u " << base << ".service)\n";
  return kExitOk;
}

/// The files a job of `name` may have, in both places.
std::vector<fs::path> job_files(const NightlyArgs& a, const std::string& name) {
  const std::string base = nightly::unit_base(name);
  return {fs::path(a.unit_dir) / (base + ".timer"), fs::path(a.unit_dir) / (base + ".service"),
          fs::path(a.cron_dir) / nightly::cron_file_name(name)};
}

int remove(const NightlyArgs& a) {
  auto name = job_name(a.experiment);
  if (!name) {
    util::log_error("{}", name.error().message);
    return kExitBadInput;
  }
  const std::string base = nightly::unit_base(*name);
  std::error_code ec;
  if (manage_with_systemctl(a) && fs::exists(fs::path(a.unit_dir) / (base + ".timer"), ec))
    if (int rc = systemctl({"disable", "--now", base + ".timer"}); rc != kExitOk) return rc;
  int removed = 0;
  for (const auto& f : job_files(a, *name)) {
    if (!fs::exists(f, ec)) continue;
    if (!fs::remove(f, ec)) {
      util::log_error("cannot remove {}: {}", f.string(), ec.message());
      return kExitFailure;
    }
    std::cout << "removed " << f.string() << '\n';
    ++removed;
  }
  if (removed == 0) {
    util::log_error("no nightly job for {} ({} or {}/{})", *name,
                    (fs::path(a.unit_dir) / (base + ".timer")).string(), a.cron_dir,
                    nightly::cron_file_name(*name));
    return kExitBadInput;
  }
  if (manage_with_systemctl(a)) return systemctl({"daemon-reload"});
  return kExitOk;
}

int status(const NightlyArgs& a) {
  auto name = job_name(a.experiment);
  if (!name) {
    util::log_error("{}", name.error().message);
    return kExitBadInput;
  }
  std::error_code ec;
  fs::path results;
  int found = 0;
  for (const auto& f : job_files(a, *name)) {
    auto text = util::read_file(f);
    if (!text) continue;
    ++found;
    std::cout << "installed: " << f.string() << '\n';
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(nightly::kResultsMarker, 0) == 0)
        results = line.substr(std::string(nightly::kResultsMarker).size());
      else if (line.rfind("OnCalendar=", 0) == 0 || line.rfind("ExecStart=", 0) == 0 ||
               (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))))
        std::cout << "  " << line << '\n';
    }
  }
  if (found == 0) {
    util::log_error("no nightly job for {} (testbed nightly install installs one)", *name);
    return kExitBadInput;
  }
  if (manage_with_systemctl(a)) {
    auto r = util::run_process({"systemctl", "list-timers", "--all", nightly::unit_base(*name) + ".timer"});
    if (r) std::cout << r->out;
  }
  if (!results.empty()) {
    std::cout << "results: " << results.string() << '\n';
    for (const char* p : {nightly::kLatest, nightly::kLatestGood}) {
      auto t = nightly::pointer_target(results, p);
      std::cout << "  " << p << " -> " << (t ? t->filename().string() : "(none yet)") << '\n';
    }
    if (fs::exists(results / "junit.xml", ec)) std::cout << "  verdict: " << (results / "junit.xml").string() << '\n';
  }
  return kExitOk;
}

void add_place_options(CLI::App* sub, NightlyArgs& a) {
  sub->add_option("--unit-dir", a.unit_dir,
                  "Where the systemd units go (default /etc/systemd/system; systemctl is called "
                  "only for that one)");
  sub->add_option("--cron-dir", a.cron_dir, "Where the cron file goes (default /etc/cron.d)");
}

}  // namespace

void add_nightly_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<NightlyArgs>();
  auto* sub = app.add_subcommand(
      "nightly", "Schedule an experiment once a day (systemd timer, or cron without systemd).");
  sub->require_subcommand(1);
  sub->footer(
      "The job runs: testbed --timestamps run EXPERIMENT --output DIR --baseline latest-good\n"
      "  --keep-results N --junit DIR/<experiment>/junit.xml\n"
      "  [--metrics METRICS_DIR/testbed-<experiment>.prom]\n"
      "from the directory `install` ran in (install from the repository root). Its exit code\n"
      "is run's: a drift (3) or a failed run (1) makes the systemd unit fail.\n"
      "Exit codes: 0 done, 1 writing or enabling the job failed, 2 bad input or no such job.\n"
      "Examples: testbed nightly install experiments/nmap7.yaml --at 02:30 --output /srv/results\n"
      "          testbed nightly status nmap7\n"
      "          testbed nightly remove nmap7");
  auto* in = sub->add_subcommand("install", "Write (and on systemd, enable) the nightly job");
  in->add_option("experiment", args->experiment, "Experiment file")
      ->required()
      ->check(CLI::ExistingFile);
  in->add_option("--at", args->at, "Local time of day, HH:MM (default 02:30)");
  in->add_option("-o,--output", args->output,
                 "Results root (default: the experiment's `output`, made absolute)");
  in->add_option("--keep-results", args->keep_results,
                 "Complete results directories kept (run --keep-results; default 14)")
      ->check(CLI::Range(1, 100000));
  in->add_option("--metrics-dir", args->metrics_dir,
                 "Also write Prometheus metrics each night to DIR/testbed-<experiment>.prom "
                 "(node_exporter's --collector.textfile.directory, e.g. "
                 "/var/lib/prometheus/node-exporter)");
  in->add_option("--via", args->via, "systemd, cron, or auto (systemd when it runs; default)")
      ->check(CLI::IsMember({"auto", "systemd", "cron"}));
  in->add_option("--testbed", args->testbed, "The testbed binary the job runs (default: this one)");
  add_place_options(in, *args);
  in->callback([args, &ctx] { ctx.exit_code = install(*args); });

  auto* rm = sub->add_subcommand("remove", "Disable and delete the nightly job");
  rm->add_option("experiment", args->experiment, "Experiment file or name")->required();
  add_place_options(rm, *args);
  rm->callback([args, &ctx] { ctx.exit_code = remove(*args); });

  auto* st = sub->add_subcommand("status", "Show the nightly job and its latest results");
  st->add_option("experiment", args->experiment, "Experiment file or name")->required();
  add_place_options(st, *args);
  st->callback([args, &ctx] { ctx.exit_code = status(*args); });
}

}  // namespace testbed::cli
