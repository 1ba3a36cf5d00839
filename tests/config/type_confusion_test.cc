// Type confusion over every committed declarative file (issue 27, item 1): each node of
// experiments/*.yaml, topology/*.yaml and images/*.yaml is replaced in turn by each shape
// (string, list, map, number, bool, null) and the file goes through its loader in-process.
// The loader must never throw (in `testbed validate`/`run` that was an abort, exit 134;
// config::guard_loader now turns it into an "internal error" line, counted as an abort
// too), and every problem it reports must start with FILE:LINE:COL. Prints the number of inputs
// and of aborts; a failure lists the first few inputs that broke the rule.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "orchestrator/config/experiment.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/util/files.h"

namespace testbed::config {
namespace {
namespace fs = std::filesystem;

using Step = std::variant<std::string, size_t>;  // a map key or a sequence index
using Path = std::vector<Step>;

std::string path_str(const Path& p) {
  std::string s;
  for (const auto& st : p)
    s += std::holds_alternative<std::string>(st) ? "." + std::get<std::string>(st)
                                                 : "[" + std::to_string(std::get<size_t>(st)) + "]";
  return s.empty() ? "(root)" : s;
}

// Every node below `n` (values and sequence items, not keys), `n` itself first.
void collect(const YAML::Node& n, Path& at, std::vector<Path>* out) {
  out->push_back(at);
  if (n.IsMap()) {
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) continue;
      at.push_back(kv.first.Scalar());
      collect(kv.second, at, out);
      at.pop_back();
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      at.push_back(i);
      collect(n[i], at, out);
      at.pop_back();
    }
  }
}

// `root` (a clone) with the node at `p` replaced by `shape`, as YAML text.
std::string replaced(const YAML::Node& original, const Path& p, const YAML::Node& shape) {
  YAML::Node root = YAML::Clone(original);
  if (p.empty()) {
    root = YAML::Clone(shape);
  } else {
    YAML::Node parent = root;
    for (size_t i = 0; i + 1 < p.size(); ++i)
      parent = std::holds_alternative<std::string>(p[i]) ? parent[std::get<std::string>(p[i])]
                                                         : parent[std::get<size_t>(p[i])];
    if (std::holds_alternative<std::string>(p.back()))
      parent[std::get<std::string>(p.back())] = YAML::Clone(shape);
    else
      parent[std::get<size_t>(p.back())] = YAML::Clone(shape);
  }
  YAML::Emitter e;
  e << root;
  return e.c_str();
}

struct Kind {
  const char* dir;
  // The loader's error text ("" when the file is accepted); it may throw.
  std::function<std::string(const std::string& text, const std::string& path)> load;
};

template <typename T>
std::string error_of(const util::Result<T>& r) {
  return r ? "" : r.error().message;
}

TEST(TypeConfusion, EveryNodeOfEveryCommittedFileInEveryShape) {
  const fs::path src = TESTBED_SOURCE_DIR;
  const std::vector<Kind> kinds = {
      {"experiments", [](const std::string& t, const std::string& p) { return error_of(parse_experiment(t, p)); }},
      {"topology", [](const std::string& t, const std::string& p) { return error_of(parse_topology(t, p)); }},
      {"images", [](const std::string& t, const std::string& p) { return error_of(parse_recipe(t, p)); }},
  };
  const std::vector<std::pair<const char*, YAML::Node>> shapes = {
      {"string", YAML::Load("some text")}, {"list", YAML::Load("[a, b]")},
      {"map", YAML::Load("{k: v}")},       {"number", YAML::Load("7")},
      {"bool", YAML::Load("true")},        {"null", YAML::Load("~")},
  };
  const std::regex located(R"(^.+:\d+:\d+: .+)");
  size_t files = 0, inputs = 0, aborts = 0, unlocated = 0;
  std::vector<std::string> failures;
  for (const Kind& k : kinds) {
    for (const auto& entry : fs::directory_iterator(src / k.dir)) {
      if (entry.path().extension() != ".yaml") continue;
      auto text = util::read_file(entry.path());
      ASSERT_TRUE(text.ok()) << entry.path();
      const std::string path = entry.path().string();
      ASSERT_EQ(k.load(*text, path), "") << "the committed file must load: " << path;
      ++files;
      YAML::Node root = YAML::Load(*text);
      std::vector<Path> nodes;
      Path at;
      collect(root, at, &nodes);
      for (const Path& p : nodes) {
        for (const auto& [shape_name, shape] : shapes) {
          std::string mutated = replaced(root, p, shape);
          ++inputs;
          std::string what = fmt::format("{} {} := {}", path, path_str(p), shape_name);
          std::string err;
          try {
            err = k.load(mutated, path);
          } catch (const std::exception& e) {
            ++aborts;
            failures.push_back(what + ": threw " + e.what());
            continue;
          } catch (...) {
            ++aborts;
            failures.push_back(what + ": threw a non-std exception");
            continue;
          }
          if (err.find("internal error") != std::string::npos) {  // guard_loader caught it
            ++aborts;
            failures.push_back(what + ": " + err.substr(0, err.find('\n')));
            continue;
          }
          std::istringstream lines(err);
          for (std::string line; std::getline(lines, line);) {
            if (std::regex_match(line, located)) continue;
            ++unlocated;
            failures.push_back(what + ": unlocated message: " + line);
            break;
          }
        }
      }
    }
  }
  std::cout << "type confusion: " << files << " files, " << inputs << " inputs, " << aborts
            << " aborts, " << unlocated << " messages without FILE:LINE:COL\n";
  EXPECT_GT(files, 20u) << "experiments/, topology/ and images/ hold the committed files";
  EXPECT_EQ(aborts, 0u);
  EXPECT_EQ(unlocated, 0u);
  for (size_t i = 0; i < failures.size() && i < 15; ++i) ADD_FAILURE() << failures[i];
}

}  // namespace
}  // namespace testbed::config
