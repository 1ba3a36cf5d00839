#include "orchestrator/report/html.h"

#include <gtest/gtest.h>

namespace testbed::report {
namespace {

TEST(Escape, MarkupBecomesText) {
  EXPECT_EQ(escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
  EXPECT_EQ(escape("\"><img src=x onerror='y'>&"),
            "&quot;&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;");
  EXPECT_EQ(escape("plain text 123"), "plain text 123");
}

TEST(Escape, Utf8KeptInvalidBytesAndControlsReplaced) {
  EXPECT_EQ(escape("caf\xc3\xa9 \xe2\x80\x94"), "caf\xc3\xa9 \xe2\x80\x94");
  EXPECT_EQ(escape(std::string("a\x00"
                               "b",
                               3)),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(escape("\xff\xfe"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(escape("\xc0\xbc"), "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '<' must not survive
  EXPECT_EQ(escape("\x1b[31m"), "\xef\xbf\xbd[31m");
}

TEST(Html, TableMarksReferenceColumns) {
  HtmlTable t;
  t.header = {"", "a", "study"};
  t.reference_columns = {2};
  t.rows = {{"row", "1", "2"}};
  std::string h = t.render();
  EXPECT_NE(h.find("<th class=\"ref\">study</th>"), std::string::npos);
  EXPECT_NE(h.find("<td class=\"ref\">2</td>"), std::string::npos);
  EXPECT_NE(h.find("<th>row</th>"), std::string::npos);
}

TEST(Html, BarChartEscapesLabelsAndScales) {
  BarChart c;
  c.title = "t<1>";
  c.categories = {"a<b", "c"};
  c.series = {{"v\"1", {10, 5}}};
  std::string s = c.render_svg();
  EXPECT_EQ(s.rfind("<svg", 0), 0u);
  EXPECT_EQ(s.find("a<b"), std::string::npos);
  EXPECT_NE(s.find("a&lt;b"), std::string::npos);
  EXPECT_NE(s.find("v&quot;1"), std::string::npos);
  // Two bars (one per category).
  size_t n = 0;
  for (size_t p = 0; (p = s.find("<rect x", p)) != std::string::npos; ++p) ++n;
  EXPECT_GE(n, 2u);
}

TEST(Html, TimelineHasOneBarPerInterval) {
  TimelineChart c;
  c.kinds = {"discovery", "port-scan"};
  c.bars = {{"7.80", "discovery", 0, 1, "x<y"},
            {"7.80", "port-scan", 1, 3, ""},
            {"7.93", "port-scan", 0.5, 2, ""}};
  std::string s = c.render_svg();
  size_t n = 0;
  for (size_t p = 0; (p = s.find("rx=\"2\"", p)) != std::string::npos; ++p) ++n;
  EXPECT_EQ(n, 3u);
  EXPECT_NE(s.find("x&lt;y"), std::string::npos);
  EXPECT_NE(s.find(">7.93<"), std::string::npos);
}

TEST(Html, NiceStepAndNumbers) {
  EXPECT_DOUBLE_EQ(nice_step(1000, 5), 200);
  EXPECT_DOUBLE_EQ(nice_step(7, 10), 1);
  EXPECT_EQ(fmt_int(15366), "15\u2009366");
  EXPECT_EQ(fmt_int(12), "12");
}

}  // namespace
}  // namespace testbed::report
