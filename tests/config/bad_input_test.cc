// Bad input in every YAML file kind (experiment, topology, image recipe): syntax errors,
// wrong types, unknown keys, invalid or overlapping CIDR blocks, duplicate names. Each
// case pins the exact "file:line:col: message" a user sees, including what to do.
// (More cases per kind: experiment_test.cc, tests/virt/topology_test.cc,
// tests/images/recipe_test.cc; these are the ones every kind must handle.)
#include <gtest/gtest.h>

#include "orchestrator/config/experiment.h"
#include "orchestrator/config/recipe.h"
#include "orchestrator/config/topology.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::config {
namespace {
namespace fs = std::filesystem;

constexpr const char* kTopology = R"(name: lab
networks:
  - {name: mgmt, role: mgmt, cidr: 10.250.0.0/24, host_address: 10.250.0.1}
  - {name: scan, role: scan, cidr: 172.24.0.0/24}
  - {name: targets, role: targets, cidr: 172.24.1.0/24}
nodes:
  - name: router
    role: router
    image: router
    interfaces:
      - {network: mgmt, address: 10.250.0.2}
      - {network: scan, address: 172.24.0.1}
      - {network: targets, address: 172.24.1.1}
  - name: scanner
    role: scanner
    image: scanner-nmap-7.80
    interfaces:
      - {network: mgmt, address: 10.250.0.3}
      - {network: scan, address: 172.24.0.10}
  - name: target
    role: target
    image: target-lamp-ftp
    interfaces:
      - {network: mgmt, address: 10.250.0.10}
      - {network: targets, address: 172.24.1.10}
)";

constexpr const char* kExperiment = R"(name: study
topology: topo.yaml
scanners:
  - {label: "7.80", image: scanner-nmap-7.80}
  - {label: "7.95", image: scanner-nmap-7.95}
command: [nmap, -T4, -A, -v, -oX, "{xml}", "{targets}"]
targets: [172.24.1.0/24]
repetitions: 2
)";

constexpr const char* kRecipe = R"(name: scan
role: scanner
backends: [lxc]
base:
  suite: bookworm
packages: [nmap]
services:
  - {name: web, start: run-web}
health:
  - {name: up, command: "true"}
)";

// `text` with the first `from` replaced by `to`.
std::string edit(std::string text, const std::string& from, const std::string& to) {
  size_t p = text.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  if (p != std::string::npos) text.replace(p, from.size(), to);
  return text;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = util::TempDir::create("bad-input-test");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<util::TempDir>(std::move(*d));
    ASSERT_TRUE(util::write_file_atomic(dir_->path() / "topo.yaml", kTopology).ok());
  }
  // The loader's message for `text` as a file of that kind ("" when it loads).
  std::string experiment(const std::string& text) {
    file_ = (dir_->path() / "exp.yaml").string();
    EXPECT_TRUE(util::write_file_atomic(file_, text).ok());
    auto e = load_experiment(file_);
    return e.ok() ? "" : e.error().message;
  }
  std::string topology(const std::string& text) {
    file_ = (dir_->path() / "lab.yaml").string();
    EXPECT_TRUE(util::write_file_atomic(file_, text).ok());
    auto t = load_topology(file_);
    return t.ok() ? "" : t.error().message;
  }
  std::string recipe(const std::string& text) {
    file_ = (dir_->path() / "scan.yaml").string();
    EXPECT_TRUE(util::write_file_atomic(file_, text).ok());
    auto r = load_recipe(file_);
    return r.ok() ? "" : r.error().message;
  }
  // Asserts `msg` has the line "<file>:<where>: <says>..." (says is a prefix of the rest).
  void expect_line(const std::string& msg, const std::string& where, const std::string& says) {
    std::string want = file_ + ":" + where + ": " + says;
    EXPECT_NE(msg.find(want), std::string::npos) << "want: " << want << "\ngot:  " << msg;
  }
  std::unique_ptr<util::TempDir> dir_;
  std::string file_;
};

TEST_F(BadInputTest, GoodFilesLoad) {
  EXPECT_EQ(experiment(kExperiment), "");
  EXPECT_EQ(topology(kTopology), "");
  EXPECT_EQ(recipe(kRecipe), "");
}

TEST_F(BadInputTest, SyntaxErrors) {
  // Located where the trouble starts (issue 27), not where yaml-cpp gave up (4:3).
  expect_line(experiment(edit(kExperiment, "scanners:\n", "scanners: [\n")), "3:11",
              "YAML syntax error: this '[' is never closed: add ']'");
  // An unclosed flow mapping: yaml-cpp notices at 7:3, the next block entry.
  expect_line(topology(edit(kTopology, "cidr: 172.24.0.0/24}", "cidr: 172.24.0.0/24")), "4:5",
              "YAML syntax error: this '{' is never closed: add '}' (line 5 starts a new '- ' "
              "entry inside it) (the parser stopped at 7:3: illegal block entry)");
  // A tab: yaml-cpp says "illegal map value" at 5:7.
  expect_line(recipe(edit(kRecipe, "  suite: bookworm", "\tsuite: bookworm")), "5:1",
              "YAML syntax error: a tab in the indentation: YAML indents with spaces only");
  // Empty files and files that are not a mapping.
  std::string e = experiment("");
  EXPECT_EQ(e, file_ + ":1:1: the file is empty");
  e = topology("# nothing\n");
  EXPECT_EQ(e, file_ + ":1:1: the file is empty");
  expect_line(topology("- a\n- b\n"), "1:1", "topology must be a mapping of keys to values");
  expect_line(recipe("just text\n"), "1:1", "recipe must be a mapping of keys to values");
}

TEST_F(BadInputTest, WrongTypes) {
  expect_line(experiment(edit(kExperiment, "repetitions: 2", "repetitions: twice")), "8:14",
              "'repetitions' in experiment must be an integer, not 'twice'");
  expect_line(experiment(edit(kExperiment, "command: [", "command: {a: 1}\nx: [")), "6:10",
              "'command' in experiment must be a list of strings");
  expect_line(topology(edit(kTopology, "cidr: 172.24.0.0/24", "cidr: [172.24.0.0/24]")), "4:36",
              "'cidr' in networks[1] must be a string");
  expect_line(topology(edit(kTopology, "    image: target-lamp-ftp\n",
                            "    image: target-lamp-ftp\n    count: many\n")),
              "23:12", "'count' in nodes[2] must be an integer, not 'many'");
  expect_line(recipe(edit(kRecipe, "packages: [nmap]", "packages: {nmap: 1}")), "6:11",
              "'packages' in recipe must be a list of strings");
}

TEST_F(BadInputTest, UnknownKeysSuggestTheNearest) {
  expect_line(experiment(edit(kExperiment, "repetitions:", "repetitons:")), "8:1",
              "unknown key 'repetitons' in experiment (did you mean 'repetitions'?)");
  expect_line(topology(edit(kTopology, "    role: scanner", "    rol: scanner")), "15:5",
              "unknown key 'rol' in nodes[1] (did you mean 'role'?)");
  expect_line(recipe(edit(kRecipe, "backends:", "backend:")), "3:1",
              "unknown key 'backend' in recipe (did you mean 'backends'?)");
  // Nothing near: the known keys are listed instead.
  expect_line(recipe(kRecipe + std::string("colour: blue\n")), "11:1",
              "unknown key 'colour' in recipe (known keys: name, description, role, backends");
}

TEST_F(BadInputTest, InvalidAndOverlappingCidrs) {
  expect_line(topology(edit(kTopology, "cidr: 172.24.0.0/24", "cidr: 172.24.0.0/33")), "4:36",
              "'172.24.0.0/33' is not a network in CIDR form (a.b.c.d/n, host bits zero)");
  expect_line(topology(edit(kTopology, "cidr: 172.24.0.0/24", "cidr: 172.24.0.5/24")), "4:36",
              "'172.24.0.5/24' is not a network in CIDR form (a.b.c.d/n, host bits zero)");
  expect_line(topology(edit(kTopology, "cidr: 172.24.0.0/24", "cidr: 172.24.0.0/30")), "4:36",
              "prefix /30 of '172.24.0.0/30' must be between /8 and /29");
  // One error for a bad CIDR, not one more per address on that network.
  EXPECT_EQ(topology(edit(kTopology, "cidr: 172.24.0.0/24", "cidr: 172.24.0.0/33")).find("\n"),
            std::string::npos);
  expect_line(
      topology(edit(kTopology, "cidr: 172.24.1.0/24", "cidr: 172.24.0.128/25")), "5:5",
      "subnet 172.24.0.128/25 of network 'targets' overlaps 172.24.0.0/24 of network 'scan'");
  expect_line(topology(edit(kTopology, "cidr: 172.24.1.0/24", "cidr: 172.24.0.0/24")), "5:5",
              "subnet 172.24.0.0/24 of network 'targets' overlaps 172.24.0.0/24 of network 'scan'");
  expect_line(experiment(edit(kExperiment, "targets: [172.24.1.0/24]", "targets: [172.24.1.0/40]")),
              "7:10", "target '172.24.1.0/40' is not an IPv4 address or CIDR block");
  expect_line(experiment(kExperiment + std::string("analysis: {scanner_ip: 172.24.0.300}\n")),
              "9:24", "'172.24.0.300' is not an IPv4 address");
}

TEST_F(BadInputTest, DuplicateNames) {
  expect_line(experiment(edit(kExperiment, "label: \"7.95\"", "label: \"7.80\"")), "5:13",
              "label '7.80' is used twice");
  expect_line(
      topology(edit(kTopology, "{name: targets, role: targets", "{name: scan, role: targets")),
      "5:12", "duplicate network name 'scan'");
  expect_line(topology(edit(kTopology, "  - name: target\n", "  - name: scanner\n")), "20:11",
              "duplicate node name 'scanner' (first defined at " + file_ + ":14:5)");
  expect_line(recipe(kRecipe + std::string("  - {name: up, command: \"false\"}\n")), "11:12",
              "check 'up' is listed twice; give each check its own name");
  expect_line(recipe(edit(kRecipe, "  - {name: web, start: run-web}\n",
                          "  - {name: web, start: run-web}\n  - {name: web, start: x}\n")),
              "9:12", "service 'web' is listed twice");
}

// Inputs that threw out of the loaders or crashed them (tests/fuzz/corpus/*/crash-*).
TEST_F(BadInputTest, FuzzerFindsAreErrors) {
  // No `nodes:` at all.
  std::string e = topology("name: lab\nnetworks: []\n");
  expect_line(e, "1:1", "topology needs key 'nodes' (a router, a scanner and the targets)");
  // A topology path longer than the system allows (ENAMETOOLONG from stat).
  e = experiment(edit(kExperiment, "topology: topo.yaml", "topology: " + std::string(5000, 'x')));
  expect_line(e, "2:11", "topology file '" + std::string(5000, 'x') + "' does not exist");
  // A 40,000-character package name and nmap_version (std::regex overflowed the stack).
  e = recipe(edit(kRecipe, "packages: [nmap]", "packages: [" + std::string(40000, 'a') + "]") +
             "expect: {nmap_version: \"7." + std::string(40000, '1') + "\"}\n");
  expect_line(e, "6:11", "'" + std::string(40000, 'a') + "' is not a Debian package name");
  expect_line(e, "11:24", "nmap_version '7.");
  // A mapping key that is itself a list, where names are expected (as<string> threw).
  expect_line(recipe(kRecipe + std::string("expect: {packages: {[a, b]: c}}\n")), "11:21",
              "keys of 'packages' in expect must be names");
}

// `testbed validate` on bad files of each kind: exit code 2 (kExitBadInput) and the
// loader's file:line:col message on stderr; a good file still passes. Needs this build
// tree's testbed binary (built by `make`).
TEST_F(BadInputTest, ValidateCommandExitsTwoWithLocation) {
  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  ASSERT_TRUE(fs::exists(bin)) << bin << " is not built: build the `testbed` target (make)";
  auto validate = [&](const std::string& file) {
    auto r = util::run_process({bin.string(), "validate", file});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : util::ProcessResult{};
  };
  // One error of each kind (the loader writes the file, then validate reads it).
  std::vector<std::pair<std::string, std::string>> cases;  // file, "line:col: message"
  experiment(edit(kExperiment, "repetitions:", "repetitons:"));
  cases.push_back(
      {file_, "8:1: unknown key 'repetitons' in experiment (did you mean 'repetitions'?)"});
  topology(edit(kTopology, "cidr: 172.24.1.0/24", "cidr: 172.24.0.128/25"));
  cases.push_back({file_, "5:5: subnet 172.24.0.128/25 of network 'targets' overlaps"});
  recipe(edit(kRecipe, "role: scanner", "role: [scanner]"));
  cases.push_back({file_, "2:7: 'role' in recipe must be a string"});
  for (const auto& [file, says] : cases) {
    auto r = validate(file);
    EXPECT_EQ(r.exit_code, 2) << file << ": " << r.out << r.err;
    // Compiler style, so editors jump to it: "FILE:LINE:COL: error: message" at a line start.
    size_t loc = says.find(": ");
    std::string want = "\n" + file + ":" + says.substr(0, loc) + ": error: " + says.substr(loc + 2);
    EXPECT_NE(("\n" + r.err).find(want), std::string::npos)
        << "want: " << want << "\ngot: " << r.err;
  }
  topology(kTopology);
  auto ok = validate(file_);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

// Issue 27: `command` as one string, at the top level and per scanner, aborted `validate`
// and `run` (YAML::BadSubscript, exit 134); a key given twice was taken silently.
TEST_F(BadInputTest, CommandAsAStringAndDuplicateKeysAreLocatedErrors) {
  std::string e = experiment(edit(kExperiment, "command: [nmap, -T4, -A, -v, -oX, \"{xml}\", \"{targets}\"]",
                                  "command: \"nmap -T4 -A -v -oX {xml} {targets}\""));
  expect_line(e, "6:10",
              "'command' in experiment must be a list of strings, not a single string: write "
              "[nmap, -T4, -A, -v, -oX, \"{xml}\", \"{targets}\"]");
  e = experiment(edit(kExperiment, "image: scanner-nmap-7.95}",
                      "image: scanner-nmap-7.95, command: nmap}"));
  expect_line(e, "5:56",
              "'command' in scanners[1] must be a list of strings, not a single value: write "
              "[nmap]");
  e = experiment(kExperiment + std::string("repetitions: 3\n"));
  expect_line(e, "9:1", "duplicate key 'repetitions': it is also at " + file_ + ":8:1");

  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  ASSERT_TRUE(fs::exists(bin)) << bin << " is not built: build the `testbed` target (make)";
  auto r = util::run_process(
      {bin.string(), "validate",
       std::string(TESTBED_SOURCE_DIR) + "/tests/fuzz/corpus/experiment/found-command-as-string.yaml"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2) << r->err;
  EXPECT_NE(r->err.find("found-command-as-string.yaml:11:1: error: duplicate key 'repetitions'"),
            std::string::npos)
      << r->err;
}

}  // namespace
}  // namespace testbed::config
