#include "orchestrator/scanners/getopt.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "orchestrator/config/yaml_reader.h"

namespace testbed::scanners {
namespace {

bool in_short_string(const Grammar& g, char c) {
  return c != ':' && g.short_string.find(c) != std::string_view::npos;
}

// "did you mean" over every spelling the scanner accepts: --long names and -x short letters.
std::string suggestion(const Grammar& g, const std::string& written) {
  std::vector<std::string> names;
  for (const auto& o : g.long_options) names.push_back("--" + std::string(o.name));
  for (char c : g.short_string)
    if (c != ':') names.push_back(std::string("-") + c);
  std::string w = written;
  if (w.rfind("--", 0) != 0 && w.size() > 2) w = "-" + w;  // -dnsservers -> --dnsservers
  if (auto eq = w.find('='); eq != std::string::npos) w.resize(eq);
  std::string n = config::nearest(w, names);
  return n.empty() ? "" : fmt::format("; did you mean '{}'?", n);
}

// "an Nmap", "a ZMap", "a masscan"
std::string article(std::string_view tool) {
  return fmt::format("{} {}", tool == "Nmap" ? "an" : "a", tool);
}

}  // namespace

std::string display(const Option& o, bool is_long) {
  return fmt::format("{}{}", is_long ? "--" : "-", o.name);
}

Parsed parse(const Grammar& g, const std::vector<std::string>& argv) {
  Parsed out;
  const size_t n = argv.size();
  auto operand = [&](size_t i) {
    Item it;
    it.operand = true;
    it.spelling = argv[i];
    it.index = it.value_index = i;
    out.items.push_back(std::move(it));
  };
  auto error = [&](size_t i, std::string msg) { out.errors.push_back({i, std::move(msg)}); };

  for (size_t i = 1; i < n; ++i) {
    const std::string& a = argv[i];
    if (a == "--") {  // the end of the options: everything after it is a target
      for (size_t k = i + 1; k < n; ++k) operand(k);
      break;
    }
    if (a.size() < 2 || a[0] != '-') {  // "-" alone too
      operand(i);
      continue;
    }
    const bool dashdash = a[1] == '-';
    // getopt_long_only tries a long option first unless the argument is one letter
    // that is a short option; getopt_long only after "--".
    if (dashdash || (g.long_only && (a.size() > 2 || !in_short_string(g, a[1])))) {
      std::string body = a.substr(dashdash ? 2 : 1);
      size_t eq = body.find('=');
      std::string name = body.substr(0, eq);
      const Option* exact = nullptr;
      std::vector<const Option*> prefixed;
      for (const auto& o : g.long_options) {
        if (o.name == name) {
          exact = &o;
          break;
        }
        if (o.name.substr(0, name.size()) == name) prefixed.push_back(&o);
      }
      if (!exact && prefixed.size() > 1) {
        std::vector<std::string> c;
        for (const auto* o : prefixed) c.push_back("--" + std::string(o->name));
        error(i, fmt::format("'{}' is ambiguous to {}: it abbreviates {}; write the option "
                             "out in full",
                             a, g.tool, fmt::join(c, ", ")));
        continue;
      }
      const Option* found = exact ? exact : prefixed.empty() ? nullptr : prefixed[0];
      if (found) {
        Item it;
        it.option = found;
        it.is_long = true;
        it.spelling = a.substr(0, (dashdash ? 2 : 1) + name.size());
        it.index = it.value_index = i;
        if (eq != std::string::npos) {
          if (found->arg == Arg::kNone) {
            error(i, fmt::format("'{}': {} takes no value", a, display(*found, true)));
            continue;
          }
          it.value = body.substr(eq + 1);
        } else if (found->arg == Arg::kRequired) {
          if (i + 1 >= n) {
            error(i, fmt::format("'{}': {} needs a value", a, display(*found, true)));
            continue;
          }
          it.value = argv[++i];  // taken whatever it looks like, as getopt does
          it.value_index = i;
        }
        out.items.push_back(std::move(it));
        continue;
      }
      if (dashdash || !in_short_string(g, a[1])) {
        error(i, fmt::format("'{}' is not {} option{}", a, article(g.tool), suggestion(g, a)));
        continue;
      }
      // Not a long option but it starts with a short one: read as short options.
    }
    for (size_t j = 1; j < a.size(); ++j) {
      const Option* o = in_short_string(g, a[j]) ? g.short_option(a[j]) : nullptr;
      if (!o) {
        error(i, fmt::format("'{}': '-{}' is not {} option{}", a, a[j], article(g.tool),
                             suggestion(g, std::string("-") + a[j])));
        break;
      }
      Item it;
      it.option = o;
      it.spelling = std::string("-") + a[j];
      it.index = it.value_index = i;
      if (o->arg == Arg::kNone) {
        out.items.push_back(std::move(it));
        continue;
      }
      if (j + 1 < a.size()) {
        it.value = a.substr(j + 1);
      } else if (o->arg == Arg::kRequired) {
        if (i + 1 >= n) {
          error(i, fmt::format("'{}': -{} needs a value", a, a[j]));
          break;
        }
        it.value = argv[++i];
        it.value_index = i;
      }
      out.items.push_back(std::move(it));
      break;  // a value (or an optional one's absence) ends the bundle
    }
  }
  return out;
}

}  // namespace testbed::scanners
