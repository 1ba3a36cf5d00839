#pragma once
// For the CLI tests on one real LXC lab of ci-smoke's topology (two-subnet-small; label
// `lab`): a fixture base that brings the lab up once per suite through `testbed lab up`,
// takes it down afterwards, and skips every test (saying why) where no lab can run: not
// root, an image not built, no libvirt daemon. Header-only; the test binary links
// testbed_images (find_image) and defines TESTBED_SOURCE_DIR / TESTBED_BINARY_DIR.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/images/cache.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/host_capability.h"
#include "tests/support/testbed_cli.h"

namespace testbed::test_support {

class LiveLab : public ::testing::Test {
 protected:
  /// From SetUpTestSuite: the lab `name` up (an earlier crashed run's removed first), a
  /// temporary directory in /var/tmp named after `tmp_prefix`; or the reason to skip.
  static void bring_up(const std::string& name, const std::string& tmp_prefix) {
    lab_ = name;
    if (::geteuid() != 0) {
      skip_ = "the live lab needs root (libvirt LXC, overlay mounts)";
      return;
    }
    for (const char* img : {"router", "scanner-nmap-7.80", "target-lamp-ftp"})
      if (!images::find_image(img).ok()) {
        skip_ = std::string("image '") + img + "' is not built; run `testbed image build --all`";
        return;
      }
    if (auto why = testbed::testing::libvirt_missing(); !why.empty()) {
      skip_ = why;
      return;
    }
    auto d = util::TempDir::create(tmp_prefix, "/var/tmp");
    ASSERT_TRUE(d.ok());
    dir_ = new util::TempDir(std::move(*d));
    (void)tb({"lab", "down", lab_, "--ignore-missing"});  // a crashed earlier run's lab
    auto up = tb({"lab", "up", std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml",
                  "--name", lab_});
    up_out_ = new std::string(up.out);
    up_ok_ = up.exit_code == 0;
    ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  }
  /// From TearDownTestSuite: the lab down (it must go), the temporary directory removed.
  static void take_down() {
    if (dir_) {
      auto down = tb({"lab", "down", lab_});
      EXPECT_EQ(down.exit_code, 0) << down.err;
      delete dir_;
      dir_ = nullptr;
    }
    delete up_out_;
    up_out_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(up_ok_) << "the lab did not come up";
  }

  /// testbed ARGS (at most 5 minutes); `stdin_data` as its standard input.
  static util::ProcessResult tb(std::vector<std::string> args,
                                std::optional<std::string> stdin_data = std::nullopt) {
    args.insert(args.begin(), testbed_binary());
    util::ProcessOptions o;
    o.stdin_data = stdin_data ? stdin_data : std::string();
    o.timeout = std::chrono::minutes(5);
    auto r = util::run_process(args, o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r ? *r : util::ProcessResult{};
  }

  static inline std::string lab_;
  static inline util::TempDir* dir_ = nullptr;
  static inline std::string skip_;  ///< why the lab cannot run here ("" when it can)
  static inline std::string* up_out_ = nullptr;  ///< `lab up`'s standard output
  static inline bool up_ok_ = false;
};

}  // namespace testbed::test_support
