// The one capture-file reader (analysis/capture_file.h) on the committed captures: pcap and
// pcapng, micro- and nanosecond time stamps, Ethernet / SLL2 / raw IP, a file cut short
// (read up to the cut, as tshark reads it), a corrupt record, the BPF read filter and the
// time window, each checked against tshark's own reading of the same file.
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "orchestrator/analysis/capture_file.h"
#include "orchestrator/analysis/capture_writer.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/analysis/nmap_input.h"

namespace testbed::analysis {
namespace {
namespace fs = std::filesystem;

const fs::path kSource = TESTBED_SOURCE_DIR;
const fs::path kReal = kSource / "tests/analysis/data/nmap793-loopback/capture.pcap";
const fs::path kCorpus = kSource / "tests/fuzz/corpus/pcap";

struct Rec {
  uint64_t number;
  int64_t sec, nsec;
  uint32_t caplen, len;
  std::string bytes;
  bool operator==(const Rec&) const = default;
};

struct Read {
  std::vector<Rec> recs;
  CaptureFile::End end = CaptureFile::End::kNotYet;
  std::string message;
  uint64_t records = 0;
};

Read read_all(const fs::path& p, const ReadFilter& filter = {}) {
  Read r;
  auto f = CaptureFile::open(p);
  EXPECT_TRUE(f.ok()) << f.error().message;
  if (!f) return r;
  if (auto st = f->set_filter(filter); !st) ADD_FAILURE() << st.error().message;
  Frame fr;
  while (f->next(&fr))
    r.recs.push_back({fr.number, int64_t(fr.hdr.ts.tv_sec), int64_t(fr.hdr.ts.tv_usec), fr.hdr.caplen,
                      fr.hdr.len, std::string(reinterpret_cast<const char*>(fr.data), fr.hdr.caplen)});
  r.end = f->end();
  r.message = f->end_message();
  r.records = f->records();
  return r;
}

std::vector<uint64_t> numbers(const Read& r) {
  std::vector<uint64_t> n;
  for (const Rec& x : r.recs) n.push_back(x.number);
  return n;
}

// The frame numbers tshark shows for `display_filter` on `file` (all when empty).
std::vector<uint64_t> tshark_frames(const fs::path& file, const std::string& display_filter) {
  std::vector<std::string> argv = {"tshark", "-n", "-r", file.string(), "-T", "fields", "-e", "frame.number"};
  if (!display_filter.empty()) argv.insert(argv.end(), {"-Y", display_filter});
  auto r = util::run_process(argv);
  EXPECT_TRUE(r.ok()) << r.error().message;
  std::vector<uint64_t> out;
  if (!r) return out;
  std::istringstream in(r->out);
  for (uint64_t n; in >> n;) out.push_back(n);
  return out;
}

std::string cut_copy(const util::TempDir& dir, const fs::path& from, size_t drop_tail) {
  auto bytes = util::read_file(from);
  EXPECT_TRUE(bytes.ok());
  std::string s = bytes.ok() ? *bytes : std::string();
  fs::path to = dir.path() / ("cut-" + from.filename().string());
  EXPECT_TRUE(util::write_file_atomic(to, s.substr(0, s.size() - drop_tail)).ok());
  return to.string();
}

std::unique_ptr<util::TempDir> temp_dir() {
  auto d = util::TempDir::create("capture-file-test");
  EXPECT_TRUE(d.ok());
  return d.ok() ? std::make_unique<util::TempDir>(std::move(*d)) : nullptr;
}

TEST(CaptureFile, PcapPcapngMicroAndNanoGiveTheSameRecords) {
  Read us = read_all(kCorpus / "nmap793-head.pcap");
  Read ns = read_all(kCorpus / "nmap793-head-nsec.pcap");
  Read ng = read_all(kCorpus / "nmap793-head.pcapng");
  ASSERT_EQ(us.recs.size(), 40u);
  EXPECT_EQ(us.end, CaptureFile::End::kComplete);
  EXPECT_EQ(ng.end, CaptureFile::End::kComplete);
  EXPECT_EQ(ns.recs, us.recs);
  EXPECT_EQ(ng.recs, us.recs);
  // Microseconds come out as nanoseconds (tshark: frame.time_epoch of frame 1).
  auto t = util::run_process({"tshark", "-r", (kCorpus / "nmap793-head.pcap").string(), "-c", "1", "-T",
                              "fields", "-e", "frame.time_epoch"});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(std::to_string(us.recs[0].sec) + "." + fmt::format("{:09d}", us.recs[0].nsec),
            t->out.substr(0, t->out.find('\n')));
  EXPECT_EQ(us.recs[0].nsec % 1000, 0);
}

TEST(CaptureFile, LinkTypesOfTheProject) {
  for (auto [file, dlt] : {std::pair{"nmap793-head.pcap", DLT_EN10MB},
                           std::pair{"nmap793-head-sll2.pcap", DLT_LINUX_SLL2},
                           std::pair{"nmap793-head-raw.pcap", DLT_RAW}}) {
    auto f = CaptureFile::open(kCorpus / file);
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(f->link_type(), dlt) << file;
    // The analysis over each link type counts the same traffic.
    PayloadStore ps;
    auto c = analyze_capture(with_nmap(CaptureInput{"x", kCorpus / file}), AnalysisOptions{}, ps);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->decode.frames, 40u) << file;
    EXPECT_EQ(c->sent.packets + c->received.packets, 40u) << file;
    EXPECT_EQ(c->scanner.str(), "127.0.0.1") << file;
  }
}

TEST(CaptureFile, MovedReaderGoesOnWhereItWas) {
  auto a = CaptureFile::open(kReal);
  ASSERT_TRUE(a.ok());
  Frame fr;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a->next(&fr));
  CaptureFile b = std::move(*a);
  ASSERT_TRUE(b.next(&fr));
  EXPECT_EQ(fr.number, 11u);
  uint64_t n = 1;
  while (b.next(&fr)) ++n;
  EXPECT_EQ(n, 976u);
  EXPECT_EQ(b.records(), 986u);
  EXPECT_EQ(b.end(), CaptureFile::End::kComplete);
}

TEST(CaptureFile, CutShortIsReadUpToTheCutLikeTshark) {
  auto dir = temp_dir();
  ASSERT_TRUE(dir);
  struct Case {
    fs::path from;
    size_t drop;
  };
  // Cut inside the last record's data, inside a record header (the last record's data and
  // 9 of its 16 header bytes gone), and a pcapng cut inside its last block.
  auto full = read_all(kReal);
  ASSERT_EQ(full.recs.size(), 986u);
  const size_t last = 16 + full.recs.back().caplen;
  for (const Case& c : {Case{kReal, 30}, Case{kReal, last - 7}, Case{kCorpus / "nmap793-head.pcapng", 20}}) {
    std::string cut = cut_copy(*dir, c.from, c.drop);
    Read r = read_all(cut);
    EXPECT_EQ(r.end, CaptureFile::End::kCutShort) << cut << " " << r.message;
    EXPECT_NE(r.message.find("truncated"), std::string::npos) << r.message;  // libpcap's word
    EXPECT_EQ(numbers(r), tshark_frames(cut, "")) << cut;
    // Every record before the cut is the whole file's.
    Read whole = read_all(c.from);
    ASSERT_EQ(r.recs.size() + 1, whole.recs.size()) << cut;
    EXPECT_TRUE(std::equal(r.recs.begin(), r.recs.end(), whole.recs.begin()));
  }
}

TEST(CaptureFile, CorruptRecordIsAnError) {
  auto dir = temp_dir();
  ASSERT_TRUE(dir);
  auto bytes = util::read_file(kReal);
  ASSERT_TRUE(bytes.ok());
  std::string s = *bytes;
  uint32_t huge = 0x7fffffff;  // the second record's caplen (host byte order file)
  std::memcpy(s.data() + 24 + 16 + read_all(kReal).recs[0].caplen + 8, &huge, 4);
  fs::path p = dir->path() / "corrupt.pcap";
  ASSERT_TRUE(util::write_file_atomic(p, s).ok());
  Read r = read_all(p);
  EXPECT_EQ(r.recs.size(), 1u);
  EXPECT_EQ(r.end, CaptureFile::End::kError);
  EXPECT_FALSE(r.message.empty());
}

// BPF read filters pick the frames tshark's equivalent display filters pick (ICMP errors
// excluded on the tshark side: tshark also matches the packet they quote).
TEST(CaptureFile, BpfFilterPicksTsharksFrames) {
  for (auto [bpf, display] : {std::pair{"tcp", "tcp && !icmp"}, std::pair{"icmp", "icmp"},
                              std::pair{"udp", "udp && !icmp"},
                              std::pair{"tcp dst port 8080", "tcp.dstport == 8080 && !icmp"},
                              std::pair{"src host 127.0.0.1 and tcp[tcpflags] & tcp-syn != 0",
                                        "ip.src == 127.0.0.1 && tcp.flags.syn == 1 && !icmp"}}) {
    Read r = read_all(kReal, ReadFilter{bpf, {}, {}});
    EXPECT_EQ(r.end, CaptureFile::End::kComplete);
    EXPECT_EQ(r.records, 986u) << bpf;
    auto want = tshark_frames(kReal, display);
    EXPECT_FALSE(want.empty()) << bpf;
    EXPECT_EQ(numbers(r), want) << bpf;
  }
}

TEST(CaptureFile, BadBpfIsAnErrorWithPcapsMessage) {
  const char* bad = "tcp port nosuchport";
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  bpf_program prog;
  ASSERT_NE(pcap_compile(dead, &prog, bad, 1, PCAP_NETMASK_UNKNOWN), 0);
  const std::string pcap_says = pcap_geterr(dead);
  pcap_close(dead);
  auto f = CaptureFile::open(kReal);
  ASSERT_TRUE(f.ok());
  auto st = f->set_filter(ReadFilter{bad, {}, {}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(pcap_says), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find(kReal.string()), std::string::npos) << st.error().message;
}

TEST(CaptureFile, TimeWindowPicksTsharksFrames) {
  Read all = read_all(kReal);
  const double t0 = double(all.recs[0].sec) + double(all.recs[0].nsec) * 1e-9;
  auto rel = [](double s) { return TimeBound{s, true}; };
  auto abs = [](double s) { return TimeBound{s, false}; };
  // Relative, absolute, open-ended on either side.
  auto want = tshark_frames(kReal, "frame.time_relative >= 2 && frame.time_relative < 10");
  ASSERT_FALSE(want.empty());
  ASSERT_LT(want.size(), 986u);
  EXPECT_EQ(numbers(read_all(kReal, ReadFilter{"", rel(2), rel(10)})), want);
  EXPECT_EQ(numbers(read_all(kReal, ReadFilter{"", abs(t0 + 2), abs(t0 + 10)})), want);
  EXPECT_EQ(numbers(read_all(kReal, ReadFilter{"", rel(5), std::nullopt})),
            tshark_frames(kReal, "frame.time_relative >= 5"));
  EXPECT_EQ(numbers(read_all(kReal, ReadFilter{"", std::nullopt, rel(5)})),
            tshark_frames(kReal, "frame.time_relative < 5"));
  // Window and BPF together.
  EXPECT_EQ(numbers(read_all(kReal, ReadFilter{"tcp", rel(2), rel(10)})),
            tshark_frames(kReal, "frame.time_relative >= 2 && frame.time_relative < 10 && tcp && !icmp"));
}

TEST(ParseTimeBound, Forms) {
  EXPECT_EQ(*parse_time_bound("12.5"), (TimeBound{12.5, true}));
  EXPECT_EQ(*parse_time_bound("0"), (TimeBound{0, true}));
  EXPECT_EQ(*parse_time_bound("@1765134000.25"), (TimeBound{1765134000.25, false}));
  EXPECT_EQ(*parse_time_bound("2026-12-07T19:00:00Z"), (TimeBound{1796670000, false}));
  EXPECT_EQ(*parse_time_bound("2026-12-07T19:00:00.5Z"), (TimeBound{1796670000.5, false}));
  for (const char* bad : {"", "-1", "+3", "abc", "1e999", "@", "@x", "2026-12-07T19:00:00",
                          "2026-13-07T19:00:00Z", "2026-12-07T19:00:00.Z", "12s"}) {
    auto b = parse_time_bound(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.error().message.find("is not a time"), std::string::npos) << b.error().message;
  }
}

// The analysis of a cut capture: every frame before the cut, counted as in the whole file.
TEST(AnalyzeCapture, CutShortCaptureIsAnalysedUpToTheCut) {
  auto dir = temp_dir();
  ASSERT_TRUE(dir);
  std::string cut = cut_copy(*dir, kReal, 30);
  PayloadStore ps;
  auto c = analyze_capture(with_nmap(CaptureInput{"cut", cut}), AnalysisOptions{}, ps);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->decode.frames, tshark_frames(cut, "").size());
  EXPECT_EQ(c->decode.frames, 985u);
  EXPECT_EQ(c->sent.packets + c->received.packets, 985u);
  EXPECT_NE(c->cut_short.find("truncated"), std::string::npos) << c->cut_short;
  PayloadStore ps2;
  auto whole = analyze_capture(with_nmap(CaptureInput{"whole", kReal}), AnalysisOptions{}, ps2);
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->cut_short.empty());
}

// The read filter reaches Table 1: only ICMP analysed (README: ICMP 10 sent, 16 received).
TEST(AnalyzeCapture, ReadFilterAndWindowReachTable1) {
  AnalysisOptions o;
  o.read.bpf = "icmp";
  o.scanner = IpAddr::parse("127.0.0.1");  // ICMP alone does not tell the scanner
  PayloadStore ps;
  auto c = analyze_capture(with_nmap(CaptureInput{"icmp", kReal}), o, ps);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->sent.by_proto, (std::array<uint64_t, 4>{10, 0, 0, 0}));
  EXPECT_EQ(c->received.by_proto, (std::array<uint64_t, 4>{16, 0, 0, 0}));
  EXPECT_EQ(c->decode.frames, 26u);
  // A window with no packet in it: the error says the filter emptied it.
  o.scanner.reset();
  o.read = ReadFilter{"", TimeBound{1e6, true}, std::nullopt};
  auto none = analyze_capture(with_nmap(CaptureInput{"none", kReal}), o, ps);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("read filter or time window"), std::string::npos)
      << none.error().message;
}

// PcapBuffer (analysis/capture_writer.h): every record of each committed capture copied into a
// new pcap reads back the same (link type, times to the nanosecond, lengths, bytes), in
// libpcap's and tshark's reading; a nanosecond pcap comes out byte for byte as it went in.
TEST(PcapBuffer, CopiesReadBackAsTheSource) {
  auto t = util::TempDir::create("pcap-buffer");
  ASSERT_TRUE(t.ok()) << t.error().message;
  for (const char* name : {"nmap793-head.pcap", "nmap793-head-nsec.pcap", "nmap793-head-raw.pcap",
                           "nmap793-head-sll2.pcap", "nmap793-head-snap64.pcap",
                           "nmap793-head.pcapng"}) {
    SCOPED_TRACE(name);
    auto in = CaptureFile::open(kCorpus / name);
    ASSERT_TRUE(in.ok()) << in.error().message;
    PcapBuffer out(in->link_type(), in->snapshot_length());
    Frame fr;
    while (in->next(&fr)) out.add(fr);
    const fs::path copy = t->path() / (std::string(name) + ".copy.pcap");
    ASSERT_TRUE(util::write_file_atomic(copy, out.bytes()).ok());
    const Read a = read_all(kCorpus / name), b = read_all(copy);
    ASSERT_GT(a.recs.size(), 0u);
    EXPECT_EQ(b.recs, a.recs);
    EXPECT_EQ(out.records(), a.recs.size());
    auto reopened = CaptureFile::open(copy);
    ASSERT_TRUE(reopened.ok());
    EXPECT_EQ(reopened->link_type(), in->link_type());
    EXPECT_EQ(reopened->snapshot_length(), in->snapshot_length());
    EXPECT_EQ(tshark_frames(copy, ""), numbers(a));
    if (std::string(name) == "nmap793-head-nsec.pcap")
      EXPECT_TRUE(out.bytes() == util::read_file(kCorpus / name).value());
  }
}

}  // namespace
}  // namespace testbed::analysis
