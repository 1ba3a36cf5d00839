#pragma once
// Golden-file comparison for tests/vm/golden/: TESTBED_REGENERATE=1 rewrites the files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace testbed::kvm_test {

inline std::filesystem::path golden_dir() {
  return std::filesystem::path(TESTBED_SOURCE_DIR) / "tests/vm/golden";
}

inline void expect_golden(const std::string& name, const std::string& actual) {
  auto path = golden_dir() / name;
  const char* regen = std::getenv("TESTBED_REGENERATE");
  if (regen && std::string(regen) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << path << " (run with TESTBED_REGENERATE=1)";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), actual) << "golden file " << path
                              << " differs; TESTBED_REGENERATE=1 rewrites it";
}

}  // namespace testbed::kvm_test
