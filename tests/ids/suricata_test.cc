// Rules checked and replayed by the sensor image's Suricata (images/sensor-suricata.yaml,
// built by the images fixture): golden rules from the committed real capture, a rejected rule
// named with Suricata's message, a synthetic unique packet's rule firing on the capture that
// has it and not on the one that lacks it, and the report section rendered in Chromium.
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "orchestrator/analysis/capture_file.h"
#include "orchestrator/ids/evaluate.h"
#include "orchestrator/ids/section.h"
#include "orchestrator/ids/signatures.h"
#include "orchestrator/report/report.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed::ids {
namespace {

using namespace report::testing;

const fs::path kReal = fs::path(TESTBED_SOURCE_DIR) / "tests/analysis/data/nmap793-loopback";
const fs::path kGolden = fs::path(TESTBED_SOURCE_DIR) / "tests/ids/golden/nmap793-loopback.rules";

class SuricataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = find_suricata();
    // Not a skip: the images fixture builds the sensor image before this test.
    ASSERT_TRUE(s.ok()) << s.error().message;
    suricata_ = *s;
    auto t = util::TempDir::create("ids-test");
    ASSERT_TRUE(t.ok());
    tmp_ = std::make_unique<util::TempDir>(std::move(*t));
  }
  report::AnalysedResults analyse(const fs::path& dir) {
    auto loaded = report::load_results(dir);
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    auto opts = loaded->options;
    return report::analyse_results(std::move(*loaded), opts,
                                   std::make_shared<analysis::PayloadStore>());
  }
  Suricata suricata_;
  std::unique_ptr<util::TempDir> tmp_;
};

/// Copies the real capture without the scanner's frames that carry NSE's user agent: a
/// "version" that does not run those scripts.
void write_without_nse(const fs::path& out) {
  auto in = analysis::CaptureFile::open(kReal / "capture.pcap");
  ASSERT_TRUE(in.ok()) << in.error().message;
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(in->link_type(), 262144, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(dead, out.c_str());
  ASSERT_NE(d, nullptr) << pcap_geterr(dead);
  analysis::Frame fr;
  while (in->next(&fr)) {
    std::string_view f(reinterpret_cast<const char*>(fr.data), fr.hdr.caplen);
    if (f.find("Nmap Scripting Engine") != std::string_view::npos) continue;
    pcap_dump(reinterpret_cast<u_char*>(d), &fr.hdr, fr.data);
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

/// A results directory of the real 7.93 capture ("7.93", two runs) and the same without NSE's
/// HTTP requests ("no-nse", two runs).
fs::path real_results(const fs::path& root) {
  fs::path r = root / "real" / "20261126T000000Z";
  write_plan(r, {"7.93", "no-nse"}, 2);
  for (const std::string v : {"7.93", "no-nse"})
    for (int rep : {1, 2}) {
      fs::path d = r / v / std::to_string(rep);
      fs::create_directories(d);
      if (v == "7.93")
        fs::copy_file(kReal / "capture.pcap", d / "capture.pcap");
      else
        write_without_nse(d / "capture.pcap");
      fs::copy_file(kReal / "nmap.log", d / "nmap.log");
      write_text(d / "manifest.json",
                 nlohmann::json{{"status", "complete"},
                                {"run", {{"label", v}, {"repetition", rep}}}}
                     .dump());
    }
  return r;
}

TEST_F(SuricataTest, SensorImageRunsSuricata7) {
  EXPECT_EQ(suricata_.version.rfind("7.", 0), 0u) << suricata_.version;
}

TEST_F(SuricataTest, RulesFromTheRealCaptureAreValidAndMatchTheGolden) {
  auto data = analyse(real_results(tmp_->path()));
  ASSERT_EQ(data.runs.size(), 4u);
  auto rules = generate_rules(data);
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  ASSERT_FALSE(rules->empty());
  for (const auto& r : *rules) EXPECT_EQ(r.version, "7.93") << "no-nse sends nothing of its own";
  auto checked = check_generated(suricata_, *rules, tmp_->path() / "check");
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  for (const auto& e : checked->rejected) ADD_FAILURE() << e.message << "\n" << e.rule;
  EXPECT_EQ(checked->accepted.size(), rules->size());
  // NSE's user agent has a ';' ("compatible; Nmap Scripting Engine"): escaped as |3B|.
  std::string text;
  for (const auto& r : checked->accepted) text += rule_text(r) + "\n";
  EXPECT_NE(text.find("|3B|"), std::string::npos) << text;
  EXPECT_NE(text.find("testbed_run 7.93/1, testbed_frame "), std::string::npos);
  if (std::getenv("TESTBED_UPDATE_GOLDEN")) write_text(kGolden, text);
  EXPECT_EQ(text, read_all(kGolden)) << "regenerate with TESTBED_UPDATE_GOLDEN=1 and review";
  // The rules file as written has the header and exactly these rules.
  const std::string file = rules_file(*checked, "real");
  EXPECT_NE(file.find("# checked by: Suricata " + suricata_.version), std::string::npos);
  EXPECT_NE(file.find(text), std::string::npos);
}

TEST_F(SuricataTest, ARejectedRuleIsNamedWithSuricatasMessage) {
  RuleSpec good;
  good.sid = 1000000;
  good.version = "7.80";
  good.phase = "port-scan";
  good.dport = 80;
  good.tcp_flags = 0x02;
  const std::string bad = "alert tcp any any -> any 80 (msg:\"bad\"; flags:Q; sid:1000001;)";
  auto c = check_rules(suricata_, {rule_text(good), bad, rule_text(good)}, tmp_->path() / "bad");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->errors.size(), 2u) << "the bad rule, and the duplicate sid of the third";
  EXPECT_EQ(c->errors[0].line, 2u);
  EXPECT_EQ(c->errors[0].rule, bad);
  EXPECT_NE(c->errors[0].message.find("flag"), std::string::npos) << c->errors[0].message;
  EXPECT_EQ(c->errors[1].line, 3u);
}

/// Two versions, two runs each; 7.93 sends one request 7.80 never sends, with every byte a
/// content string must escape.
fs::path synthetic_results(const fs::path& root) {
  fs::path r = root / "unit" / "20261126T000000Z";
  write_plan(r, {"7.80", "7.93"}, 2);
  for (int rep : {1, 2}) {
    write_run(r, ScanSpec{"7.80", rep});
    ScanSpec b{"7.93", rep};
    b.extra_payload = "PROBE \"a;b|c\\d\" \xff\xfe\r\n";
    write_run(r, b);
  }
  return r;
}

TEST_F(SuricataTest, AUniquePacketsRuleFiresWhereThePacketIsAndNowhereElse) {
  fs::path dir = synthetic_results(tmp_->path());
  auto data = analyse(dir);
  auto rules = generate_rules(data);
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  ASSERT_EQ(rules->size(), 1u);
  const RuleSpec& r = rules->front();
  EXPECT_EQ(r.version, "7.93");
  EXPECT_EQ(r.dport, 8081);
  EXPECT_NE(rule_text(r).find("content:\"PROBE |22|a|3B|b|7C|c|5C|d|22| |FF FE 0D 0A|\""),
            std::string::npos)
      << rule_text(r);
  auto checked = check_generated(suricata_, *rules, tmp_->path() / "c");
  ASSERT_TRUE(checked.ok());
  ASSERT_TRUE(checked->rejected.empty()) << checked->rejected[0].message;
  const fs::path file = tmp_->path() / "t.rules";
  write_text(file, rules_file(*checked, dir.string()));
  auto has = replay(suricata_, file, dir / "7.93/1/capture.pcap", tmp_->path() / "r1");
  ASSERT_TRUE(has.ok()) << has.error().message;
  EXPECT_EQ(has->alerts[r.sid], 1u);
  EXPECT_GT(has->packets, 0u);
  auto lacks = replay(suricata_, file, dir / "7.80/1/capture.pcap", tmp_->path() / "r2");
  ASSERT_TRUE(lacks.ok()) << lacks.error().message;
  EXPECT_EQ(lacks->alerts.count(r.sid), 0u);
  EXPECT_GT(lacks->packets, 0u);
}

TEST_F(SuricataTest, ConfusionMatrixIsLeaveOneOutAndTheSectionRendersInChromium) {
  fs::path dir = synthetic_results(tmp_->path());
  auto data = analyse(dir);
  auto ev = evaluate(suricata_, data, tmp_->path() / "ev");
  ASSERT_TRUE(ev.ok()) << ev.error().message;
  EXPECT_TRUE(ev->leave_one_out);
  ASSERT_EQ(ev->versions, (std::vector<std::string>{"7.80", "7.93"}));
  // 7.93's rule (made from its other run) fires on both 7.93 runs, on no 7.80 run.
  EXPECT_EQ(ev->fired_runs[1][1], 2u);
  EXPECT_EQ(ev->fired_runs[1][0], 0u);
  EXPECT_EQ(ev->fired_runs[0][0], 0u) << "7.80 has no unique packet";
  EXPECT_EQ(ev->classed_right(), 2u) << "7.80's runs: no rule set alerts, a tie";
  ASSERT_EQ(ev->rules.size(), 1u);
  EXPECT_DOUBLE_EQ(ev->rules[0].precision(), 1.0);
  EXPECT_TRUE(ev->everywhere().empty());

  report::ReportOptions ro;
  ro.sections.push_back(section_provider());
  auto out = report::write_report(dir, ro);
  ASSERT_TRUE(out.ok()) << out.error().message;
  auto json = nlohmann::json::parse(read_all(out->json));
  EXPECT_TRUE(json["sections"]["ids"]["leave_one_out"].get<bool>());
  EXPECT_NE(read_all(out->markdown).find("## Can an IDS tell them apart?"), std::string::npos);
  ASSERT_TRUE(fs::exists("/usr/bin/chromium")) << "install chromium (make setup)";
  auto dom = util::run_process({"/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                                "--no-first-run", "--disable-background-networking",
                                "--user-data-dir=" + (tmp_->path() / "profile").string(),
                                "--dump-dom", "file://" + fs::absolute(out->html).string()});
  ASSERT_TRUE(dom.ok());
  EXPECT_NE(dom->out.find("<h2 id=\"ids\">Can an IDS tell them apart?</h2>"), std::string::npos);
  EXPECT_NE(dom->out.find("runs of 7.93 (2)"), std::string::npos);
  EXPECT_NE(dom->out.find("Leave-one-out"), std::string::npos);
}

}  // namespace
}  // namespace testbed::ids
