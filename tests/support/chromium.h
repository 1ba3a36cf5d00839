#pragma once
// Headless Chromium for render tests: no network, a private profile.
#include <filesystem>
#include <string>
#include <vector>

namespace testbed::test_support {

inline std::vector<std::string> chromium_argv(const std::filesystem::path& profile) {
  return {"/usr/bin/chromium",
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--user-data-dir=" + profile.string()};
}

}  // namespace testbed::test_support
