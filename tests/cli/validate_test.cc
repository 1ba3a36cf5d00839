// `testbed validate` on broken copies of each file kind, wherever they lie (issue 19 item 2):
// syntax first as file:line:col, an empty file, a kind its keys cannot tell (the keys named),
// an image without a recipe (nearest suggested) — also refused by `run` before anything
// exists —, a missing topology. And the small CLI items: `report results/<experiment>`
// picks the newest complete results directory, the image cache option is --cache on both
// `lab up` and `image`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

class Validate : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = util::TempDir::create("cli-validate");
    ASSERT_TRUE(t.ok()) << t.error().message;
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
    fs::create_directories(dir());
  }
  /// A folder that tells nothing about the kind.
  fs::path dir() const { return tmp_->path() / "misc"; }
  fs::path file(const std::string& name, const std::string& text) const {
    fs::path p = dir() / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  util::ProcessResult testbed(std::vector<std::string> args) const {
    args.insert(args.begin(), std::string(TESTBED_BINARY_DIR) + "/testbed");
    util::ProcessOptions o;
    o.cwd = TESTBED_SOURCE_DIR;
    o.extra_env = {"TESTBED_IMAGE_DIR=" + (tmp_->path() / "images").string()};
    auto r = util::run_process(args, o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r ? *r : util::ProcessResult{};
  }
  std::string experiment(const std::string& image, const std::string& topology) const {
    return "name: v\ntopology: " + topology + "\nscanners:\n  - {label: \"7.80\", image: " +
           image + "}\ncommand: [nmap, -oX, \"{xml}\", \"{targets}\"]\n";
  }
  const std::string small_ = std::string(TESTBED_SOURCE_DIR) + "/topology/two-subnet-small.yaml";
  std::unique_ptr<util::TempDir> tmp_;
};

TEST_F(Validate, SyntaxErrorFirstWhateverTheFolder) {
  fs::path f = file("broken.yaml", "name: broken\nnodes: [\n");
  auto r = testbed({"validate", f.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind(f.string() + ":2:8: error: YAML syntax error: this '[' is never closed", 0), 0u)
      << r.err;
}

TEST_F(Validate, EmptyFile) {
  for (const char* text : {"", "# only a comment\n"}) {
    fs::path f = file("empty.yaml", text);
    auto r = testbed({"validate", f.string()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(f.string() + ":1:1: error: the file is empty"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("cannot tell"), std::string::npos) << r.err;
  }
}

TEST_F(Validate, KindFromKeysElseTheKeysThatMadeItUnsure) {
  // Keys of one kind only: detected outside any known folder.
  fs::path t = file("topo.yaml", util::read_file(small_).value());
  auto ok = testbed({"validate", t.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("topology 'two-subnet-small' OK"), std::string::npos) << ok.out;

  fs::path mixed = file("mixed.yaml", "name: m\nscanners: []\nnodes: []\n");
  auto r = testbed({"validate", mixed.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("its keys disagree: scanners suggests experiment; nodes suggests topology"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("pass --kind"), std::string::npos);

  fs::path none = file("none.yaml", "name: n\ncolour: blue\n");
  auto n = testbed({"validate", none.string()});
  EXPECT_EQ(n.exit_code, 2);
  EXPECT_NE(n.err.find("none of its keys (name, colour)"), std::string::npos) << n.err;
}

TEST_F(Validate, ImageWithoutRecipeSuggestsTheNearestAndRunRefusesItFirst) {
  fs::path e = file("exp.yaml", experiment("scanner-nmap-7.59", small_));
  auto r = testbed({"validate", e.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(e.string() + ":4:"), std::string::npos) << r.err;  // file:line:col
  EXPECT_NE(r.err.find("scanner '7.80': image 'scanner-nmap-7.59' has no recipe"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("did you mean 'scanner-nmap-7.95'?"), std::string::npos) << r.err;

  auto run = testbed({"run", e.string(), "--output", (tmp_->path() / "results").string()});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("did you mean 'scanner-nmap-7.95'?"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("nothing was created"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(tmp_->path() / "results"));
  EXPECT_FALSE(fs::exists(tmp_->path() / "images"));  // no image build started

  // A topology's node image, checked on its own too.
  std::string topo = util::read_file(small_).value();
  topo.replace(topo.find("image: target-lamp-ftp"), 22, "image: target-lamp-fpt");
  fs::path t = file("topo.yaml", topo);
  auto tr = testbed({"validate", t.string()});
  EXPECT_EQ(tr.exit_code, 2);
  EXPECT_NE(tr.err.find("node 'target1': image 'target-lamp-fpt' has no recipe"),
            std::string::npos)
      << tr.err;
  EXPECT_NE(tr.err.find("did you mean 'target-lamp-ftp'?"), std::string::npos) << tr.err;
}

TEST_F(Validate, MissingTopologyFile) {
  fs::path e = file("exp.yaml", experiment("scanner-nmap-7.80", "no-such-topology.yaml"));
  auto r = testbed({"validate", e.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(e.string() + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no-such-topology.yaml"), std::string::npos) << r.err;
}

TEST_F(Validate, ReportOfAnExperimentFolderPicksTheNewestCompleteOne) {
  using namespace report::testing;
  const fs::path exp = tmp_->path() / "results" / "nmap7";
  for (const char* d : {"20260101T000000Z", "20260102T000000Z", "20260103T000000Z"}) {
    write_plan(exp / d, {"7.80", "7.93"}, 1);
    write_run(exp / d, {"7.80", 1});
    if (std::string(d) != "20260103T000000Z") write_run(exp / d, {"7.93", 1});  // 03: 7.93 missing
  }
  auto r = testbed({"report", exp.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("using the newest complete one, 20260102T000000Z (newer, not complete: "
                       "20260103T000000Z)"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::exists(exp / "20260102T000000Z" / "report.html"));
  EXPECT_FALSE(fs::exists(exp / "20260103T000000Z" / "report.html"));
}

// The latest/latest-good pointers beside the results directories are symlinks to older
// ones: they are neither candidates nor "newer" (sorted by name they came first and an old
// run was re-rendered, issue 27).
TEST_F(Validate, ReportOfAnExperimentFolderIgnoresThePointers) {
  using namespace report::testing;
  const fs::path exp = tmp_->path() / "results" / "nmap7";
  for (const char* d : {"20260101T000000Z", "20260102T000000Z"}) {
    write_plan(exp / d, {"7.80"}, 1);
    write_run(exp / d, {"7.80", 1});
  }
  fs::create_directory_symlink("20260101T000000Z", exp / "latest-good");
  fs::create_directory_symlink("20260101T000000Z", exp / "latest");
  auto r = testbed({"report", exp.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("holds 2 results directories: using the newest complete one, "
                       "20260102T000000Z"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::exists(exp / "20260102T000000Z" / "report.html"));
  EXPECT_FALSE(fs::exists(exp / "20260101T000000Z" / "report.html"));
}

TEST(CliOptions, ImageCacheIsCacheOnEveryVerb) {
  const std::string bin = std::string(TESTBED_BINARY_DIR) + "/testbed";
  for (auto args : std::vector<std::vector<std::string>>{
           {bin, "lab", "up", "--help"}, {bin, "image", "build", "--help"},
           {bin, "image", "list", "--help"}, {bin, "image", "rm", "--help"}}) {
    auto r = util::run_process(args);
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r->out.find("--cache"), std::string::npos) << args[1] << " " << args[2];
    EXPECT_EQ(r->out.find("--images"), std::string::npos) << args[1] << " " << args[2];
  }
}

}  // namespace
}  // namespace testbed
