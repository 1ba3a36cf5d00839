// The /testbed/ scripts, run for real with /bin/sh on the host: everything they touch is
// in a temporary directory (TESTBED_DIR, log paths and files named by the test recipe).
#include "orchestrator/backends/lxc/boot_scripts.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "orchestrator/config/recipe.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::images {
using backends::lxc::build_script;
using backends::lxc::health_script;
using backends::lxc::services_script;
using backends::lxc::shell_quote;
namespace {
namespace fs = std::filesystem;

class BootScripts : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("boot-scripts-test");
    ASSERT_TRUE(t.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    dir_ = tmp_->path();
    fs::create_directories(dir_ / "testbed");
  }

  config::Recipe recipe(const std::string& body) {
    // The recipe text refers to the temp dir as @D@.
    std::string text = "name: t\nrole: target\nbackends: [lxc]\nbase: {suite: bookworm}\n" + body;
    for (size_t p; (p = text.find("@D@")) != std::string::npos;) text.replace(p, 3, dir_.string());
    auto r = config::parse_recipe(text, dir_ / "t.yaml");
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : config::Recipe{};
  }

  util::ProcessResult run(const std::string& script, std::vector<std::string> args = {}) {
    fs::path p = dir_ / "script.sh";
    EXPECT_TRUE(util::write_file_atomic(p, script, 0755).ok());
    std::vector<std::string> argv = {"/bin/sh", p.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    util::ProcessOptions o;
    o.extra_env = {"TESTBED_DIR=" + (dir_ / "testbed").string()};
    o.timeout = std::chrono::seconds(30);
    auto r = util::run_process(argv, o);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : util::ProcessResult{};
  }

  std::unique_ptr<util::TempDir> tmp_;
  fs::path dir_;
};

TEST_F(BootScripts, ServicesStartInOrderWithNodeFactsAndAreIdempotent) {
  std::ofstream(dir_ / "testbed/node.env") << "NODE_NAME=target1\nexport LAB_NAME=lab7\n";
  auto r = recipe(R"(services:
  - name: first
    start: echo "first on $NODE_NAME in $LAB_NAME" >> @D@/order
    log: @D@/logs/first.log
  - name: second
    running: test -e @D@/second.pid
    start: |
      echo second >> @D@/order
      touch @D@/second.pid
    log: @D@/logs/second.log
)");
  auto res = run(services_script(r));
  EXPECT_EQ(res.exit_code, 0) << res.out << res.err;
  EXPECT_EQ(*util::read_file(dir_ / "order"), "first on target1 in lab7\nsecond\n");
  EXPECT_NE(util::read_file(dir_ / "logs/first.log")->find("testbed: starting first"),
            std::string::npos);

  res = run(services_script(r));  // again: `second` is running, so only `first` restarts
  EXPECT_EQ(res.exit_code, 0);
  EXPECT_NE(res.out.find("second already running"), std::string::npos) << res.out;
  EXPECT_EQ(*util::read_file(dir_ / "order"),
            "first on target1 in lab7\nsecond\nfirst on target1 in lab7\n");
}

TEST_F(BootScripts, FailingServiceNamesItselfAndShowsLogTail) {
  auto r = recipe(R"(services:
  - name: db
    start: |
      echo "InnoDB: cannot open datadir" >&2
      exit 3
    log: @D@/db.log
  - name: never
    start: touch @D@/never
    log: @D@/never.log
)");
  auto res = run(services_script(r));
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.out.find("service 'db' failed to start (exit status 3)"), std::string::npos)
      << res.out;
  EXPECT_NE(res.out.find("InnoDB: cannot open datadir"), std::string::npos) << res.out;
  EXPECT_FALSE(fs::exists(dir_ / "never")) << "later services are not started";
}

TEST_F(BootScripts, TemplatesRenderedFromNodeEnv) {
  std::ofstream(dir_ / "testbed/node.env")
      << "NODE_NAME=r1\nSCAN_ADDR='172.24.0.1'\nODD='a|b&c\\d'\n";
  auto r = recipe(R"(files:
  - path: @D@/etc/app.conf
    template: true
    content: "name={{NODE_NAME}} listen={{SCAN_ADDR}} odd={{ODD}} keep={{UNSET}} ${HOME}\n"
)");
  // The builder stores the pristine copy under /testbed/templates/<index>.
  fs::create_directories(dir_ / "testbed/templates");
  fs::create_directories(dir_ / "etc");
  std::ofstream(dir_ / "testbed/templates/0") << r.files[0].content;
  auto res = run(services_script(r));
  EXPECT_EQ(res.exit_code, 0) << res.out << res.err;
  EXPECT_EQ(*util::read_file(dir_ / "etc/app.conf"),
            "name=r1 listen=172.24.0.1 odd=a|b&c\\d keep={{UNSET}} ${HOME}\n");
}

TEST_F(BootScripts, HealthPassesAndFailsWithCheckNameAndServiceLog) {
  std::ofstream(dir_ / "web.log") << "line 1\nAH00015: Unable to open logs\n";
  auto r = recipe(R"(services:
  - {name: web, start: "true", log: "@D@/web.log"}
health:
  - name: always
    command: "true"
  - name: page
    command: test -e @D@/page && echo 'page ok'
    service: web
    timeout: 2
)");
  auto res = run(health_script(r));
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_NE(res.out.find("check 'page' failed"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("AH00015: Unable to open logs"), std::string::npos) << res.out;

  std::ofstream(dir_ / "page") << "";
  res = run(health_script(r));
  EXPECT_EQ(res.exit_code, 0) << res.out;
  EXPECT_NE(res.out.find("all 2 check(s) passed"), std::string::npos);
}

TEST_F(BootScripts, HealthWaitRetriesUntilReady) {
  auto r = recipe(R"(health:
  - name: eventually
    command: test -e @D@/ready
)");
  // A background writer makes the check pass after ~1 s; --wait 10 must see it.
  auto writer = std::thread([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    std::ofstream(dir_ / "ready") << "";
  });
  auto res = run(health_script(r), {"--wait", "10"});
  writer.join();
  EXPECT_EQ(res.exit_code, 0) << res.out;
}

TEST_F(BootScripts, HealthTimeoutKillsHungCheck) {
  auto r = recipe(R"(health:
  - name: hung
    command: sleep 30
    timeout: 1
)");
  auto t0 = std::chrono::steady_clock::now();
  auto res = run(health_script(r));
  EXPECT_EQ(res.exit_code, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_NE(res.out.find("check 'hung' failed"), std::string::npos);
}

TEST_F(BootScripts, BuildScriptStopsAtFirstFailure) {
  auto r = recipe("build:\n  - echo one > @D@/b1\n  - \"false\"\n  - echo three > @D@/b3\n");
  auto res = run(build_script(r));
  EXPECT_NE(res.exit_code, 0);
  EXPECT_TRUE(fs::exists(dir_ / "b1"));
  EXPECT_FALSE(fs::exists(dir_ / "b3"));
}

TEST(BootScriptsSyntax, ShippedRecipesGenerateValidShell) {
  auto all = config::load_recipe_dir(fs::path(TESTBED_SOURCE_DIR) / "images");
  ASSERT_TRUE(all.ok()) << all.error().message;
  for (const auto& r : *all) {
    for (const auto& [what, text] :
         {std::pair{"services.sh", services_script(r)}, std::pair{"health.sh", health_script(r)},
          std::pair{"build.sh", build_script(r)}}) {
      auto res = util::run_process({"/bin/sh", "-n"}, {.stdin_data = text});
      ASSERT_TRUE(res.ok());
      EXPECT_EQ(res->exit_code, 0) << r.name << " " << what << ": " << res->err;
    }
  }
}

TEST(ShellQuote, RoundTripsThroughSh) {
  const std::string nasty = "it's $HOME `id` \"q\" \\ ;|&";
  auto res = util::run_process({"/bin/sh", "-c", "printf %s " + shell_quote(nasty)});
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->out, nasty);
}

}  // namespace
}  // namespace testbed::images
