// `testbed signatures RESULTS_DIR [--out FILE]` — Suricata rules for the packets unique to each
// scanner version, checked by the sensor image's Suricata (orchestrator/ids/signatures.h).
#include "orchestrator/ids/signatures.h"

#include <iostream>
#include <memory>

#include "orchestrator/cli/commands.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

struct SignaturesArgs {
  std::string results_dir;
  std::string out;
};

int run_signatures(const SignaturesArgs& a) {
  auto loaded = report::load_results(a.results_dir);
  if (!loaded) {
    util::log_error("{}", loaded.error().message);
    return kExitBadInput;
  }
  auto suricata = ids::find_suricata();
  if (!suricata) {
    util::log_error("{}", suricata.error().message);
    return kExitEnvironment;
  }
  const auto aopts = loaded->options;
  auto data = report::analyse_results(
      std::move(*loaded), aopts,
      std::make_shared<analysis::PayloadStore>(aopts.payload_max, aopts.payload_budget));
  auto rules = ids::generate_rules(data);
  if (!rules) {
    util::log_error("{}", rules.error().message);
    return kExitBadInput;
  }
  for (const std::string& w : ids::run_support(data, *rules).warnings(rules->size()))
    util::log_warn("{}", w);
  auto work = util::TempDir::create("testbed-signatures");
  if (!work) {
    util::log_error("{}", work.error().message);
    return kExitFailure;
  }
  auto checked = ids::check_generated(*suricata, std::move(*rules), work->path());
  if (!checked) {
    util::log_error("{}", checked.error().message);
    return kExitFailure;
  }
  const std::filesystem::path out =
      a.out.empty() ? std::filesystem::path(a.results_dir) / "signatures.rules"
                    : std::filesystem::path(a.out);
  if (auto st = util::write_file_atomic(out, ids::rules_file(*checked, a.results_dir)); !st) {
    util::log_error("{}", st.error().message);
    return kExitFailure;
  }
  for (const auto& e : checked->rejected)
    util::log_warn("Suricata {} rejected rule {} (not written): {}\n  {}",
                   checked->suricata_version, e.line, e.message, e.rule);
  util::log_info("{} rules written ({} rejected by Suricata {})", checked->accepted.size(),
                 checked->rejected.size(), checked->suricata_version);
  std::cout << out.string() << '\n';
  return checked->rejected.empty() ? kExitOk : kExitFailure;
}

}  // namespace

void add_signatures_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<SignaturesArgs>();
  auto* sub = app.add_subcommand(
      "signatures",
      "Write Suricata rules for the packets unique to each scanner version of a results "
      "directory, each checked by Suricata (suricata -T).");
  sub->footer(
      "A packet gets a rule when every run of its version sent it and no run of another version "
      "sent it or a variant of it (the similarity exclusion); with fewer than 3 runs of a version "
      "that cannot tell a trait from noise, and a warning says so and how many rules rest on "
      "one run only. Rules match protocol, destination, "
      "port, TCP flags, IPv4 length, dsize and the payload bytes that differ from the nearest "
      "other-version packet; msg names version and phase, metadata the run, frame and key.\n"
      "Suricata is the sensor image's (testbed image build sensor-suricata), run from the "
      "image cache.\n"
      "Exit codes: 0 written, 1 Suricata rejected rules (reported, not written), 2 not a "
      "results directory / fewer than two versions, 4 the sensor image is not built.\n"
      "Example: testbed signatures results/nmap7/20261126T214900Z --out nmap7.rules");
  sub->add_option("results_dir", args->results_dir,
                  "Results directory: results/<experiment>/<UTC time>")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--out", args->out, "Rules file (default RESULTS_DIR/signatures.rules)");
  sub->callback([args, &ctx] { ctx.exit_code = run_signatures(*args); });
}

}  // namespace testbed::cli
