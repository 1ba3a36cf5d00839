// Each scanner kind's parsers on real outputs made in the lab (fixtures/<kind>/README.md
// says how each was made): the console log as a phase timeline, the result file.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sstream>

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

std::string fixture(const std::string& kind, const std::string& file) {
  auto text = util::read_file(kFixtures + kind + "/" + file);
  EXPECT_TRUE(text) << kind << "/" << file;
  return text ? *text : "";
}

// The console log replayed through the kind's tracker, closed where the runner closed it
// (the scanner's exit, phases.json "end"), gives the runner's phases.json.
void expect_replay_matches_runner(const std::string& kind) {
  SCOPED_TRACE(kind);
  const analysis::ScannerModel& m = model_of(kind);
  auto runner = analysis::parse_phase_timeline(fixture(kind, "phases.json"), "phases.json");
  ASSERT_TRUE(runner) << runner.error().message;
  auto tracker = m.tracker();
  EXPECT_EQ(tracker->current_phase(), "");
  std::string log = fixture(kind, std::string(m.console_log));
  size_t pos = 0;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    std::string line = log.substr(pos, nl - pos);
    pos = nl == std::string::npos ? log.size() : nl + 1;
    size_t sp = line.find(' ');
    tracker->on_line(std::stod(line.substr(0, sp)), line.substr(sp + 1));
  }
  EXPECT_EQ(tracker->current_phase(), "port-scan");
  tracker->on_exit(runner->end);
  analysis::PhaseTimeline tl = tracker->timeline();
  ASSERT_EQ(tl.intervals.size(), 1u);
  ASSERT_EQ(runner->intervals.size(), 1u);
  EXPECT_EQ(tl.intervals[0].phase, analysis::Phase::kPortScan);
  EXPECT_DOUBLE_EQ(tl.intervals[0].start, runner->intervals[0].start);
  EXPECT_DOUBLE_EQ(tl.intervals[0].end, runner->intervals[0].end);
  // Replayed without the exit time (testbed analyze on a log alone), the phase ends at the
  // last line that is the scanner's own.
  auto replay = analysis::parse_console_log(m, log, std::string(m.console_log));
  ASSERT_TRUE(replay) << replay.error().message;
  ASSERT_EQ(replay->intervals.size(), 1u);
  EXPECT_DOUBLE_EQ(replay->intervals[0].start, runner->intervals[0].start);
  EXPECT_LE(replay->intervals[0].end, runner->intervals[0].end);
  EXPECT_GT(replay->intervals[0].end, replay->intervals[0].start);
}

TEST(Kinds, MasscanConsoleLogIsOnePortScanPhase) {
  expect_replay_matches_runner("masscan");
  // "Starting masscan …" precedes the scan: the phase opens at "Initiating SYN Stealth Scan".
  auto tl = analysis::parse_console_log(model_of("masscan"), fixture("masscan", "masscan.log"), "l");
  ASSERT_TRUE(tl);
  EXPECT_DOUBLE_EQ(tl->intervals[0].start, 1795993570.396027);
  EXPECT_DOUBLE_EQ(tl->intervals[0].end, 1795993576.000193);  // the last status line
  // Each countdown update is a line of its own (a lone '\r' on the PTY ends a line), and
  // the log ends below zero: the run that made it was woken (docs/findings.md "Other scanners").
  auto t = model_of("masscan").tracker();
  size_t updates = 0;
  std::istringstream log(fixture("masscan", "masscan.log"));
  for (std::string l; std::getline(log, l);) {
    updates += l.find("waiting ") != std::string::npos;
    t->on_line(0, l.substr(l.find(' ') + 1));
  }
  EXPECT_GE(updates, 10u);
  EXPECT_TRUE(t->lingering());
}

// masscan 1.3.2 may count its --wait down below zero and not exit: two seconds below
// zero its tracker says it lingers (the runner then wakes it). Nmap and ZMap never linger.
TEST(Kinds, MasscanLingersTwoSecondsPastItsCountdown) {
  auto t = model_of("masscan").tracker();
  EXPECT_FALSE(t->lingering());
  double ts = 1795984340;
  for (int left : {2, 1, 0, -1})
    t->on_line(ts++, fmt::format("rate:  0.00-kpps, 100.00% done, waiting {}-secs, found=3", left));
  EXPECT_FALSE(t->lingering());
  t->on_line(ts++, "rate:  0.00-kpps, 100.00% done, waiting -2-secs, found=3");
  EXPECT_TRUE(t->lingering());
  t->on_line(ts++, "waiting several seconds to exit...");  // no countdown: unchanged
  EXPECT_TRUE(t->lingering());
  for (const char* kind : {"nmap", "zmap"}) {
    auto other = model_of(kind).tracker();
    other->on_line(ts, "rate:  0.00-kpps, 100.00% done, waiting -9-secs, found=3");
    EXPECT_FALSE(other->lingering()) << kind;
  }
}

TEST(Kinds, ZmapConsoleLogIsOnePortScanPhase) { expect_replay_matches_runner("zmap"); }

TEST(Kinds, MasscanListOutput) {
  auto r = model_of("masscan").parse_result(fixture("masscan", "masscan.out"), "masscan.out");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->open_ports, (std::vector<std::string>{"172.24.1.10 3306/tcp", "172.24.1.10 80/tcp",
                                                     "172.24.1.10 21/tcp"}));
  EXPECT_FALSE(r->finished);  // -oL records no duration: the capture span is used
  EXPECT_DOUBLE_EQ(r->start, 1795993570);
  EXPECT_DOUBLE_EQ(r->end, 1795993570);
  auto bad = model_of("masscan").parse_result("#masscan\nopen tcp 80\n", "x.out");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("x.out:2:"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(model_of("masscan").parse_result("hello", "x.out"));
}

TEST(Kinds, ZmapCsvOutput) {
  auto r = model_of("zmap").parse_result(fixture("zmap", "zmap.csv"), "zmap.csv");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->open_ports, (std::vector<std::string>{"172.24.1.10 80/tcp"}));
  EXPECT_EQ(r->hosts_up, 1);
  EXPECT_FALSE(r->finished);
  // A RST (success 0) is no open port; a header without saddr is not ZMap's CSV.
  auto rst = model_of("zmap").parse_result(
      "saddr,sport,classification,success\n172.24.1.10,22,rst,0\n", "z.csv");
  ASSERT_TRUE(rst);
  EXPECT_TRUE(rst->open_ports.empty());
  EXPECT_FALSE(model_of("zmap").parse_result("daddr\n1.2.3.4\n", "z.csv"));
  auto ragged = model_of("zmap").parse_result("saddr,sport\n1.2.3.4\n", "z.csv");
  ASSERT_FALSE(ragged);
  EXPECT_NE(ragged.error().message.find("z.csv:2:"), std::string::npos);
}

// masscan and ZMap do one thing: every IP packet of their runs is the port scan's.
TEST(Kinds, RawScannersPutEveryPacketInThePortScan) {
  for (const char* k : {"masscan", "zmap"}) {
    auto c = model_of(k).classifier();
    analysis::PacketInfo p;
    p.ip_version = 4;
    EXPECT_EQ(c->classify(p, true), analysis::Phase::kPortScan) << k;
    EXPECT_EQ(c->classify(p, false), analysis::Phase::kPortScan) << k;
    p.ip_version = 0;
    EXPECT_EQ(c->classify(p, true), analysis::Phase::kOther) << k;
  }
}

}  // namespace
}  // namespace testbed::scanners
