// `testbed export` (issue 27 item 3): the pcap holds exactly the frames the report lists as
// unique for the version (report.json: run and frame number), byte for byte with their time
// stamps, in capture order, as libpcap and tshark read it; `-o -` writes the same bytes to a
// pipe; a version, repetition or phase that names nothing is one error line, exit 2, and no
// file. On the report tests' results directory (results_builder.h) and on one made of the
// committed lab captures of 7.80, 7.93 and 7.95 (tests/identify/data).
#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed {
namespace {
namespace fs = std::filesystem;
using report::testing::read_all;

util::ProcessResult run(const std::vector<std::string>& argv, const fs::path& cwd = TESTBED_SOURCE_DIR,
                        std::optional<std::string> input = std::nullopt) {
  util::ProcessOptions po;
  po.cwd = cwd;
  po.timeout = std::chrono::seconds(120);
  po.stdin_data = std::move(input);
  auto r = util::run_process(argv, po);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : util::ProcessResult{};
}

util::ProcessResult testbed(std::vector<std::string> args, const fs::path& cwd = TESTBED_SOURCE_DIR) {
  args.insert(args.begin(), (fs::path(TESTBED_BINARY_DIR) / "testbed").string());
  return run(args, cwd);
}

struct Rec {
  int64_t sec = 0, nsec = 0;
  uint32_t len = 0;
  std::string bytes;
  bool operator==(const Rec&) const = default;
};

/// Every record of `pcap` (libpcap, nanosecond time stamps), 1-based by position.
std::vector<Rec> records(const fs::path& pcap, int* dlt = nullptr) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(pcap.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  EXPECT_NE(p, nullptr) << err;
  std::vector<Rec> out;
  if (!p) return out;
  if (dlt) *dlt = pcap_datalink(p);
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1)
    out.push_back({h->ts.tv_sec, h->ts.tv_usec, h->len, std::string(reinterpret_cast<const char*>(d), h->caplen)});
  pcap_close(p);
  return out;
}

/// What report.json lists as unique for `version` in `grouping` ("table2", "table2_fine"),
/// optionally one phase: its run and the frame numbers, ascending, each once.
struct Listed {
  std::string run;
  std::vector<uint64_t> frames;
  std::vector<std::string> times;  ///< report.json "time", per frame
};
Listed listed(const fs::path& results, const std::string& version, const std::string& grouping,
              const std::string& phase = "") {
  auto j = nlohmann::json::parse(read_all(results / "report.json"));
  std::map<uint64_t, std::string> by_frame;
  Listed l;
  for (const auto& row : j["analysis"][grouping]["rows"]) {
    if (!phase.empty() && row["phase"] != phase) continue;
    const auto& cell = row["inputs"][version];
    EXPECT_EQ(cell["unique"], cell["unique_packets"].size()) << "report.json cut the list";
    for (const auto& u : cell["unique_packets"]) {
      l.run = u["run"];
      by_frame[u["frame"].get<uint64_t>()] = u["time"];
    }
  }
  for (const auto& [f, t] : by_frame) {
    l.frames.push_back(f);
    l.times.push_back(t);
  }
  return l;
}

/// The export of `version` from `results` holds exactly the listed frames of its run.
void expect_exported(const fs::path& results, const fs::path& out, const Listed& want,
                     size_t min_frames) {
  ASSERT_GE(want.frames.size(), min_frames) << "the fixture lists too few unique packets";
  int src_dlt = -1, out_dlt = -2;
  const auto src = records(results / want.run / "capture.pcap", &src_dlt);
  const auto got = records(out, &out_dlt);
  EXPECT_EQ(out_dlt, src_dlt);
  std::vector<Rec> expected;
  for (uint64_t f : want.frames) {
    ASSERT_LE(f, src.size());
    expected.push_back(src[f - 1]);
  }
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got == expected) << "the exported frames are not the listed ones";
  // tshark reads it, with the report's times.
  auto t = run({"tshark", "-n", "-r", out.string(), "-T", "fields", "-e", "frame.time_epoch"});
  EXPECT_EQ(t.exit_code, 0) << t.err;
  std::istringstream in(t.out);
  std::vector<std::string> times;
  for (std::string s; in >> s;) times.push_back(s);
  EXPECT_EQ(times, want.times);
}

/// One CSV line's fields ("…" quoting, "" inside it).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

class Export : public ::testing::Test {
 protected:
  fs::path tmp() const { return dir_.path(); }
  util::TempDir dir_ = util::TempDir::create("export-test").value();
};

// The report tests' directory: 7.93 probes two ports more and sends one more request than
// 7.80 and 7.95 (3 unique packets, in two phases).
fs::path report_fixture(const fs::path& root) {
  const fs::path r = root / "results";
  report::testing::write_report_fixture(r, "EXTRA-REQUEST 1234567890");
  report::testing::write_run(r, {"7.95", 1});
  report::testing::write_run(r, {"7.95", 2});
  return r;
}

TEST_F(Export, HoldsExactlyTheReportsUniqueFrames) {
  const fs::path r = report_fixture(tmp());
  auto rep = testbed({"report", "-q", r.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const fs::path out = tmp() / "7.93.pcap";
  auto e = testbed({"export", r.string(), "--version", "7.93", "-o", out.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(e.out, out.string() + "\n");
  const Listed want = listed(r, "7.93", "table2");
  EXPECT_EQ(want.run, "7.93/1");
  expect_exported(r, out, want, 3);
  EXPECT_NE(e.err.find("7.93/1: " + std::to_string(want.frames.size()) + " unique packets"),
            std::string::npos)
      << e.err;

  // One phase; and Table 2 by fine phase.
  const fs::path strobe = tmp() / "strobe.pcap";
  ASSERT_EQ(testbed({"export", r.string(), "--version", "7.93", "--phase", "strobe", "-o",
                     strobe.string()}).exit_code, 0);
  const Listed want_strobe = listed(r, "7.93", "table2", "strobe");
  expect_exported(r, strobe, want_strobe, 2);
  EXPECT_LT(want_strobe.frames.size(), want.frames.size());
  const fs::path fine = tmp() / "fine.pcap";
  ASSERT_EQ(testbed({"export", r.string(), "--version", "7.93", "--fine", "-o", fine.string()}).exit_code, 0);
  expect_exported(r, fine, listed(r, "7.93", "table2_fine"), 3);

  // A version with no unique packets: a valid pcap with no frames, said on stderr.
  const fs::path none = tmp() / "none.pcap";
  auto n = testbed({"export", r.string(), "--version", "7.95", "-o", none.string()});
  EXPECT_EQ(n.exit_code, 0) << n.err;
  EXPECT_NE(n.err.find("no unique packets"), std::string::npos) << n.err;
  EXPECT_TRUE(records(none).empty());
  EXPECT_EQ(fs::file_size(none), 24u);
}

TEST_F(Export, StandardOutputIsTheSameFile) {
  const fs::path r = report_fixture(tmp());
  const fs::path out = tmp() / "7.93.pcap";
  ASSERT_EQ(testbed({"export", "-q", r.string(), "--version", "7.93", "-o", out.string()}).exit_code, 0);
  auto s = testbed({"export", "-q", r.string(), "--version", "7.93", "-o", "-"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(s.out == read_all(out)) << "stdout is not the file's bytes";
  // `| tshark -r -`
  auto t = run({"tshark", "-n", "-r", "-", "-T", "fields", "-e", "frame.number"}, TESTBED_SOURCE_DIR, s.out);
  EXPECT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(t.out, "1\n2\n3\n") << "want the three unique packets of 7.93";
  // Without -o: unique-<version>.pcap in the current directory.
  auto d = testbed({"export", "-q", r.string(), "--version", "7.93"}, tmp());
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "unique-7.93.pcap\n");
  EXPECT_TRUE(read_all(tmp() / "unique-7.93.pcap") == read_all(out));
}

TEST_F(Export, WhatNamesNothingIsOneErrorLineAndNoFile) {
  const fs::path r = report_fixture(tmp());
  const fs::path out = tmp() / "x.pcap";
  auto bad = [&](std::vector<std::string> args, const std::string& want) {
    auto e = testbed(args, tmp());
    EXPECT_EQ(e.exit_code, 2) << args[3];
    EXPECT_EQ(e.err.rfind("error: ", 0), 0u) << e.err;
    EXPECT_EQ(std::count(e.err.begin(), e.err.end(), '\n'), 1) << e.err;
    EXPECT_NE(e.err.find(want), std::string::npos) << "want: " << want << "\ngot: " << e.err;
    EXPECT_FALSE(fs::exists(out));
    EXPECT_TRUE(e.out.empty()) << e.out;
  };
  bad({"export", r.string(), "--version", "7.99", "-o", out.string()},
      r.string() + ": no scanner version '7.99'; did you mean '7.93'? the versions are 7.80, 7.93, 7.95");
  bad({"export", r.string(), "--version", "nmap", "-o", out.string()},
      "no scanner version 'nmap'; the versions are 7.80, 7.93, 7.95");
  bad({"export", r.string(), "--version", "7.93", "--repetition", "3", "-o", out.string()},
      "7.93 has no repetition 3; its runs are 7.93/1 (complete), 7.93/2 (complete)");
  bad({"export", r.string(), "--version", "7.93", "--phase", "strobo", "-o", out.string()},
      "--phase 'strobo' is not a study (Table 2) phase; did you mean 'strobe'? the phases are "
      "horizontal, strobe, services, other");
  bad({"export", r.string(), "--version", "7.93", "--phase", "os", "-o", out.string()},
      "('os' is a fine phase: add --fine)");
  bad({"export", (tmp() / "nosuch").string(), "--version", "7.93", "-o", out.string()},
      "no such directory");
  // Nor a default-named file in the current directory.
  EXPECT_FALSE(fs::exists(tmp() / "unique-7.99.pcap"));
  bad({"export", r.string(), "--version", "7.99"}, "no scanner version '7.99'");
  EXPECT_FALSE(fs::exists(tmp() / "unique-7.99.pcap"));

  // A failed export leaves an older file of that name as it was; a failed write leaves none.
  ASSERT_TRUE(util::write_file_atomic(out, "older").ok());
  EXPECT_EQ(testbed({"export", r.string(), "--version", "7.99", "-o", out.string()}).exit_code, 2);
  EXPECT_EQ(read_all(out), "older");
  auto w = testbed({"export", r.string(), "--version", "7.93", "-o", (tmp() / "no/dir/x.pcap").string()});
  EXPECT_EQ(w.exit_code, 1) << w.err;
  EXPECT_FALSE(fs::exists(tmp() / "no"));
}

// Real lab traffic (payloads, the similarity exclusion, no phases.json: every packet in
// "other"): 7.80, 7.93, 7.95 × 2 runs of the identify fixtures as a results directory.
TEST_F(Export, LabCapturesOfThreeVersions) {
  const fs::path r = tmp() / "lab";
  const fs::path data = fs::path(TESTBED_SOURCE_DIR) / "tests/identify/data";
  report::testing::write_plan(r, {"7.80", "7.93", "7.95"}, 2);
  for (const std::string v : {"7.80", "7.93", "7.95"})
    for (int rep : {1, 2}) {
      report::testing::write_run(r, {v, rep});
      const fs::path d = r / v / std::to_string(rep);
      fs::remove(d / "phases.json");
      fs::copy_file(data / (v + "_" + std::to_string(rep) + ".pcap"), d / "capture.pcap",
                    fs::copy_options::overwrite_existing);
    }
  auto rep = testbed({"report", "-q", r.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  for (const std::string v : {"7.80", "7.93", "7.95"}) {
    SCOPED_TRACE(v);
    const fs::path out = tmp() / (v + ".pcap");
    auto e = testbed({"export", "-q", r.string(), "--version", v, "-o", out.string()});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    const Listed want = listed(r, v, "table2");
    expect_exported(r, out, want, 4);  // 7.80: 4, 7.93 and 7.95: 10 each
  }
  // --repetition: the version's second run against the others' first, as `testbed analyze`
  // compares the same three captures (frame numbers from its CSV).
  const fs::path out = tmp() / "7.95-2.pcap";
  auto e = testbed({"export", "-q", r.string(), "--version", "7.95", "--repetition", "2", "-o", out.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  auto a = testbed({"analyze", "-q", "--csv", (tmp() / "csv").string(),
                    (r / "7.80/1/capture.pcap").string(), (r / "7.93/1/capture.pcap").string(),
                    (r / "7.95/2/capture.pcap").string()});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  std::set<uint64_t> frames;
  std::istringstream csv(read_all(tmp() / "csv/unique_packets.csv"));
  std::string line;
  std::getline(csv, line);
  const auto head = csv_fields(line);
  ASSERT_GE(head.size(), 15u);
  ASSERT_EQ(head[2], "label");
  ASSERT_EQ(head[14], "frame");
  while (std::getline(csv, line)) {
    const auto f = csv_fields(line);
    ASSERT_GE(f.size(), 15u) << line;
    if (f[0] == "three-phase" && f[2] == "7.95/2") frames.insert(std::stoull(f[14]));
  }
  ASSERT_GE(frames.size(), 5u);
  const auto src = records(r / "7.95/2/capture.pcap");
  std::vector<Rec> expected;
  for (uint64_t f : frames) expected.push_back(src[f - 1]);
  EXPECT_TRUE(records(out) == expected) << records(out).size() << " frames, want " << expected.size();
}

/// The frame numbers tshark shows for `filter` on `pcap`.
std::vector<uint64_t> tshark_frames(const fs::path& pcap, const std::string& filter) {
  auto t = run({"tshark", "-n", "-r", pcap.string(), "-Y", filter, "-T", "fields", "-e", "frame.number"});
  EXPECT_EQ(t.exit_code, 0) << t.err;
  std::vector<uint64_t> out;
  std::istringstream in(t.out);
  for (uint64_t n; in >> n;) out.push_back(n);
  return out;
}

/// The records of `pcap` numbered `frames`.
std::vector<Rec> pick(const fs::path& pcap, const std::vector<uint64_t>& frames) {
  const auto all = records(pcap);
  std::vector<Rec> out;
  for (uint64_t f : frames) {
    EXPECT_LE(f, all.size());
    if (f <= all.size()) out.push_back(all[f - 1]);
  }
  return out;
}

// --direction all: the unique packets and the frames that answer them, as tshark finds them
// (its own dissection of the quoted header in an ICMP error included).
TEST_F(Export, DirectionAllAddsWhatAnswersThem) {
  const fs::path r = report_fixture(tmp());
  ASSERT_EQ(testbed({"report", "-q", r.string()}).exit_code, 0);
  const Listed want = listed(r, "7.93", "table2");
  const fs::path out = tmp() / "all.pcap";
  auto e = testbed({"export", r.string(), "--version", "7.93", "--direction", "all", "-o", out.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_NE(e.err.find("3 frames and 2 answering them"), std::string::npos) << e.err;
  std::string in;
  for (uint64_t f : want.frames) in += (in.empty() ? "" : ", ") + std::to_string(f);
  const fs::path src = r / want.run / "capture.pcap";
  // The fixture's target answers the SYNs to 31337 and 8888 with RSTs (to source port 40000).
  const auto frames = tshark_frames(src, "frame.number in {" + in + "} || (ip.src == 172.24.1.10 && "
                                         "ip.dst == 172.24.0.10 && tcp.srcport in {31337, 8888} && "
                                         "tcp.dstport == 40000)");
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_TRUE(records(out) == pick(src, frames));
  auto bad = testbed({"export", r.string(), "--version", "7.93", "--direction", "both", "-o", out.string()});
  EXPECT_EQ(bad.exit_code, 2);
}

// The same on a real Nmap 7.93 -A scan of a loopback address (tests/analysis/data): version
// "full" is that capture, version "less" the same without the scanner's ICMP, UDP and port
// 8080 packets, so full's unique packets are its OS-detection echo requests and UDP probe and
// its connections to the HTTP server on 8080; their answers are echo replies, ICMP port
// unreachables quoting the UDP probe and the server's side of those connections.
TEST_F(Export, DirectionAllOnARealScan) {
  const fs::path real = fs::path(TESTBED_SOURCE_DIR) / "tests/analysis/data/nmap793-loopback/capture.pcap";
  const fs::path r = tmp() / "loopback";
  report::testing::write_plan(r, {"full", "less"}, 1);
  for (const std::string v : {"full", "less"}) {
    report::testing::write_run(r, {v, 1});
    const fs::path d = r / v / "1";
    fs::remove(d / "phases.json");
    auto m = nlohmann::json::parse(read_all(d / "manifest.json"));
    m["lab"]["scanner_address"] = "127.0.0.1";
    report::testing::write_text(d / "manifest.json", m.dump(2));
  }
  fs::copy_file(real, r / "full/1/capture.pcap", fs::copy_options::overwrite_existing);
  auto cut = run({"tshark", "-n", "-r", real.string(), "-F", "pcap", "-w", (r / "less/1/capture.pcap").string(),
                  "-Y", "!(ip.src == 127.0.0.1 && (icmp || udp || tcp.dstport == 8080))"});
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  ASSERT_EQ(testbed({"report", "-q", r.string()}).exit_code, 0);
  const Listed want = listed(r, "full", "table2");
  ASSERT_GE(want.frames.size(), 5u);

  const fs::path sent = tmp() / "sent.pcap", all = tmp() / "all.pcap";
  ASSERT_EQ(testbed({"export", "-q", r.string(), "--version", "full", "-o", sent.string()}).exit_code, 0);
  expect_exported(r, sent, want, 5);
  ASSERT_EQ(testbed({"export", "-q", r.string(), "--version", "full", "--direction", "all", "-o",
                     all.string()}).exit_code, 0);
  // tshark's answer: per exported probe, what comes back to 127.0.0.1 after it.
  std::string listed_frames;
  for (uint64_t f : want.frames) listed_frames += (listed_frames.empty() ? "" : ", ") + std::to_string(f);
  auto t = run({"tshark", "-n", "-r", real.string(), "-Y", "frame.number in {" + listed_frames + "}", "-T",
                "fields", "-E", "separator=,", "-e", "frame.number", "-e", "ip.proto", "-e", "tcp.srcport",
                "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport", "-e", "icmp.type", "-e",
                "icmp.ident", "-e", "icmp.seq"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  std::map<uint64_t, std::vector<std::string>> by_frame;  // proto, ports, ICMP type, ident, seq
  std::istringstream lines(t.out);
  for (std::string l; std::getline(lines, l);) {
    auto x = csv_fields(l);
    ASSERT_EQ(x.size(), 9u) << l;
    by_frame[std::stoull(x[0])] = std::vector<std::string>(x.begin() + 1, x.end());
  }
  ASSERT_EQ(by_frame.size(), want.frames.size());
  const auto fields = [&](uint64_t f) { return by_frame[f]; };
  // An ICMP error quotes the probe: tshark's tcp/udp fields are then the quoted header's.
  const std::string kIcmpError = "icmp.type in {3, 4, 5, 11, 12}";
  std::string filter;
  size_t tcp = 0, udp = 0, icmp = 0;
  for (uint64_t f : want.frames) {
    const auto x = fields(f);
    ASSERT_EQ(x.size(), 8u);
    std::string answer;
    const std::string after = "frame.number > " + std::to_string(f) + " && ip.dst == 127.0.0.1 && ";
    if (x[0] == "6") {
      answer = after + "((!icmp && tcp.srcport == " + x[2] + " && tcp.dstport == " + x[1] + ") || (" +
               kIcmpError + " && tcp.srcport == " + x[1] + " && tcp.dstport == " + x[2] + "))";
      ++tcp;
    } else if (x[0] == "17") {
      answer = after + "((" + kIcmpError + " && udp.srcport == " + x[3] + " && udp.dstport == " + x[4] +
               ") || (!icmp && udp.srcport == " + x[4] + " && udp.dstport == " + x[3] + "))";
      ++udp;
    } else if (x[0] == "1" && x[5] == "8") {
      answer = after + "icmp.type == 0 && icmp.ident == " + x[6] + " && icmp.seq == " + x[7];
      ++icmp;
    }
    filter += (filter.empty() ? "" : " || ") + ("frame.number == " + std::to_string(f)) +
              (answer.empty() ? "" : " || (" + answer + ")");
  }
  EXPECT_GT(tcp, 0u);
  EXPECT_GT(udp, 0u);
  EXPECT_GT(icmp, 0u);
  const auto frames = tshark_frames(real, filter);
  EXPECT_GT(frames.size(), want.frames.size() + 5);
  const auto got = records(all);
  EXPECT_EQ(got.size(), frames.size());
  EXPECT_TRUE(got == pick(real, frames)) << "the answers are not tshark's";
}

}  // namespace
}  // namespace testbed
