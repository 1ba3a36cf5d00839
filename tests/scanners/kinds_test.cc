// Each scanner kind's parsers on real outputs made in the lab (fixtures/<kind>/README.md
// says how each was made): the console log as a phase timeline, the result file.
#include <gtest/gtest.h>

#include "orchestrator/analysis/scanner_model.h"
#include "orchestrator/scanners/registry.h"
#include "orchestrator/util/files.h"

namespace testbed::scanners {
namespace {

const std::string kFixtures = std::string(TESTBED_SOURCE_DIR) + "/tests/scanners/fixtures/";

const analysis::ScannerModel& model_of(std::string_view kind) {
  auto k = kind_named(kind);
  EXPECT_TRUE(k) << k.error().message;
  return (*k)->model();
}

TEST(Kinds, RegistryNamesEveryKindAndRefusesOthers) {
  for (const char* k : {"nmap", "masscan", "zmap"}) {
    auto got = kind_named(k);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ((*got)->model().kind, k);
  }
  auto bad = kind_named("unicornscan");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("known: nmap, masscan, zmap"), std::string::npos);
}

}  // namespace
}  // namespace testbed::scanners
