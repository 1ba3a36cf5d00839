// End to end with a source-built scanner (label e2e): `testbed run experiments/ci-source.yaml`
// builds scanner-nmap-src-7.01 from the upstream tarball unless the cache holds it
// (tarball verified, OpenSSL 1.1 patch, nmap-os-db from bullseye's nmap-common, compile
// in a buildd root, runtime image), scans one target with it, and the run manifest and
// report carry the build's provenance.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "orchestrator/config/recipe.h"
#include "orchestrator/images/cache.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/hash.h"
#include "orchestrator/util/subprocess.h"
#include "tests/support/testbed_cli.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;

const std::string kTestbed = std::string(TESTBED_BINARY_DIR) + "/testbed";
const fs::path kSource = TESTBED_SOURCE_DIR;

TEST(EndToEnd, SourceBuiltScannerScansWithProvenance) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (image build, libvirt LXC, capture)";
  auto recipe = config::load_recipe(kSource / "images/scanner-nmap-src-7.01.yaml");
  ASSERT_TRUE(recipe.ok()) << recipe.error().message;
  const auto& tarball = recipe->source.tarballs.at(0);
  if (!images::find_image(recipe->name).ok() && config::find_source_file(tarball.file).empty())
    GTEST_SKIP() << "no " << tarball.file << " in $TESTBED_SOURCES or /var/lib/testbed/sources "
                 << "and no internet here: set TESTBED_SOURCES to the directory holding it";

  auto out = util::TempDir::create("testbed-e2e-source", "/var/tmp");
  ASSERT_TRUE(out.ok());
  auto r = util::run_process(
      {kTestbed, "run", (kSource / "experiments/ci-source.yaml").string(), "--output",
       out->path().string()},
      {.on_stdout_line = [](const std::string& l) { fprintf(stderr, "%s\n", l.c_str()); }});
  ASSERT_TRUE(r.ok());
  fprintf(stderr, "%s\n", r->err.c_str());
  ASSERT_EQ(r->exit_code, 0);

  fs::path results = test_support::run_results_dir(out->path() / "ci-source");
  ASSERT_FALSE(results.empty());
  fs::path run = results / "7.01" / "1";
  auto m = nlohmann::json::parse(*util::read_file(run / "manifest.json"));
  EXPECT_EQ(m["status"], "complete");
  EXPECT_EQ(m["capture"]["kernel_dropped"], 0);
  EXPECT_GT(m["capture"]["packets"].get<uint64_t>(), 1000u);

  // The scanner is the source build: version string, OpenSSL compiled in (the patch).
  std::string version = m["scanner_version"];
  EXPECT_NE(version.find("Nmap version 7.01SVN"), std::string::npos) << version;
  EXPECT_NE(version.find("openssl-1.1.1"), std::string::npos) << version;

  // Its image manifest, as the run recorded it: tarball, patch, compiler, nmap-os-db.
  nlohmann::json scanner;
  for (const auto& [node, im] : m["images"].items())
    if (im.is_object() && im.value("role", "") == "scanner") scanner = im;
  ASSERT_TRUE(scanner.is_object()) << m["images"].dump(2);
  ASSERT_TRUE(scanner.contains("source")) << scanner.dump(2);
  const auto& src = scanner["source"];
  EXPECT_EQ(src["tarball"]["file"], tarball.file);
  EXPECT_EQ(src["tarball"]["sha256"], tarball.sha256);
  ASSERT_EQ(src["patches"].size(), 1u);
  EXPECT_EQ(src["patches"][0]["path"], "patches/nmap-7.01-openssl-1.1.patch");
  EXPECT_EQ(src["patches"][0]["sha256"],
            *util::sha256_file(kSource / "images/patches/nmap-7.01-openssl-1.1.patch"));
  EXPECT_NE(src["compiler"].get<std::string>().find("gcc"), std::string::npos);
  EXPECT_EQ(src["build_root"]["suite"], "bullseye");
  ASSERT_EQ(src["missing_files"].size(), 1u);
  EXPECT_EQ(src["missing_files"][0]["path"], "/usr/share/nmap/nmap-os-db");
  EXPECT_EQ(src["missing_files"][0]["origin"], "package");
  EXPECT_EQ(src["missing_files"][0]["package"], "nmap-common");
  EXPECT_EQ(src["missing_files"][0]["package_version"].get<std::string>().rfind("7.91+dfsg1+really7.80", 0),
            0u);
  EXPECT_EQ(scanner["nmap"]["version"], "7.01SVN");

  // The scan found the target and its services (XML written by the source-built Nmap).
  std::string xml = *util::read_file(run / "nmap.xml");
  EXPECT_NE(xml.find("scanner=\"nmap\""), std::string::npos);
  EXPECT_NE(xml.find("version=\"7.01SVN\""), std::string::npos);
  EXPECT_NE(xml.find("<address addr=\"172.24.1.10\""), std::string::npos);
  for (const char* port : {"portid=\"21\"", "portid=\"80\"", "portid=\"3306\""})
    EXPECT_NE(xml.find(port), std::string::npos) << port;
  EXPECT_NE(xml.find("<state state=\"open\""), std::string::npos);
  EXPECT_NE(xml.find("<osmatch"), std::string::npos) << "OS detection used the nmap-os-db";

  // The report shows the build next to the scanner.
  auto rep = nlohmann::json::parse(*util::read_file(results / "report.json"));
  ASSERT_EQ(rep["runs"].size(), 1u);
  EXPECT_EQ(rep["runs"][0]["scanner_build"]["kind"], "source");
  std::string html = *util::read_file(results / "report.html");
  EXPECT_NE(html.find("nmap-7.01-openssl-1.1.patch"), std::string::npos);
  EXPECT_NE(html.find("nmap-os-db from nmap-common"), std::string::npos);
}

}  // namespace
}  // namespace testbed
