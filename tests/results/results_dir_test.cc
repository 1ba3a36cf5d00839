// Reading a results directory: run states, a manifest of a newer schema listed as unreadable
// (not fatal), and the experiment copy's `analysis:` read by config's one parser and turned
// into analysis options by the one conversion.
#include "orchestrator/results/results_dir.h"

#include <gtest/gtest.h>

#include "orchestrator/results/analysis_settings.h"
#include "orchestrator/util/files.h"

namespace testbed::results {
namespace {
namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  ASSERT_TRUE(util::write_file_atomic(p, text).ok());
}

class ResultsDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("results-dir-test");
    ASSERT_TRUE(t.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    dir_ = tmp_->path() / "r";
    fs::create_directories(dir_);
    ASSERT_TRUE(write_plan(dir_, {"unit", 1, {{"7.80", "a"}, {"7.93", "b"}, {"7.95", "c"}}}).ok());
    Manifest m;
    m.lab.scanner_address = "172.24.0.10";
    fs::create_directories(ResultsPaths{dir_}.run("7.80", 1).dir);
    ASSERT_TRUE(write_manifest(ResultsPaths{dir_}.run("7.80", 1).dir, m).ok());
    auto newer = to_json(m);
    newer["schema_version"] = kManifestSchema + 1;
    write(ResultsPaths{dir_}.run("7.93", 1).manifest(), newer.dump());
  }
  std::unique_ptr<util::TempDir> tmp_;
  fs::path dir_;
};

TEST_F(ResultsDirTest, StatesAndANewerManifest) {
  write(dir_ / files::kExperiment, "name: unit\ntopology: nowhere.yaml\n");
  auto r = load_results(dir_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->runs.size(), 3u);
  EXPECT_EQ(r->runs[0].status, "complete");
  EXPECT_EQ(r->runs[1].status, "unreadable");
  EXPECT_NE(r->runs[1].error.find("newer than this testbed reads"), std::string::npos)
      << r->runs[1].error;
  EXPECT_EQ(r->runs[2].status, "missing");
  ASSERT_TRUE(r->options.scanner);
  EXPECT_EQ(r->options.scanner->str(), "172.24.0.10");
}

TEST_F(ResultsDirTest, NotAResultsDirectory) {
  fs::path empty = tmp_->path() / "empty";
  fs::create_directories(empty);
  auto r = load_results(empty);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(kNotResultsDir), std::string::npos);
  EXPECT_FALSE(load_results(tmp_->path() / "nope").ok());
}

TEST_F(ResultsDirTest, AnalysisSettingsThroughConfigsParser) {
  write(dir_ / files::kExperiment,
        "name: unit\ntopology: nowhere.yaml\nanalysis:\n  key_fields: [ttl, tcp_options]\n"
        "  scanner_ip: 172.24.0.99\n  similarity:\n    icmpv6: {max_length_diff: 4}\n"
        "    udp: {min_common_block: 9}\n");
  auto r = load_results(dir_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.key_fields, uint32_t(analysis::kKeyTtl | analysis::kKeyTcpOptions));
  EXPECT_EQ(r->options.scanner->str(), "172.24.0.99");
  EXPECT_EQ(r->options.similarity.icmp.max_length_diff, 4u);
  EXPECT_EQ(r->options.similarity.udp.min_common_block, 9u);
  EXPECT_EQ(r->options_source, "experiment.yaml");

  // Config's messages, located: the same as `testbed validate` gives.
  write(dir_ / files::kExperiment, "name: unit\nanalysis:\n  key_fields: [ttl, tcp-options]\n");
  auto bad = load_results(dir_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("experiment.yaml:3:"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("did you mean 'tcp_options'"), std::string::npos)
      << bad.error().message;
}

TEST(AnalysisOptions, DefaultsWhenNothingIsSet) {
  auto o = analysis_options(config::AnalysisSettings{});
  ASSERT_TRUE(o.ok());
  analysis::AnalysisOptions d;
  EXPECT_EQ(o->key_fields, 0u);
  EXPECT_FALSE(o->scanner);
  EXPECT_EQ(o->similarity.tcp.max_length_diff, d.similarity.tcp.max_length_diff);
  EXPECT_EQ(o->similarity.other.enabled, d.similarity.other.enabled);
}

}  // namespace
}  // namespace testbed::results
