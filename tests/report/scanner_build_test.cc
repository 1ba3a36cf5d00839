// The report's scanner provenance: a source-built scanner's tarball, patches, compiler,
// suite and nmap-os-db origin from the image manifest, or the Debian package.
#include "orchestrator/report/scanner_build.h"

#include <gtest/gtest.h>

namespace testbed::report {
namespace {
using nlohmann::json;

const char* kVersion =
    "Nmap version 7.01SVN ( https://nmap.org )\nPlatform: x86_64-unknown-linux-gnu\n"
    "Compiled with: liblua-5.2.3 openssl-1.1.1w libpcre-8.39 libpcap-1.10.0 ipv6\n";

json run_with(const json& scanner_image) {
  return {{"images",
           {{"router", {{"role", "router"}, {"name", "router"}}},
            {"scanner", scanner_image},
            {"target1", {{"role", "target"}}}}}};
}

TEST(ScannerBuild, SourceBuildSummaryNamesTarballPatchCompilerAndOsDb) {
  json source = {
      {"tarball", {{"file", "nmap-7.01-git-8425c1620.tar.xz"}, {"sha256", std::string(64, 'a')}}},
      {"patches", json::array({{{"path", "patches/nmap-7.01-openssl-1.1.patch"},
                                {"sha256", std::string(64, 'b')}}})},
      {"compiler", "gcc (Debian 10.2.1-6) 10.2.1 20210110"},
      {"build_root", {{"suite", "bullseye"}, {"variant", "buildd"}}},
      {"missing_files", json::array({{{"path", "/usr/share/nmap/nmap-os-db"},
                                      {"origin", "package"},
                                      {"package", "nmap-common"},
                                      {"package_version", "7.91+dfsg1+really7.80+dfsg1-2"}}})}};
  json b = scanner_build(run_with({{"role", "scanner"}, {"source", source}}));
  ASSERT_TRUE(b.is_object());
  EXPECT_EQ(b["kind"], "source");
  EXPECT_EQ(scanner_build_summary(b),
            "source nmap-7.01-git-8425c1620.tar.xz (sha256 aaaaaaaaaaaa…), patches "
            "patches/nmap-7.01-openssl-1.1.patch (sha256 bbbbbbbbbbbb…), gcc (Debian 10.2.1-6) "
            "10.2.1 20210110, bullseye buildd; nmap-os-db from nmap-common "
            "7.91+dfsg1+really7.80+dfsg1-2");
  EXPECT_EQ(compiled_with(kVersion),
            "Compiled with: liblua-5.2.3 openssl-1.1.1w libpcre-8.39 libpcap-1.10.0 ipv6");
}

TEST(ScannerBuild, PackageScannerAndUnknown) {
  json b = scanner_build(run_with({{"role", "scanner"},
                                   {"base", {{"suite", "bullseye"}}},
                                   {"packages", {{"nmap", "7.91+dfsg1+really7.80+dfsg1-2"}}}}));
  EXPECT_EQ(scanner_build_summary(b), "Debian package nmap 7.91+dfsg1+really7.80+dfsg1-2 (bullseye)");
  EXPECT_TRUE(scanner_build(json::object()).is_null());
  EXPECT_TRUE(scanner_build(json{{"images", {{"scanner", "error"}}}}).is_null());
  EXPECT_EQ(scanner_build_summary(nullptr), "unknown");
  EXPECT_EQ(compiled_with("no such line"), "");
}

}  // namespace
}  // namespace testbed::report
