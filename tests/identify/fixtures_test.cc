// Leave-one-out on committed captures made in the lab (tests/identify/data/README.md says how):
// every capture identified by a model of the others; a version held out comes out unknown
// or as a set (but for one known limit); a capture from the other lab (other addresses and
// services) gets its kind and no wrong version.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "orchestrator/identify/identify.h"

namespace testbed::identify {
namespace {

const std::filesystem::path kData = std::filesystem::path(TESTBED_SOURCE_DIR) / "tests/identify/data";

struct Fixture {
  LabelledRun run;
  bool other_lab = false;
};

std::vector<Fixture> load_fixtures() {
  std::vector<Fixture> out;
  std::ifstream in(kData / "fixtures.json");
  auto j = nlohmann::json::parse(in);
  for (auto& f : j) {
    auto t = extract_traits(kData / f.at("file").get<std::string>(),
                            analysis::IpAddr::parse(f.at("scanner").get<std::string>()));
    EXPECT_TRUE(t.ok()) << t.error().message;
    if (!t.ok()) continue;
    out.push_back({{f.at("kind"), f.at("version"), f.at("file"), "data", std::move(*t)}, f.value("other_lab", false)});
  }
  return out;
}

std::vector<const LabelledRun*> atlas_except(const std::vector<Fixture>& fs, const std::string& name,
                                             const std::string& version = "") {
  std::vector<const LabelledRun*> out;
  for (auto& f : fs)
    if (!f.other_lab && f.run.name != name && f.run.version != version) out.push_back(&f.run);
  return out;
}

TEST(Fixtures, LeaveOneRunOutHoldsEveryVersion) {
  auto fs = load_fixtures();
  ASSERT_GE(fs.size(), 10u);
  for (auto& f : fs) {
    if (f.other_lab) continue;
    Model m = train(atlas_except(fs, f.run.name));
    auto id = identify(m, f.run.traits, f.run.name);
    ASSERT_EQ(id.kind.display, f.run.kind) << f.run.name << "\n" << identification_text(id);
    if (f.run.kind != "nmap") continue;
    ASSERT_TRUE(id.version && !id.version->unknown) << identification_text(id);
    const auto& l = id.version->labels;
    EXPECT_NE(std::find(l.begin(), l.end(), f.run.version), l.end()) << identification_text(id);
    // One target's traffic: 7.93 and 7.95 are named; 7.80 sends nothing here that 7.93 never
    // sends, so its answer is the pair (the traits that would separate them are absent).
    if (f.run.version == "7.80") EXPECT_EQ(l, (std::vector<std::string>{"7.80", "7.93"})) << identification_text(id);
    else EXPECT_EQ(id.version->display, f.run.version) << identification_text(id);
  }
}

TEST(Fixtures, AHeldOutVersionIsNeverAWrongSingleVersion) {
  auto fs = load_fixtures();
  std::set<std::string> versions;
  for (auto& f : fs)
    if (f.run.kind == "nmap" && !f.other_lab) versions.insert(f.run.version);
  ASSERT_GE(versions.size(), 3u);
  for (auto& v : versions) {
    Model m = train(atlas_except(fs, "", v));
    for (auto& f : fs) {
      if (f.other_lab || f.run.version != v) continue;
      auto id = identify(m, f.run.traits, f.run.name);
      EXPECT_EQ(id.kind.display, "nmap") << identification_text(id);
      ASSERT_TRUE(id.version) << f.run.name;
      // Known limit (docs/findings.md "Which scanner, which version?"): on one target's traffic 7.80
      // sends nothing 7.93 never sends, so a model without 7.80 names 7.93.
      if (v == "7.80") {
        EXPECT_EQ(id.version->display, "7.93") << "the known limit changed: " << identification_text(id);
        continue;
      }
      EXPECT_FALSE(!id.version->unknown && id.version->labels.size() == 1)
          << f.run.name << " held out, named " << id.version->display;
    }
  }
}

TEST(Fixtures, AnotherLabsCaptureGetsItsKindAndNoWrongVersion) {
  auto fs = load_fixtures();
  Model m = train(atlas_except(fs, ""));
  size_t other = 0;
  for (auto& f : fs) {
    if (!f.other_lab) continue;
    ++other;
    auto id = identify(m, f.run.traits, f.run.name);
    ASSERT_EQ(id.kind.display, f.run.kind) << identification_text(id);
    ASSERT_TRUE(id.version);
    // Never a wrong version: unknown (as now, README) or a set that holds the true one.
    if (id.version->unknown) continue;
    EXPECT_NE(std::find(id.version->labels.begin(), id.version->labels.end(), f.run.version),
              id.version->labels.end()) << identification_text(id);
  }
  EXPECT_GE(other, 1u);
}

}  // namespace
}  // namespace testbed::identify
