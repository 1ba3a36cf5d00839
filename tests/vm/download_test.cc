// Cloud-image downloads against a local Range-capable server on 127.0.0.1
// (tests/vm/range_server.py): resume after an interruption, restart when the server
// ignores Range, wrong checksum -> file removed and a clear error, SHA256SUMS parsing.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "orchestrator/images/download.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"

extern char** environ;

namespace testbed::images {
namespace {

namespace fs = std::filesystem;

/// The test server process, killed by PID when the test ends.
class Server {
 public:
  Server(const fs::path& dir, std::vector<std::string> extra) {
    port_file_ = dir / "port";
    std::vector<std::string> args = {
        "python3",     std::string(TESTBED_SOURCE_DIR) + "/tests/vm/range_server.py",
        "--dir",       dir.string(),
        "--port-file", port_file_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0) pid_ = 0;
    for (int i = 0; i < 100 && !fs::exists(port_file_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream(port_file_) >> port_;
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + name;
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = 0;
  int port_ = 0;
  fs::path port_file_;
};

struct Fixture {
  util::TempDir tmp = util::TempDir::create("kvm-dl").value();
  fs::path served = tmp.path() / "served";
  fs::path out = tmp.path() / "out";
  std::string data;
  std::string digest;
  Fixture() {
    fs::create_directories(served);
    std::mt19937 rng(42);
    data.resize(3 * 1024 * 1024);
    for (auto& c : data) c = char(rng());
    std::ofstream(served / "cloud.img", std::ios::binary) << data;
    digest = util::sha256_hex(data);
  }
};

TEST(KvmDownload, CompleteDownloadIsVerifiedAndMovedIntoPlace) {
  Fixture f;
  Server srv(f.served, {});
  ASSERT_GT(srv.port(), 0);
  auto dest = f.out / "img";
  auto s = download_verified(srv.url("cloud.img"), dest, f.digest);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*util::read_file(dest), f.data);
  EXPECT_FALSE(fs::exists(dest.string() + ".part"));
  // Present with the right digest: nothing is fetched (the server is gone).
  fs::remove(f.served / "cloud.img");
  EXPECT_TRUE(download_verified(srv.url("cloud.img"), dest, f.digest));
}

TEST(KvmDownload, InterruptedDownloadResumesWithRange) {
  Fixture f;
  Server srv(f.served, {"--cut-after", "1000000"});
  ASSERT_GT(srv.port(), 0);
  auto dest = f.out / "img";
  uint64_t first_progress = UINT64_MAX;
  DownloadOptions opts;
  auto s = download_verified(srv.url("cloud.img"), dest, f.digest, opts);
  ASSERT_FALSE(s);  // the connection closed after 1 MB
  EXPECT_NE(s.error().message.find("resume"), std::string::npos) << s.error().message;
  ASSERT_EQ(fs::file_size(dest.string() + ".part"), 1000000u);
  opts.progress = [&](uint64_t done, uint64_t) { first_progress = std::min(first_progress, done); };
  s = download_verified(srv.url("cloud.img"), dest, f.digest, opts);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*util::read_file(dest), f.data);
  // The second transfer started at the byte where the first stopped.
  EXPECT_GE(first_progress, 1000000u);
}

TEST(KvmDownload, ServerIgnoringRangeRestartsFromZero) {
  Fixture f;
  Server srv(f.served, {"--no-range"});
  ASSERT_GT(srv.port(), 0);
  auto dest = f.out / "img";
  // A stale partial file (e.g. from another mirror) that cannot be resumed here.
  fs::create_directories(f.out);
  std::ofstream(dest.string() + ".part", std::ios::binary) << f.data.substr(0, 5000);
  auto s = download_verified(srv.url("cloud.img"), dest, f.digest);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*util::read_file(dest), f.data);
}

TEST(KvmDownload, WrongChecksumRemovesTheFileWithAClearError) {
  Fixture f;
  Server srv(f.served, {});
  ASSERT_GT(srv.port(), 0);
  auto dest = f.out / "img";
  std::string wrong(64, 'a');
  auto s = download_verified(srv.url("cloud.img"), dest, wrong);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("checksum mismatch"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find(wrong), std::string::npos);
  EXPECT_NE(s.error().message.find(f.digest), std::string::npos);
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_FALSE(fs::exists(dest.string() + ".part"));
}

TEST(KvmDownload, MissingFileAndMissingServerFailWithTheUrl) {
  Fixture f;
  Server srv(f.served, {});
  auto s = download_verified(srv.url("nope.img"), f.out / "x", f.digest);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("nope.img"), std::string::npos);
  EXPECT_NE(s.error().message.find("404"), std::string::npos) << s.error().message;
  auto t = download_text(srv.url("nope.txt"));
  EXPECT_FALSE(t);
}

TEST(KvmDownload, Sha256SumsLookup) {
  std::string sums = std::string(64, 'b') + " *ubuntu-20.04-server-cloudimg-amd64.img\n" +
                     std::string(64, 'C') + "  ubuntu-16.04-server-cloudimg-amd64-disk1.img\r\n";
  auto a = digest_from_sha256sums(sums, "ubuntu-20.04-server-cloudimg-amd64.img");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, std::string(64, 'b'));
  auto b = digest_from_sha256sums(sums, "ubuntu-16.04-server-cloudimg-amd64-disk1.img");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, std::string(64, 'c'));
  EXPECT_FALSE(digest_from_sha256sums(sums, "ubuntu-18.04-server-cloudimg-amd64.img"));
  EXPECT_EQ(url_file_name("https://h.invalid/a/b/x.img?z=1#f"), "x.img");
}

}  // namespace
}  // namespace testbed::images
