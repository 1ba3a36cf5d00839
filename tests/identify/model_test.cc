// The model file: round trip, refusals (another format, a newer schema), and the shipped
// model with its provenance.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "orchestrator/identify/changelog.h"
#include "orchestrator/identify/model.h"
#include "orchestrator/util/files.h"
#include "tests/identify/synthetic.h"

namespace testbed::identify {
namespace {

TEST(Model, RoundTripKeepsEverything) {
  std::vector<LabelledRun> runs = {
      testing::run_of("nmap", "7.80", 1, {"ports|port 3007", "syn|syn a"}),
      testing::run_of("nmap", "7.80", 2, {"ports|port 3007", "syn|syn a"}),
      testing::run_of("nmap", "7.95", 1, {"ports|port 5985", "syn|syn a"}),
      testing::run_of("masscan", "masscan", 1, {"syn|syn m"})};
  Model m = train(testing::ptrs(runs));
  m.provenance.results_dirs = {"results/x/1"};
  m.provenance.created = "2026-12-07T19:00:00Z";
  auto back = model_from_json(model_json(m), "mem");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(model_json(*back), model_json(m));
  EXPECT_EQ(back->versions.at("nmap").labels, (std::vector<std::string>{"7.80", "7.95"}));
  EXPECT_EQ(back->kinds.labels, (std::vector<std::string>{"masscan", "nmap"}));
}

TEST(Changelog, ListsWhatChangedNotRunToRunVariation) {
  // 2.0 adds port 5985; a SACK-bearing ACK shows in every run of 2.0, no run of 1.0 and
  // one run of 0.9: run-to-run variation, not a change of 2.0.
  std::vector<LabelledRun> runs = {
      testing::run_of("nmap", "0.9", 1, {"ports|port 22", "tcp:A|tcp A w=63 o=K5"}),
      testing::run_of("nmap", "0.9", 2, {"ports|port 22"}),
      testing::run_of("nmap", "1.0", 1, {"ports|port 22"}),
      testing::run_of("nmap", "1.0", 2, {"ports|port 22"}),
      testing::run_of("nmap", "2.0", 1, {"ports|port 22", "ports|port 5985", "tcp:A|tcp A w=63 o=K5"}),
      testing::run_of("nmap", "2.0", 2, {"ports|port 22", "ports|port 5985", "tcp:A|tcp A w=63 o=K5"})};
  const std::string md = changelog_markdown(runs, "nmap");
  EXPECT_NE(md.find("## nmap 2.0 against 1.0"), std::string::npos) << md;
  EXPECT_NE(md.find("`port 5985` — 2.0/1 frame 2"), std::string::npos) << md;
  EXPECT_EQ(md.find("K5"), std::string::npos) << md;
  EXPECT_EQ(md.find("port 22"), std::string::npos) << md;
}

TEST(Model, KeepsTheServiceContextsOfPayloadTraits) {
  std::vector<LabelledRun> runs = {
      testing::run_of("nmap", "7.93", 1, {"syn|syn a", "tls|tls-hello a"}, 21),
      testing::run_of("nmap", "7.93", 2, {"syn|syn a", "tls|tls-hello a"}, 21),
      testing::run_of("nmap", "7.95", 1, {"syn|syn a", "tls|tls-hello b"}, 3306)};
  Model m = train(testing::ptrs(runs));
  const auto& c = m.versions.at("nmap");
  EXPECT_EQ(c.contexts.at("tls").at(21), (std::vector<int>{2, 0}));
  EXPECT_TRUE(c.served({21}, 0));
  EXPECT_FALSE(c.served({3306}, 0));
  EXPECT_TRUE(c.served({993, 3306}, 1));
  EXPECT_FALSE(c.contexts.count("syn"));  // probes have none
  auto back = model_from_json(model_json(m), "mem");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->versions.at("nmap").contexts, c.contexts);
  auto j = model_json(m);
  j["versions"]["nmap"]["service_contexts"]["tls"]["ftp"] = {1, 0};
  auto bad = model_from_json(j, "mem");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("not a number: 'ftp'"), std::string::npos) << bad.error().message;
}

TEST(Model, RefusesANewerSchemaAndOtherFiles) {
  auto dir = util::TempDir::create("identify-model");
  ASSERT_TRUE(dir.ok());
  Model m;
  auto j = model_json(m);
  j["schema_version"] = kModelSchema + 1;
  std::ofstream(dir->path() / "newer.json") << j.dump();
  auto r = load_model(dir->path() / "newer.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("schema_version 2 is newer"), std::string::npos) << r.error().message;
  std::ofstream(dir->path() / "other.json") << R"({"format": "testbed-results"})";
  r = load_model(dir->path() / "other.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a testbed identify model"), std::string::npos);
  std::ofstream(dir->path() / "text.json") << "hello";
  r = load_model(dir->path() / "text.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not JSON"), std::string::npos);
  EXPECT_FALSE(load_model(dir->path() / "nosuch.json").ok());
}

TEST(Model, ReleaseOrderIsNumeric) {
  std::vector<std::string> v = {"7.991", "7.95", "7.01", "masscan", "7.60", "7.9"};
  std::sort(v.begin(), v.end(), release_less);
  EXPECT_EQ(v, (std::vector<std::string>{"7.01", "7.9", "7.60", "7.95", "7.991", "masscan"}));
}

// The shipped model: made by `testbed fingerprint` from the atlas (README "Which scanner,
// which version?"), with its provenance.
TEST(Model, ShippedModelLoadsWithItsProvenance) {
  auto m = default_model();
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->schema_version, kModelSchema);
  const auto& p = m->provenance;
  ASSERT_FALSE(p.results_dirs.empty());
  for (auto& d : p.results_dirs) EXPECT_NE(d.find("nmap-atlas"), std::string::npos) << d;
  EXPECT_EQ(p.created.size(), 20u) << p.created;  // 2026-12-07T19:00:00Z
  EXPECT_FALSE(p.testbed_version.empty());
  EXPECT_FALSE(p.runs_revisions.empty());
  EXPECT_EQ(m->kinds.labels, (std::vector<std::string>{"masscan", "nmap", "zmap"}));
  const auto& nmap = m->versions.at("nmap");
  // The atlas (README): nine releases, two runs each.
  EXPECT_EQ(nmap.labels, (std::vector<std::string>{"7.01", "7.60", "7.70", "7.80", "7.92", "7.93", "7.94", "7.95",
                                                   "7.991"}));
  // Service contexts and payload ports are kept (a model of an older testbed has none).
  EXPECT_FALSE(nmap.contexts.empty());
  EXPECT_TRUE(std::any_of(nmap.trait_ports.begin(), nmap.trait_ports.end(), [](auto& p) { return !p.empty(); }));
  for (size_t l = 0; l < nmap.labels.size(); ++l) EXPECT_GE(nmap.runs[l], 2) << nmap.labels[l];
  // Every run named in the provenance is counted in the model.
  int runs = 0;
  for (int n : m->kinds.runs) runs += n;
  EXPECT_EQ(size_t(runs), p.runs.size());
}

}  // namespace
}  // namespace testbed::identify
