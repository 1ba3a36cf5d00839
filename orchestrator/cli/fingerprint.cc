// `testbed fingerprint RESULTS_DIR… -o MODEL [--evaluate [--other-lab DIR…]] [--json]` —
// learn which traits tell scanner kinds and versions apart (orchestrator/identify/), and
// measure how well identify does on those runs.
#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/chrono.h>

#include "orchestrator/cli/commands.h"
#include "orchestrator/identify/changelog.h"
#include "orchestrator/identify/corpus.h"
#include "orchestrator/identify/evaluate.h"
#include "orchestrator/util/log.h"
#include "orchestrator/util/version.h"

namespace testbed::cli {
namespace {

struct FingerprintArgs {
  std::vector<std::string> dirs, other_lab;
  std::string output;
  std::string changelog;
  bool evaluate = false, json = false;
};

util::Result<identify::Corpus> load(const std::vector<std::string>& dirs) {
  std::vector<std::filesystem::path> paths(dirs.begin(), dirs.end());
  auto c = identify::load_corpus(paths);
  if (c)
    for (auto& s : c->skipped) util::log_warn("skipped (not complete): {}", s);
  return c;
}

int run_fingerprint(const FingerprintArgs& a) {
  if (a.output.empty() && !a.evaluate && a.changelog.empty()) {
    util::log_error("name the model file to write (-o MODEL), or --evaluate, or --changelog KIND");
    return kExitBadInput;
  }
  auto corpus = load(a.dirs);
  if (!corpus) {
    util::log_error("{}", corpus.error().message);
    return kExitBadInput;
  }
  if (!a.output.empty()) {
    std::vector<const identify::LabelledRun*> runs;
    for (auto& r : corpus->runs) runs.push_back(&r);
    identify::Model m = identify::train(runs);
    m.provenance = corpus->provenance;
    m.provenance.created = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
    m.provenance.testbed_version = kVersion;
    if (auto st = identify::save_model(m, a.output); !st) {
      util::log_error("{}", st.error().message);
      return kExitFailure;
    }
    size_t traits = m.kinds.keys.size();
    for (auto& [k, c] : m.versions) traits += c.keys.size();
    util::log_info("wrote {}: {} runs, {} scanner kind(s), {} traits", a.output, runs.size(), m.kinds.labels.size(), traits);
    for (auto& [k, c] : m.versions)
      for (auto& g : c.groups) util::log_info("{}: {} cannot be told apart: {}", k, fmt::join(g.labels, ", "), g.why);
  }
  if (!a.changelog.empty()) std::cout << identify::changelog_markdown(corpus->runs, a.changelog);
  if (a.evaluate) {
    std::vector<identify::LabelledRun> other;
    if (!a.other_lab.empty()) {
      auto o = load(a.other_lab);
      if (!o) {
        util::log_error("{}", o.error().message);
        return kExitBadInput;
      }
      other = std::move(o->runs);
    }
    auto e = identify::evaluate(corpus->runs, other);
    if (a.json) std::cout << e.dump(2) << '\n';
    else std::cout << identify::evaluation_markdown(e);
  }
  return kExitOk;
}

}  // namespace

void add_fingerprint_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<FingerprintArgs>();
  auto* sub = app.add_subcommand(
      "fingerprint",
      "Learn, from the complete runs of results directories, the traits that tell scanner kinds "
      "and versions apart (probe shapes, port sets, TTL/IP ID behaviour, payload structure; "
      "never addresses), and write the model `testbed identify` uses.");
  sub->footer(
      "Runs are labelled by their scanner kind (manifest) and plan label (the version); runs of\n"
      "one label in several directories are merged. Versions no trait separates become a group.\n"
      "--evaluate prints leave-one-run-out and leave-one-version-out accuracy, a SYN-fingerprint\n"
      "baseline and, with --other-lab, the accuracy on runs from another lab. --changelog KIND\n"
      "prints, per release against the one before, the traits that appeared or went (Markdown).\n"
      "Exit codes: 0 done, 1 the model could not be written, 2 bad input (not a results\n"
      "directory, no complete run, an unreadable capture).\n"
      "Example: testbed fingerprint results/nmap-atlas/2026* -o atlas-model.json --evaluate");
  sub->add_option("dirs", args->dirs, "Results directories (results/<experiment>/<UTC time>)")
      ->required()->check(CLI::ExistingDirectory);
  sub->add_option("-o,--output", args->output, "Model file to write (JSON, format testbed-identify-model)");
  sub->add_flag("--evaluate", args->evaluate, "Measure identify on these runs (leave-one-out) and print it");
  sub->add_option("--other-lab", args->other_lab, "With --evaluate: results directories of another lab to test on")
      ->check(CLI::ExistingDirectory);
  sub->add_option("--changelog", args->changelog,
                  "Print the traffic changelog of a kind (e.g. nmap): each release against the one before");
  sub->add_flag("--json", args->json, "With --evaluate: print the measurements as JSON");
  sub->callback([args, &ctx] { ctx.exit_code = run_fingerprint(*args); });
}

}  // namespace testbed::cli
