// A command line testbed cannot run, said as one "error:" line that names what to do:
// unknown verbs, subcommands and options with the nearest known one suggested (checked
// before CLI11 parses, which would say only "A subcommand is required"), and CLI11's own
// refusals reworded (a missing file, a value out of range, a missing argument).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <regex>
#include <string_view>

#include "orchestrator/cli/commands.h"
#include "orchestrator/config/yaml_reader.h"
#include "orchestrator/util/log.h"

namespace testbed::cli {
namespace {

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; }))
    if (!s->get_name().empty() && !s->get_group().empty()) out.push_back(s->get_name());
  return out;
}

// The option `name` ("--uri", "-v") of `app` or of an app above it (options fall through).
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (; app; app = app->get_parent())
    if (const CLI::Option* o = app->get_option_no_throw(name)) return o;
  return nullptr;
}

std::vector<std::string> long_option_names(const CLI::App* app) {
  std::vector<std::string> out;
  for (; app; app = app->get_parent())
    for (const CLI::Option* o : app->get_options())
      for (const auto& n : o->get_lnames()) out.push_back("--" + n);
  return out;
}

std::string path_of(const CLI::App* app) {
  std::string p;
  for (; app && app->get_parent(); app = app->get_parent())
    p = app->get_name() + (p.empty() ? "" : " " + p);
  return p;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  std::string n = config::nearest(word, known);
  return n.empty() ? "" : fmt::format("did you mean '{}'? ", n);
}

}  // namespace

int check_command_words(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* at = &app;
  bool help = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;  // `lab exec NAME NODE -- CMD`: the rest is not ours
    if (a == "-h" || a == "--help" || a == "--version") help = true;
    if (a.size() > 1 && a[0] == '-') {
      std::string name = a.substr(0, a.find('='));
      const CLI::Option* o = find_option(at, name);
      if (!o && at == &app) {
        util::log_error("unknown option '{}' before the command; {}testbed's own options are "
                        "-v/--verbose, -q/--quiet, --timestamps, --version, --help; a "
                        "command's options go after it (testbed COMMAND --help)",
                        name, did_you_mean(name, long_option_names(&app)));
        return kExitBadInput;
      }
      if (o && o->get_items_expected_max() > 0 && a.find('=') == std::string::npos &&
          !(a.size() > 2 && a[1] != '-'))
        ++i;  // its value
      continue;
    }
    // A word: the next subcommand where one is required, else a positional argument.
    std::vector<std::string> subs = subcommand_names(*at);
    if (subs.empty()) return -1;
    const CLI::App* next = nullptr;
    for (const CLI::App* s : at->get_subcommands([](const CLI::App*) { return true; }))
      if (s->check_name(a)) next = s;
    if (next) {
      at = next;
      continue;
    }
    if (at->get_require_subcommand_min() == 0 && at != &app) return -1;
    std::string what = at == &app ? "command" : fmt::format("{} subcommand", path_of(at));
    util::log_error("unknown {} '{}'; {}the {}s are {} (testbed {}--help)", what, a,
                    did_you_mean(a, subs), what, fmt::join(subs, ", "),
                    at == &app ? "" : path_of(at) + " ");
    return kExitBadInput;
  }
  if (help) return -1;
  if (at == &app) {
    util::log_error("name a command: {} (testbed --help)", fmt::join(subcommand_names(app), ", "));
    return kExitBadInput;
  }
  if (at->get_require_subcommand_min() > 0) {
    util::log_error("testbed {} needs a subcommand: {} (testbed {} --help)", path_of(at),
                    fmt::join(subcommand_names(*at), ", "), path_of(at));
    return kExitBadInput;
  }
  return -1;
}

int report_usage_error(CLI::App& app, const CLI::ParseError& e, const CliContext& ctx) {
  if (e.get_exit_code() == 0) {  // --help, --version
    app.exit(e);
    return kExitOk;
  }
  std::string msg = e.what();
  // CLI11's ExistingFile/ExistingDirectory and baseline_validator: "OPT: File does not
  // exist: PATH[ (what it may be)]".
  static const std::regex missing(R"(^(\S+): (File|Directory) does not exist: (.*?)( \(([^()]*)\))?$)");
  std::smatch m;
  if (std::regex_match(msg, m, missing)) {
    std::string arg = m[1].str();
    msg = fmt::format("{}: no such {} ({}{}{})", m[3].str(),
                      m[2].str() == "File" ? "file" : "directory",
                      arg[0] == '-' ? "" : "argument ", arg,
                      m[5].matched ? ": " + m[5].str() : "");
  } else if (size_t colon = msg.find(": "); msg.rfind("The following argument", 0) == 0 &&
                                            colon != std::string::npos) {
    msg = fmt::format("unexpected argument{}: {}", msg.find(" were ") < colon ? "s" : "",
                      msg.substr(colon + 2));
  }
  // The verb and subcommand named on the command line, for "see its --help".
  std::string path;
  const CLI::App* at = &app;
  for (;;) {
    auto subs = at->get_subcommands();
    if (subs.empty()) break;
    at = subs.front();
    path += at->get_name() + " ";
  }
  util::log_error("{} (testbed {}--help)", msg, path);
  return ctx.usage_error_exit;
}

CLI::Option* add_unique_limit_option(CLI::App& sub, size_t& limit, const std::string& help) {
  return sub
      .add_option("--unique-limit", limit,
                  fmt::format("{} (default {}; 0 lists none; the CSV has all)", help, limit))
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            if (!s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos)
              return {};
            return fmt::format("'{}' is not a count: give a whole number from 0 to 999999999", s);
          },
          "COUNT"));
}

}  // namespace testbed::cli
