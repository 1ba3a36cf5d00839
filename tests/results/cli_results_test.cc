// `testbed results DIR [--json]` on a results directory made of the committed manifests
// (fixtures/, written by `testbed run` before schema_version), a manifest of a newer schema,
// a failed, an interrupted, an incomplete and a missing run: its text and JSON against
// tests/results/golden/ (TESTBED_REGENERATE=1 rewrites them), and its exit codes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "orchestrator/results/layout.h"
#include "orchestrator/results/manifest.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::results {
namespace {
namespace fs = std::filesystem;

fs::path src(const std::string& rel) { return fs::path(TESTBED_SOURCE_DIR) / rel; }

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void expect_golden(const std::string& name, const std::string& actual) {
  fs::path path = src("tests/results/golden") / name;
  const char* regen = std::getenv("TESTBED_REGENERATE");
  if (regen && std::string(regen) == "1") {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(path)) << "missing golden file " << path;
  EXPECT_EQ(read(path), actual) << "golden file " << path
                                << " differs; TESTBED_REGENERATE=1 rewrites it";
}

std::string masked(std::string s, const fs::path& tmp) {
  for (size_t p; (p = s.find(tmp.string())) != std::string::npos;)
    s.replace(p, tmp.string().size(), "<TMP>");
  return s;
}

class CliResults : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(bin_)) << bin_ << " is not built";
    auto t = util::TempDir::create("cli-results");
    ASSERT_TRUE(t.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    dir_ = tmp_->path() / "nmap7" / "20261129T185803Z";
    ResultsPaths p{dir_};
    fs::create_directories(dir_);
    ASSERT_TRUE(write_plan(dir_, {"nmap7", 2, {{"7.80", "scanner-nmap-7.80"},
                                               {"7.93", "scanner-nmap-7.93"},
                                               {"7.95", "scanner-nmap-7.95"}}})
                    .ok());
    fs::create_directories(p.run("7.80", 1).dir);
    fs::copy_file(src("tests/results/fixtures/manifest-v0-lxc.json"), p.run("7.80", 1).manifest());
    fs::create_directories(p.run("7.93", 1).dir);
    fs::copy_file(src("tests/results/fixtures/manifest-v0-vm.json"), p.run("7.93", 1).manifest());
    auto m = read_manifest(p.run("7.93", 1).manifest());
    ASSERT_TRUE(m.ok());
    m->run.repetition = 2;
    m->capture->kernel_dropped = 12;
    fs::create_directories(p.run("7.93", 2).dir);
    ASSERT_TRUE(write_manifest(p.run("7.93", 2).dir, *m).ok());
    fs::create_directories(p.run("7.80", 2).dir);
    nlohmann::json newer = to_json(*m);
    newer["schema_version"] = kManifestSchema + 1;
    ASSERT_TRUE(util::write_file_atomic(p.run("7.80", 2).manifest(), newer.dump()).ok());
    fs::create_directories(p.run("7.95", 1).dir);
    ASSERT_TRUE(write_failure(p.run("7.95", 1).dir, {"failed", "scan", "nmap exited with status 1"}).ok());
    fs::create_directories(p.run("7.95", 2).dir);
    ASSERT_TRUE(write_failure(p.run("7.95", 2).dir, {"interrupted", "capture", "interrupted"}).ok());
    // A scanner not in the plan, its run directory without manifest or failure record.
    fs::create_directories(dir_ / "7.991" / "1");
  }
  util::Result<util::ProcessResult> results(std::vector<std::string> args) {
    args.insert(args.begin(), {bin_.string(), "results"});
    return util::run_process(args);
  }
  fs::path bin_ = fs::path(TESTBED_BINARY_DIR) / "testbed";
  std::unique_ptr<util::TempDir> tmp_;
  fs::path dir_;
};

TEST_F(CliResults, TextAndJsonOfAResultsDirectory) {
  auto text = results({dir_.string()});
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->exit_code, 0) << text->err;
  expect_golden("results.txt", masked(text->out, tmp_->path()));
  auto json = results({dir_.string(), "--json"});
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->exit_code, 0) << json->err;
  expect_golden("results.json", masked(json->out, tmp_->path()));
  auto j = nlohmann::json::parse(json->out);
  EXPECT_EQ(j["format"], "testbed-results");
  EXPECT_EQ(j["totals"]["states"]["complete"], 3);
  EXPECT_EQ(j["totals"]["states"]["unreadable"], 1);
  EXPECT_EQ(j["totals"]["dropped"], 12);
}

TEST_F(CliResults, OneRunDirectory) {
  auto r = results({(dir_ / "7.93" / "2").string(), "--json"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  auto j = nlohmann::json::parse(r->out);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["run"], "7.93/2");
  EXPECT_EQ(j["runs"][0]["state"], "complete");
  EXPECT_EQ(j["runs"][0]["manifest_schema"], kManifestSchema);
  EXPECT_EQ(j["runs"][0]["kernel_dropped"], 12);
  auto failed = results({(dir_ / "7.95" / "1").string()});
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->exit_code, 0);
  EXPECT_NE(failed->out.find("scan: nmap exited with status 1"), std::string::npos) << failed->out;
}

TEST_F(CliResults, NotAResultsDirectoryExits2) {
  fs::path empty = tmp_->path() / "empty";
  fs::create_directories(empty);
  for (const fs::path& p : {empty, tmp_->path() / "nosuch"}) {
    auto r = results({p.string()});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 2) << p;
    EXPECT_TRUE(r->out.empty()) << r->out;
    EXPECT_NE(r->err.find(p.string()), std::string::npos) << r->err;
  }
  auto none = results({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->exit_code, 2);
}

}  // namespace
}  // namespace testbed::results
