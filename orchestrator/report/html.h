#pragma once
// Small HTML/SVG building blocks for the self-contained report. Every string that comes
// from a packet, a capture or a file goes through escape(): payloads are attacker-controlled
// (issue 7), so nothing derived from them may reach the page as markup.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace testbed::report {

/// Escapes & < > " ' for use in element content and quoted attribute values. Bytes that are
/// not printable ASCII or valid UTF-8 text are replaced by U+FFFD so a payload cannot smuggle
/// control characters into the page either.
std::string escape(std::string_view s);

/// A simple table: header cells and rows of cells. Cells are HTML (already escaped by the
/// caller via escape() or made of trusted literals).
struct HtmlTable {
  std::string css_class;                       ///< e.g. "num" (right-aligned numbers)
  std::string caption;                         ///< HTML
  std::vector<std::string> header;             ///< HTML
  std::vector<std::vector<std::string>> rows;  ///< HTML
  /// Columns (by index) shown as reference figures (greyed, study values).
  std::vector<size_t> reference_columns;
  std::string render() const;
};

/// One series of a bar chart.
struct BarSeries {
  std::string name;            ///< legend text (escaped when rendered)
  std::vector<double> values;  ///< one per category
};

/// A grouped vertical bar chart as inline SVG. Categories along x (labels escaped), one bar
/// per series in each group; y from 0 to the largest value, `y_label` on the axis.
struct BarChart {
  std::string title;
  std::string y_label;
  std::vector<std::string> categories;
  std::vector<BarSeries> series;
  int width = 1100, height = 320;
  /// Show every n-th category label (1 = all).
  size_t label_every = 1;
  std::string render_svg() const;
};

/// One bar of a Gantt-like timeline.
struct TimelineBar {
  std::string lane;  ///< row label (escaped)
  std::string kind;  ///< colour key (phase name; escaped)
  double start = 0;  ///< seconds from the chart's origin
  double end = 0;
  std::string tooltip;  ///< <title> text (escaped)
};

/// A Gantt-like chart: lanes top to bottom in first-seen order, bars coloured by kind, an
/// x axis in seconds from 0 to `x_max` (0 = the latest bar end).
struct TimelineChart {
  std::string title;
  std::vector<TimelineBar> bars;
  std::vector<std::string> kinds;  ///< legend order; colours follow this order
  double x_max = 0;
  int width = 1100;
  int lane_height = 26;
  std::string render_svg() const;
};

/// A categorical colour for index i (colour-blind-friendly palette, cycles).
const char* palette(size_t i);
/// A "nice" axis step for a range (1, 2, 5 × 10^k) giving about `ticks` ticks.
double nice_step(double range, int ticks);
/// Number formatting: integers with thin grouping ("15 366"), doubles with `digits`.
std::string fmt_int(unsigned long long v);
std::string fmt_num(double v, int digits = 2);

}  // namespace testbed::report
