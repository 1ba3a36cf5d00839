// Packet-derived text is inert in every output format (issue 27 item 9): Markdown code spans
// and text, CSV cells, JSON. Hostile payloads (backticks, pipes, newlines, HTML, invalid
// UTF-8, spreadsheet formulas, a TLS ClientHello and an HTTP request carrying markup) are
// written into captures here, run through `testbed report` and `testbed analyze`, and the
// Markdown is rendered by a CommonMark renderer that passes raw HTML through (Debian's
// `cmark --unsafe`): no element may come from packet bytes.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "orchestrator/report/inert.h"
#include "orchestrator/report/payload_decode.h"
#include "orchestrator/util/files.h"
#include "orchestrator/util/subprocess.h"
#include "tests/report/results_builder.h"

namespace testbed::report {
namespace {

using namespace testing;

const std::vector<std::string>& hostile() {
  static const std::vector<std::string> v = {
      "a`<img src=x onerror=alert(4)>`b|c",
      "``<script>alert(5)</script>``",
      "x|<img src=y onerror=alert(6)>|\n| row | <b>bold</b> |\r\n",
      "\\|<img src=z onerror=alert(7)>\\",
      "` <svg onload=alert(8)> `",
      "\xff\xfe<img src=q onerror=alert(9)>\xc3",
      "[link](javascript:alert(10)) ![i](x) <http://203.0.113.9/> &lt;img&gt; *em* _u_",
      "=HYPERLINK(\"http://203.0.113.9/\",\"x\")",
      "+1+cmd|' /C calc'!A0",
      "-2+3",
      "@SUM(1)",
      "\t=1",
      "# heading\n- item\n1. list\n> quote",
  };
  return v;
}

/// The tags in HTML `html` ("p", "/p", "img", …).
std::set<std::string> tags(const std::string& html) {
  std::set<std::string> out;
  static const std::regex tag(R"(<(/?[A-Za-z][A-Za-z0-9]*))");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator();
       ++it)
    out.insert((*it)[1].str());
  return out;
}

/// `cmark --unsafe` of `md` (raw HTML passes through: only escaping keeps it out).
std::string cmark(const std::string& md) {
  util::ProcessOptions o;
  o.stdin_data = md;
  auto r = util::run_process({"cmark", "--unsafe"}, o);
  EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r ? r->err : r.error().message);
  return r ? r->out : "";
}

/// Only the elements our own Markdown makes.
void expect_no_foreign_element(const std::string& html, const std::string& what) {
  static const std::set<std::string> ours = {"p",  "/p",  "h1", "/h1", "h2", "/h2", "h3", "/h3",
                                             "code", "/code", "ul", "/ul", "ol", "/ol", "li",
                                             "/li", "strong", "/strong", "br", "em", "/em"};
  for (const auto& t : tags(html)) EXPECT_TRUE(ours.count(t)) << what << ": element <" << t << ">";
  EXPECT_EQ(html.find("<img"), std::string::npos) << what;
  EXPECT_EQ(html.find("<script"), std::string::npos) << what;
  EXPECT_EQ(html.find("<svg"), std::string::npos) << what;
  EXPECT_EQ(html.find("<b>"), std::string::npos) << what;
  EXPECT_EQ(html.find("<a "), std::string::npos) << what;
}

bool have_cmark() { return fs::exists("/usr/bin/cmark"); }

TEST(InertText, CodeSpanFenceIsLongerThanAnyBacktickRun) {
  EXPECT_EQ(md_code("abc"), "`abc`");
  EXPECT_EQ(md_code("a`b"), "``a`b``");
  EXPECT_EQ(md_code("a```b``c"), "````a```b``c````");
  EXPECT_EQ(md_code("`x"), "`` `x ``");  // padded: the fence cannot merge with the text
  EXPECT_EQ(md_code("x "), "` x  `");    // CommonMark strips one space each side
  EXPECT_EQ(md_code("a\nb"), "`a b`");   // a line break cannot end the span's line
}

TEST(InertText, MarkdownTextEscapesMarkupAndPipes) {
  EXPECT_EQ(md_text("7.80"), "7.80");  // ordinary text stays readable
  EXPECT_EQ(md_text("a|b"), "a&#124;b");
  EXPECT_EQ(md_text("<img>"), "\\<img\\>");
  EXPECT_EQ(md_text("1. x"), "1\\. x");
  EXPECT_EQ(md_text("- x"), "\\- x");
  EXPECT_EQ(md_text("a\r\nb"), "a  b");
  EXPECT_EQ(md_text("\xff"), "\xef\xbf\xbd");
}

TEST(InertText, CsvCellsCannotBecomeFormulas) {
  EXPECT_EQ(csv_field("7.80"), "7.80");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("=1+1"), "\"'=1+1\"");
  EXPECT_EQ(csv_field("+1"), "\"'+1\"");
  EXPECT_EQ(csv_field("-1"), "\"'-1\"");
  EXPECT_EQ(csv_field("@SUM(1)"), "\"'@SUM(1)\"");
  EXPECT_EQ(csv_field("\t=1"), "\"'\t=1\"");
  EXPECT_EQ(csv_field("\r=1"), "\"'\r=1\"");
  EXPECT_EQ(csv_field("a\nb"), "\"a\nb\"");
  EXPECT_EQ(csv_field("\xff"), "\xef\xbf\xbd");
}

TEST(InertText, JsonStaysValidOnAnyByte) {
  nlohmann::json j = {{"s", std::string("a\xff\xfe\xc3<b>\x01")}};
  std::string text = json_text(j);
  auto back = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(back.is_discarded()) << text;
  EXPECT_EQ(back["s"], "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd<b>\x01");
}

TEST(InertText, CmarkRendersNoElementFromHostileText) {
  if (!have_cmark()) GTEST_SKIP() << "/usr/bin/cmark is not installed (make setup installs it)";
  for (const std::string& s : hostile()) {
    std::string md = "| a | " + md_text(s) + " | " + md_text(s) + " |\n|---|---|---|\n\n" +
                     "Text " + md_text(s) + " and code " + md_code(s) + " end.\n\n- " +
                     md_text(s) + "\n\n" + md_text(s) + "\n";
    expect_no_foreign_element(cmark(md), s);
  }
  // Without them, the same payload does make an element (the test can fail).
  EXPECT_NE(cmark("`a\\`<img src=x onerror=alert(4)>\\`b\\|c`\n").find("<img"), std::string::npos);
}

// ---- the same payloads through `testbed report` and `testbed analyze` -------------------

/// A TLS 1.2 ClientHello with two cipher suites and a server_name of `sni`.
std::string client_hello(const std::string& sni) {
  Bytes ext;
  put16(ext, 0);  // server_name
  put16(ext, uint16_t(sni.size() + 5));
  put16(ext, uint16_t(sni.size() + 3));
  ext.push_back(0);
  put16(ext, uint16_t(sni.size()));
  ext.insert(ext.end(), sni.begin(), sni.end());
  Bytes body;
  put16(body, 0x0303);
  body.insert(body.end(), 32, 0x11);  // random
  body.push_back(0);                  // session id
  put16(body, 4);
  put16(body, 0xc02b);
  put16(body, 0x002f);
  body.push_back(1);
  body.push_back(0);  // compression: null
  put16(body, uint16_t(ext.size()));
  body.insert(body.end(), ext.begin(), ext.end());
  Bytes hs = {1};
  hs.push_back(0);
  put16(hs, uint16_t(body.size()));
  hs.insert(hs.end(), body.begin(), body.end());
  Bytes rec = {0x16};
  put16(rec, 0x0301);
  put16(rec, uint16_t(hs.size()));
  rec.insert(rec.end(), hs.begin(), hs.end());
  return std::string(rec.begin(), rec.end());
}

std::vector<std::string> hostile_payloads() {
  std::vector<std::string> p = hostile();
  p.push_back(client_hello("<img src=s onerror=alert(11)>`|"));
  p.push_back("GET /<script>alert(12)</script> HTTP/1.0\r\nX-A: `<img src=h onerror=alert(13)>`|\r\n\r\n");
  return p;
}

/// The scan of results_builder.h plus one TCP packet per hostile payload (service phase).
void write_hostile_run(const fs::path& results, const std::string& version) {
  ScanSpec s{version, 1};
  write_run(results, s);
  auto pkts = scan_packets(s);
  uint16_t port = 9000;
  for (const std::string& payload : hostile_payloads()) {
    Pkt x;
    x.dport = port++;
    x.sport = 41100;
    x.flags = 0x18;
    x.payload = payload;
    x.ts = kT0 + 3.5 + port * 1e-4;
    pkts.push_back(x);
  }
  write_pcap(results / version / "1" / "capture.pcap", pkts);
}

/// RFC 4180 rows of `text` (quotes, doubled quotes, CR/LF inside quotes).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\n') {
      rows.emplace_back(1);
    } else {
      rows.back().back() += c;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

void expect_csv_inert(const fs::path& file) {
  auto rows = parse_csv(read_all(file));
  ASSERT_FALSE(rows.empty()) << file;
  for (size_t r = 0; r < rows.size(); ++r) {
    EXPECT_EQ(rows[r].size(), rows[0].size()) << file << " row " << r << " has a cell too many/few";
    for (const std::string& cell : rows[r]) {
      if (cell.empty()) continue;
      EXPECT_EQ(std::string("=+-@\t\r").find(cell[0]), std::string::npos)
          << file << " row " << r << ": a spreadsheet would read a formula: " << cell;
    }
  }
}

util::ProcessResult testbed(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {std::string(TESTBED_BINARY_DIR) + "/testbed"};
  argv.insert(argv.end(), args.begin(), args.end());
  util::ProcessOptions o;
  o.timeout = std::chrono::seconds(120);
  auto r = util::run_process(argv, o);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r ? *r : util::ProcessResult{};
}

TEST(HostileCapture, ReportAndAnalyzeOutputsAreInert) {
  if (!have_cmark()) GTEST_SKIP() << "/usr/bin/cmark is not installed (make setup installs it)";
  auto t = util::TempDir::create("report-hostile");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const fs::path r = t->path() / "hostile";
  const std::string odd_version = "7.93<img src=v onerror=alert(14)>`|";
  write_plan(r, {"7.80", odd_version}, 1);
  write_run(r, {"7.80", 1});
  write_hostile_run(r, odd_version);

  auto rep = testbed({"report", r.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  const std::string md = read_all(r / "report.md");
  ASSERT_NE(md.find("9000"), std::string::npos) << "the hostile packets are not in the report";
  expect_no_foreign_element(cmark(md), "report.md");
  auto json = nlohmann::json::parse(read_all(r / "report.json"), nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << "report.json is not valid JSON";
  for (const char* f : {"unique_packets.csv", "runs.csv", "table1.csv", "table2.csv",
                        "what_differs.csv", "port_usage.csv", "phases.csv"})
    expect_csv_inert(r / "csv" / f);
  const std::string html = read_all(r / "report.html");
  EXPECT_EQ(html.find("<img src="), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);

  // analyze: a capture named by hostile, non-UTF-8 bytes (its label) beside a plain one.
  const fs::path odd = t->path() / "in" / "\xff<img src=l onerror=alert(15)>`|.pcap";
  fs::create_directories(odd.parent_path());
  fs::copy_file(r / odd_version / "1" / "capture.pcap", odd);
  const std::string plain = (r / "7.80" / "1" / "capture.pcap").string();
  auto amd = testbed({"analyze", plain, odd.string()});
  ASSERT_EQ(amd.exit_code, 0) << amd.err;
  ASSERT_NE(amd.out.find("9000"), std::string::npos) << amd.out;
  expect_no_foreign_element(cmark(amd.out), "analyze Markdown");
  auto ajson = testbed({"analyze", plain, odd.string(), "--json", "--csv",
                        (t->path() / "csv").string()});
  ASSERT_EQ(ajson.exit_code, 0) << ajson.err;
  auto aj = nlohmann::json::parse(ajson.out, nullptr, false);
  ASSERT_FALSE(aj.is_discarded()) << "analyze --json is not valid JSON";
  for (const char* f : {"unique_packets.csv", "table1.csv", "table2.csv", "port_usage.csv",
                        "phases.csv"})
    expect_csv_inert(t->path() / "csv" / f);
}

TEST(PayloadDecode, ClientHelloHttpAndDnsAreDecodedPrintable) {
  analysis::PacketKey k;
  k.proto = 6;
  k.dport = 443;
  auto tls = decode_payload(k, client_hello("example\x01.test"));
  EXPECT_EQ(tls.kind, "TLS ClientHello");
  EXPECT_EQ(tls.summary,
            "TLS 1.2, 2 cipher suites (0xc02b 0x002f), 1 extensions (server_name), SNI "
            "example\\x01.test");
  // Cut anywhere, it is decoded as far as it goes, never past the bytes.
  const std::string hello = client_hello("x");
  for (size_t n = 10; n < hello.size(); ++n) {
    auto d = decode_payload(k, hello.substr(0, n));
    EXPECT_EQ(d.kind, "TLS ClientHello") << n;
    EXPECT_EQ(d.fields.value("truncated", false), true) << n;
  }
  auto http = decode_payload(k, "GET /a HTTP/1.1\r\nHost: t\r\nUser-Agent: Mozilla\r\n\r\n");
  EXPECT_EQ(http.kind, "HTTP request");
  EXPECT_EQ(http.summary, "GET /a HTTP/1.1 (Host: t; User-Agent: Mozilla)");
  k.proto = 17;
  k.dport = 53;
  const std::string dns("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                        "\x07version\x04" "bind\x00\x00\x10\x00\x03", 30);
  auto q = decode_payload(k, dns);
  EXPECT_EQ(q.kind, "DNS query");
  EXPECT_EQ(q.summary, "version.bind CH TXT");
  EXPECT_EQ(payload_class(k, ""), "empty UDP");
  EXPECT_EQ(hex_string("\x16\x03"), "1603");
}

}  // namespace
}  // namespace testbed::report
