// Bad captures: every way a capture file can be broken gives a clear error naming the file,
// or (for broken packets inside a readable file) a result with the problems counted —
// never a crash. The CLI test at the end checks `testbed analyze` exits 2 on bad input.
#include <gtest/gtest.h>

#include <cstring>

#include <nlohmann/json.hpp>

#include "tests/analysis/nmap_input.h"
#include "orchestrator/analysis/analyze.h"
#include "orchestrator/report/render.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/analysis/pcap_builder.h"

namespace testbed::analysis {
namespace {
namespace fs = std::filesystem;
using testing::Bytes;
using testing::PcapWriter;
using testing::Pkt;

class BadCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = util::TempDir::create("bad-capture-test");
    ASSERT_TRUE(d.ok());
    dir_ = std::make_unique<util::TempDir>(std::move(*d));
    // A good little scan: 30 SYNs from the scanner, one answer each.
    PcapWriter w(path("good.pcap"), DLT_EN10MB);
    for (uint16_t port = 1; port <= 30; ++port) {
      Pkt syn;
      syn.dport = port;
      syn.ts = 1700000000.0 + port * 0.01;
      w.add(syn);
      Pkt rst = syn;
      std::swap(rst.src, rst.dst);
      std::swap(rst.sport, rst.dport);
      rst.flags = kRst | kAck;
      rst.tcp_options = {};
      w.add(rst);
    }
    w.close();
    auto g = util::read_file(path("good.pcap"));
    ASSERT_TRUE(g.ok());
    good_ = *g;
  }
  std::string path(const std::string& name) const { return (dir_->path() / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    EXPECT_TRUE(util::write_file_atomic(path(name), bytes).ok());
    return path(name);
  }
  util::Result<CaptureAnalysis> analyze_file(const std::string& file) {
    PayloadStore ps;
    return analyze_capture(with_nmap(CaptureInput{"x", file}), AnalysisOptions{}, ps);
  }
  // The global header's 32-bit field at `off` (pcap is written in host byte order here).
  std::string with_u32(std::string s, size_t off, uint32_t v) const {
    std::memcpy(s.data() + off, &v, 4);
    return s;
  }
  std::unique_ptr<util::TempDir> dir_;
  std::string good_;
};

// Each broken file: analyze_capture fails with a message that names the file and says
// what is wrong.
struct BrokenFile {
  const char* name;
  std::string bytes;
  const char* says;  // a substring of the message
};

TEST_F(BadCaptureTest, BrokenFilesAreErrorsNamingTheFile) {
  const size_t kFirstRecord = 24;  // global header size
  std::vector<BrokenFile> cases = {
      {"zero-length.pcap", "", "cannot read capture"},
      {"header-cut.pcap", good_.substr(0, 10), "cannot read capture"},
      {"wrong-magic.pcap", with_u32(good_, 0, 0x12345678), "cannot read capture"},
      {"bad-version.pcap", with_u32(good_, 4, 0x00090009), "cannot read capture"},
      {"no-packets.pcap", good_.substr(0, kFirstRecord), "no IP traffic"},
      // A record claiming 2 GiB of data: libpcap refuses it rather than allocating.
      {"huge-caplen.pcap", with_u32(good_, kFirstRecord + 8, 0x7fffffff), "read error"},
      {"text.pcap", "GET / HTTP/1.1\r\nHost: example\r\n\r\n", "cannot read capture"},
  };
  for (const auto& c : cases) {
    std::string file = write(c.name, c.bytes);
    auto r = analyze_file(file);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_NE(r.error().message.find(file), std::string::npos)
        << c.name << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
        << c.name << ": " << r.error().message;
  }
  // A directory and a missing file.
  EXPECT_NE(analyze_file(dir_->path().string()).error().message.find("not a file"),
            std::string::npos);
  EXPECT_NE(analyze_file(path("missing.pcap")).error().message.find("does not exist"),
            std::string::npos);
}

// A file cut inside a record (an interrupted capture, a partial copy) is analysed up to the
// cut, as tshark reads it; CaptureAnalysis::cut_short keeps libpcap's message.
TEST_F(BadCaptureTest, CutFilesAreAnalysedUpToTheCut) {
  const size_t kFirstRecord = 24;
  uint32_t caplen1;  // the first record's captured length (host byte order file)
  std::memcpy(&caplen1, good_.data() + kFirstRecord + 8, 4);
  for (auto [name, bytes, frames] :
       {std::tuple{"record-header-cut.pcap", good_.substr(0, kFirstRecord + 9), 0u},
        std::tuple{"second-header-cut.pcap", good_.substr(0, kFirstRecord + 16 + caplen1 + 9), 1u},
        std::tuple{"record-data-cut.pcap", good_.substr(0, good_.size() - 7), 59u}}) {
    std::string file = write(name, bytes);
    auto r = analyze_file(file);
    if (frames == 0) {  // nothing before the cut: nothing to find the scanner by
      ASSERT_FALSE(r.ok()) << name;
      EXPECT_NE(r.error().message.find("no IP traffic"), std::string::npos) << r.error().message;
      continue;
    }
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
    EXPECT_EQ(r->decode.frames, frames) << name;
    EXPECT_NE(r->cut_short.find("truncated"), std::string::npos) << name << ": " << r->cut_short;
  }
}

TEST_F(BadCaptureTest, HugeSnaplenInTheHeaderIsHarmless) {
  // The snaplen field only bounds records; a nonsense value must neither fail a good file
  // nor make anything allocate it.
  for (uint32_t snaplen : {0u, 0x7fffffffu, 0xffffffffu}) {
    auto r = analyze_file(write("snaplen.pcap", with_u32(good_, 16, snaplen)));
    ASSERT_TRUE(r.ok()) << snaplen << ": " << r.error().message;
    EXPECT_EQ(r->decode.frames, 60u) << snaplen;
    EXPECT_EQ(r->sent.packets, 30u) << snaplen;
  }
}

TEST_F(BadCaptureTest, MalformedPacketsAreCountedNotFatal) {
  PcapWriter w(path("mixed.pcap"), DLT_EN10MB);
  Pkt good;
  good.ts = 1700000000.0;
  for (uint16_t port = 1; port <= 5; ++port) {
    good.dport = port;
    w.add(good);
  }
  Bytes f = testing::frame(DLT_EN10MB, testing::ip_packet(good), false);
  auto add = [&](Bytes b) { w.add_raw(b, 1700000001.0); };
  Bytes b = f;
  b[14] = 0x43;  // IPv4 IHL 3 (< 5)
  add(b);
  b = f;
  b[14] = 0x4f;  // IHL 15: options run past the 44-byte datagram
  add(b);
  b = f;
  b[14 + 2] = 0;  // total length 10 (< IHL)
  b[14 + 3] = 10;
  add(b);
  b = f;
  b[14] = 0x55;  // IPv5
  add(b);
  b = f;
  b[14 + 20 + 12] = 0x40;  // TCP data offset 4 (< 5)
  add(b);
  b = f;
  b[14 + 20 + 12] = 0xf0;  // TCP data offset 15: past the segment
  add(b);
  b = f;
  b.resize(14 + 20 + 10);  // TCP header cut by the capture
  add(b);
  // Malformed TCP options (the header itself is fine): MSS with length 0, then length 40.
  Pkt bad_opt = good;
  bad_opt.tcp_options = {2, 0, 5, 0xb4};
  w.add(bad_opt);
  bad_opt.tcp_options = {3, 40, 7, 1};
  w.add(bad_opt);
  // Malformed IPv4 options: an option whose length runs past the header (IHL 6).
  {
    Bytes ip = testing::ip_packet(good);
    ip[0] = 0x46;
    ip.insert(ip.begin() + 20, {0x44, 0x10, 0x05, 0x00});  // timestamp option claiming 16 bytes
    ip[2] = uint8_t((ip.size() >> 8) & 0xff);
    ip[3] = uint8_t(ip.size() & 0xff);
    add(testing::frame(DLT_EN10MB, ip, false));
  }
  w.close();
  auto r = analyze_file(path("mixed.pcap"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const DecodeCounts& d = r->decode;
  EXPECT_EQ(d.frames, 15u);
  EXPECT_EQ(d.ok, 5u + 3u);  // good ones, and the three with bad options
  EXPECT_EQ(d.malformed, 6u);
  EXPECT_EQ(d.truncated, 1u);
  EXPECT_EQ(d.bad_options, 3u);
  // The counts reach both outputs.
  AnalysisResult all;
  all.captures.push_back(*r);
  all.payloads = std::make_shared<PayloadStore>();
  EXPECT_EQ(report::capture_json(all)["captures"][0]["decode"]["bad_options"], 3);
  std::string md = report::capture_markdown(all);
  EXPECT_NE(md.find("malformed IP/TCP options"), std::string::npos) << md;
}

// `testbed analyze` on bad input: exit code 2 (kExitBadInput), a message naming the file
// (with :line for a bad Nmap log), nothing on stdout. Needs this build tree's testbed binary.
TEST_F(BadCaptureTest, AnalyzeCommandExitsTwoOnBadInput) {
  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  ASSERT_TRUE(fs::exists(bin)) << bin << " is not built: build the `testbed` target (make)";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bin.string(), "analyze"});
    auto r = util::run_process(args);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : util::ProcessResult{};
  };
  for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"empty.pcap", ""},
           {"corrupt-record.pcap", with_u32(good_, 24 + 8, 0x7fffffff)},
           {"magic.pcap", with_u32(good_, 0, 0x12345678)}}) {
    std::string file = write(name, bytes);
    auto r = run({file});
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.err;
    EXPECT_NE(r.err.find(file), std::string::npos) << name << ": " << r.err;
    EXPECT_EQ(r.out, "") << name;
  }
  // A run directory whose Nmap log has a bad line 2.
  fs::path run_dir = dir_->path() / "run" / "1";
  fs::create_directories(run_dir);
  fs::copy_file(path("good.pcap"), run_dir / "capture.pcap");
  ASSERT_TRUE(util::write_file_atomic(run_dir / "nmap.log",
                                      "1700000000.0 Starting Nmap\nnot a time stamp\n")
                  .ok());
  auto r = run({run_dir.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find((run_dir / "nmap.log").string() + ":2:"), std::string::npos) << r.err;
  // A good capture still works and prints the tables.
  auto ok = run({path("good.pcap")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // A read filter libpcap cannot compile: exit 2 with libpcap's message, nothing on stdout.
  auto bpf = run({path("good.pcap"), "--filter", "tcp port nosuchport"});
  EXPECT_EQ(bpf.exit_code, 2) << bpf.err;
  EXPECT_NE(bpf.err.find("read filter \"tcp port nosuchport\""), std::string::npos) << bpf.err;
  EXPECT_NE(bpf.err.find("nosuchport"), std::string::npos) << bpf.err;
  EXPECT_EQ(bpf.out, "");
  // Bad times and an empty window: exit 2 naming the option.
  for (auto [args, says] :
       {std::pair{std::vector<std::string>{"--from", "soon"}, "--from: \"soon\" is not a time"},
        std::pair{std::vector<std::string>{"--to", "-3"}, "--to: \"-3\" is not a time"},
        std::pair{std::vector<std::string>{"--from", "5", "--to", "2"}, "--from 5 is not before --to 2"}}) {
    args.insert(args.begin(), path("good.pcap"));
    auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << says << ": " << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  }
}

// `testbed analyze` on a capture cut inside its last record: the tables of the frames before
// the cut on stdout, a warning naming the file on stderr, exit 0 (README's exit-code table).
TEST_F(BadCaptureTest, AnalyzeCommandAnalysesACutCaptureWithAWarning) {
  fs::path bin = fs::path(TESTBED_BINARY_DIR) / "testbed";
  ASSERT_TRUE(fs::exists(bin)) << bin << " is not built: build the `testbed` target (make)";
  std::string file = write("cut.pcap", good_.substr(0, good_.size() - 7));
  auto r = util::run_process({bin.string(), "analyze", "--json", file});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_NE(r->err.find("capture " + file + " is cut short in the middle of a packet"), std::string::npos)
      << r->err;
  EXPECT_NE(r->err.find("analysed the 59 frames before the cut"), std::string::npos) << r->err;
  auto j = nlohmann::json::parse(r->out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r->out;
  EXPECT_EQ(j["captures"][0]["decode"]["frames"], 59);
}

}  // namespace
}  // namespace testbed::analysis
