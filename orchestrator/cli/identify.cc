// `testbed identify CAPTURE… [--model M] [--scanner IP] [--json]` — which scanner kind and
// version sent a capture, with the evidence (orchestrator/identify/).
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "orchestrator/cli/commands.h"
#include "orchestrator/identify/identify.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

struct IdentifyArgs {
  std::vector<std::string> captures;
  std::string model, scanner;
  bool json = false;
};

int run_identify(const IdentifyArgs& a) {
  auto model = a.model.empty() ? identify::default_model() : identify::load_model(a.model);
  if (!model) {
    util::log_error("{}", model.error().message);
    return kExitBadInput;
  }
  if (model->kinds.labels.empty()) {
    util::log_error("the model knows no scanner (an empty model); make one with `testbed fingerprint`");
    return kExitBadInput;
  }
  std::optional<analysis::IpAddr> scanner;
  if (!a.scanner.empty()) {
    auto ip = analysis::IpAddr::parse(a.scanner);
    if (ip.empty()) {
      util::log_error("--scanner '{}' is not an IPv4 or IPv6 address", a.scanner);
      return kExitBadInput;
    }
    scanner = ip;
  }
  nlohmann::json all = nlohmann::json::array();
  for (auto& cap : a.captures) {
    auto traits = identify::extract_traits(cap, scanner);
    if (!traits) {
      util::log_error("{}", traits.error().message);
      return kExitBadInput;
    }
    auto id = identify::identify(*model, *traits, cap);
    if (a.json) all.push_back(identify::identification_json(id));
    else std::cout << identify::identification_text(id);
  }
  const auto& p = model->provenance;
  const std::string source = a.model.empty() ? "the shipped model" : a.model;
  if (a.json)
    std::cout << nlohmann::json{{"format", "testbed-identify"},
                                {"model", {{"source", source}, {"created", p.created}, {"results_dirs", p.results_dirs},
                                           {"runs", p.runs.size()}, {"runs_testbed_revisions", p.runs_revisions}}},
                                {"captures", all}}
                     .dump(2)
              << '\n';
  else
    std::cout << fmt::format("model: {}, made {} from {} runs of {}\n", source, p.created, p.runs.size(),
                             fmt::join(p.results_dirs, ", "));
  return kExitOk;
}

}  // namespace

void add_identify_command(CLI::App& app, CliContext& ctx) {
  auto args = std::make_shared<IdentifyArgs>();
  auto* sub = app.add_subcommand(
      "identify",
      "Name the scanner kind and version (or the set of versions the capture cannot rule out) "
      "that sent a capture, with a score and the evidence: traits matched, ruled out, missing.");
  sub->footer(
      "The answer is every version consistent with the traits present; 'unknown' when nothing\n"
      "fits. Without --model the shipped model is used (its provenance: `--json`, README\n"
      "\"Which scanner, which version?\").\n"
      "Exit codes: 0 answered (unknown included), 2 bad input (not a capture, no scanner found,\n"
      "a model that cannot be read or is of a newer schema).\n"
      "Example: testbed identify capture.pcap --scanner 172.24.0.10");
  sub->add_option("captures", args->captures, "Capture files (pcap or pcapng)")->required();
  sub->add_option("--model", args->model, "Model file from `testbed fingerprint` (default: the shipped one)");
  sub->add_option("--scanner", args->scanner, "The scanner's address (default: detected)");
  sub->add_flag("--json", args->json, "Print JSON (format testbed-identify)");
  sub->callback([args, &ctx] { ctx.exit_code = run_identify(*args); });
}

}  // namespace testbed::cli
