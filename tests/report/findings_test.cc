// "What differs" (findings.h) on the report's fixtures (results_builder.h): which findings,
// in which order, in which words — the pair of versions probing different ports, a finding
// of one version, noise told apart, the biggest first — and that every format leads with it.
#include <gtest/gtest.h>

#include "orchestrator/report/model.h"
#include "orchestrator/report/render.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed::report {
namespace {

using namespace testing;

Model model_of(const fs::path& dir) {
  auto m = build_model(dir, ReportOptions{});
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m ? std::move(*m) : Model{};
}

// The golden fixture (write_report_fixture, golden_test.cc): 7.93 probes two more ports and
// sends one more payload in both of its runs; 7.80's second run pings one more host (not in
// the study's column); 7.95 has no complete run.
TEST(WhatDiffers, GoldenFixtureFindingsInOrder) {
  auto t = util::TempDir::create("findings");
  ASSERT_TRUE(t.ok()) << t.error().message;
  fs::path r = t->path() / "r";
  write_report_fixture(r, "<b>x</b>");
  Model m = model_of(r);
  ASSERT_EQ(m.findings.size(), 2u);
  const Finding& a = m.findings[0];
  EXPECT_EQ(a.phase, "port-scan");
  EXPECT_EQ(a.versions, std::vector<std::string>{"7.93"});
  EXPECT_EQ(a.ports, (std::vector<uint16_t>{8888, 31337}));
  EXPECT_EQ(a.total, 2u);
  EXPECT_TRUE(a.noise_known);
  EXPECT_EQ(a.noisy, 0u);
  EXPECT_EQ(a.sentence,
            "port scan: 7.93 sends TCP SYN probes to 8888/31337 that no other version sends — 2 "
            "packets (7.93: 2), no noise: in every run of its version and in none of another; "
            "phase noise floor ≤0.");
  EXPECT_EQ(a.anchor, "u-port-scan-1");
  const Finding& b = m.findings[1];
  EXPECT_EQ(b.phase, "service");
  EXPECT_EQ(b.payload_class, "payload");
  EXPECT_EQ(b.ports, std::vector<uint16_t>{8081});
  EXPECT_EQ(b.total, 1u);

  // Every format leads with it.
  const std::string md = report_markdown(m, 100);
  EXPECT_LT(md.find("## What differs"), md.find("## Runs"));
  EXPECT_NE(md.find("1. port scan: 7.93 sends TCP SYN probes to 8888/31337"), std::string::npos);
  const std::string html = report_html(m, 100);
  EXPECT_LT(html.find("id=\"differs\""), html.find("id=\"runs\""));
  EXPECT_NE(html.find("<a href=\"#u-port-scan-1\">packets</a>"), std::string::npos);
  EXPECT_NE(html.find("<details id=\"u-port-scan-1\" open>"), std::string::npos);
  EXPECT_EQ(report_json(m)["what_differs"][0]["ports"], (std::vector<int>{8888, 31337}));
}

// Two versions probing different ports are one finding, said as a pair; noise is told apart:
// a ping sent in one run of 7.80 only is "all noise", and it comes after the bigger finding.
TEST(WhatDiffers, PairAndNoise) {
  auto t = util::TempDir::create("findings");
  ASSERT_TRUE(t.ok()) << t.error().message;
  fs::path r = t->path() / "r";
  write_plan(r, {"7.80", "7.95"}, 2);
  for (int rep : {1, 2}) {
    ScanSpec a{"7.80", rep};
    a.extra_ports = {3007, 3013};
    a.extra_discovery = rep == 1;
    write_run(r, a);
    ScanSpec b{"7.95", rep};
    b.extra_ports = {5985, 5986};
    write_run(r, b);
  }
  Model m = model_of(r);
  ASSERT_EQ(m.findings.size(), 2u);
  EXPECT_EQ(m.findings[0].sentence,
            "port scan: 7.80 sends TCP SYN probes to 3007/3013 where 7.95 sends them to "
            "5985/5986 — 4 packets (7.80: 2, 7.95: 2), no noise: in every run of its version and "
            "in none of another; phase noise floor ≤0.");
  EXPECT_EQ(m.findings[1].phase, "discovery");
  EXPECT_EQ(m.findings[1].noisy, 1u);
  EXPECT_NE(m.findings[1].sentence.find("7.80 sends ICMP packets that no other version sends — 1 "
                                        "packet (7.80: 1), all noise"),
            std::string::npos)
      << m.findings[1].sentence;
}

/// One run of 7.80 as results_builder.h scans and one of 7.93 as `s` says, in `r`.
Model one_run_each(const fs::path& r, const ScanSpec& s) {
  write_plan(r, {"7.80", "7.93"}, 1);
  write_run(r, {"7.80", 1});
  write_run(r, s);
  return model_of(r);
}

TEST(WhatDiffers, OneRunPerVersionSaysNoiseIsUnknown) {
  auto t = util::TempDir::create("findings");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ScanSpec s{"7.93", 1};
  s.extra_ports = {31337};
  Model m = one_run_each(t->path() / "r", s);
  ASSERT_EQ(m.findings.size(), 1u);
  EXPECT_FALSE(m.findings[0].noise_known);
  EXPECT_NE(m.findings[0].sentence.find("noise unknown (a version has one run only)"),
            std::string::npos);
}

TEST(WhatDiffers, UniquePacketsCarryFrameTimeAndFilter) {
  auto t = util::TempDir::create("findings");
  ASSERT_TRUE(t.ok()) << t.error().message;
  fs::path r = t->path() / "r";
  ScanSpec s{"7.93", 1};
  s.extra_payload = "GET /x HTTP/1.0\r\nHost: a\r\n\r\n";
  Model m = one_run_each(r, s);
  const nlohmann::json j = report_json(m);
  const auto& cell = j["analysis"]["table2_fine"]["rows"][2]["inputs"]["7.93"];
  ASSERT_EQ(cell["unique"], 1) << cell.dump();
  const auto& p = cell["unique_packets"][0];
  EXPECT_EQ(p["run"], "7.93/1");
  // Frames: 4 of discovery, 80 of the port scan, the GET and its answer, then this one.
  EXPECT_EQ(p["frame"], 87);
  EXPECT_NEAR(p["time_relative"].get<double>(), 3.2, 1e-6);
  EXPECT_EQ(p["time"], "1700000003.299999000");  // as the builder wrote it, in µs
  EXPECT_EQ(p["display_filter"],
            "ip.src == 172.24.0.10 && ip.dst == 172.24.1.10 && ip.len == 72 && tcp.dstport == "
            "8081 && tcp.flags == 0x018 && tcp.payload[0:16] == "
            "47:45:54:20:2f:78:20:48:54:54:50:2f:31:2e:30:0d");
  EXPECT_EQ(p["decoded"]["kind"], "HTTP request");
  EXPECT_EQ(p["decoded"]["summary"], "GET /x HTTP/1.0 (Host: a)");
  EXPECT_EQ(p["payload_hex"].get<std::string>().substr(0, 8), "47455420");
  // The filter finds exactly that frame in Wireshark's dissector.
  if (!util::have_program("tshark")) GTEST_SKIP() << "tshark is not installed";
  auto ts = util::run_process({"tshark", "-r", (r / "7.93/1/capture.pcap").string(), "-Y",
                               p["display_filter"].get<std::string>(), "-T", "fields", "-e",
                               "frame.number"});
  ASSERT_TRUE(ts.ok()) << ts.error().message;
  EXPECT_EQ(ts->exit_code, 0) << ts->err;
  EXPECT_EQ(ts->out, "87\n");
}

}  // namespace
}  // namespace testbed::report
