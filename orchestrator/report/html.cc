#include "orchestrator/report/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "orchestrator/report/inert.h"

namespace testbed::report {

std::string escape(std::string_view s) {
  std::string o;
  o.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_len(s, i);
    if (n == 0) {
      o += "\xef\xbf\xbd";  // U+FFFD
      ++i;
      continue;
    }
    if (n == 1) {
      switch (s[i]) {
        case '&':
          o += "&amp;";
          break;
        case '<':
          o += "&lt;";
          break;
        case '>':
          o += "&gt;";
          break;
        case '"':
          o += "&quot;";
          break;
        case '\'':
          o += "&#39;";
          break;
        default:
          o += s[i];
      }
    } else {
      o.append(s.substr(i, n));
    }
    i += n;
  }
  return o;
}

const char* palette(size_t i) {
  // Okabe-Ito, reordered for contrast on white.
  static const char* kColours[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                   "#56B4E9", "#D55E00", "#999999", "#F0E442"};
  return kColours[i % (sizeof kColours / sizeof *kColours)];
}

double nice_step(double range, int ticks) {
  if (range <= 0 || ticks <= 0) return 1;
  double raw = range / ticks;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string fmt_int(unsigned long long v) {
  std::string d = std::to_string(v), o;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) o += "\u2009";  // thin space
    o += d[i];
  }
  return o;
}

std::string fmt_num(double v, int digits) { return fmt::format("{:.{}f}", v, digits); }

std::string HtmlTable::render() const {
  std::string o = fmt::format("<table class=\"{}\">", css_class);
  if (!caption.empty()) o += "<caption>" + caption + "</caption>";
  auto ref = [&](size_t c) {
    return std::find(reference_columns.begin(), reference_columns.end(), c) !=
           reference_columns.end();
  };
  if (!header.empty()) {
    o += "<thead><tr>";
    for (size_t c = 0; c < header.size(); ++c)
      o += std::string(ref(c) ? "<th class=\"ref\">" : "<th>") + header[c] + "</th>";
    o += "</tr></thead>";
  }
  o += "<tbody>";
  for (const auto& row : rows) {
    o += "<tr>";
    for (size_t c = 0; c < row.size(); ++c) {
      const char* tag = c == 0 ? "th" : "td";
      o += fmt::format("<{}{}>{}</{}>", tag, ref(c) ? " class=\"ref\"" : "", row[c], tag);
    }
    o += "</tr>";
  }
  return o + "</tbody></table>\n";
}

std::string BarChart::render_svg() const {
  const double ml = 64, mr = 16, mt = title.empty() ? 14 : 34, mb = 64;
  const double pw = width - ml - mr, ph = height - mt - mb;
  double vmax = 0;
  for (const auto& s : series)
    for (double v : s.values) vmax = std::max(vmax, v);
  double step = nice_step(vmax > 0 ? vmax : 1, 5);
  double ymax = std::max(step, std::ceil((vmax > 0 ? vmax : 1) / step) * step);
  std::string o = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"{}\">",
      width, height, width, height, escape(title));
  if (!title.empty())
    o += fmt::format("<text x=\"{}\" y=\"20\" class=\"ct\">{}</text>", ml, escape(title));
  for (double y = 0; y <= ymax + step / 2; y += step) {
    double py = mt + ph - y / ymax * ph;
    o += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>", ml,
                     ml + pw, py, py);
    o += fmt::format(
        "<text x=\"{}\" y=\"{:.1f}\" class=\"yt\">{}</text>", ml - 6, py + 4,
        y >= 1000 ? fmt_int(static_cast<unsigned long long>(y)) : fmt::format("{:g}", y));
  }
  o += fmt::format("<text transform=\"translate(14 {:.1f}) rotate(-90)\" class=\"al\">{}</text>",
                   mt + ph / 2, escape(y_label));
  size_t nc = std::max<size_t>(categories.size(), 1), ns = std::max<size_t>(series.size(), 1);
  double gw = pw / static_cast<double>(nc);
  double bw = std::max(1.0, gw * 0.8 / static_cast<double>(ns));
  for (size_t c = 0; c < categories.size(); ++c) {
    double gx = ml + gw * static_cast<double>(c) + gw * 0.1;
    for (size_t s = 0; s < series.size(); ++s) {
      double v = c < series[s].values.size() ? series[s].values[c] : 0;
      if (v <= 0) continue;
      double h = v / ymax * ph;
      o += fmt::format(
          "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" "
          "fill=\"{}\"><title>{} {}: {}</title></rect>",
          gx + bw * static_cast<double>(s), mt + ph - h, bw, h, palette(s), escape(series[s].name),
          escape(categories[c]), fmt::format("{:g}", v));
    }
    if (label_every && c % label_every == 0) {
      double lx = ml + gw * (static_cast<double>(c) + 0.5);
      o += fmt::format(
          "<text transform=\"translate({:.1f} {:.1f}) rotate(-45)\" class=\"xt\">{}</text>", lx,
          mt + ph + 12, escape(categories[c]));
    }
  }
  o += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" class=\"axis\"/>", ml, ml + pw,
                   mt + ph, mt + ph);
  // Legend, top right.
  double lx = ml + pw;
  for (size_t s = series.size(); s-- > 0;) {
    double tw = 8.0 * static_cast<double>(series[s].name.size()) + 24;
    lx -= tw;
    o += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>", lx,
                     mt - 26 + (title.empty() ? 14 : 0), palette(s));
    o += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"lg\">{}</text>", lx + 16,
                     mt - 16 + (title.empty() ? 14 : 0), escape(series[s].name));
  }
  return o + "</svg>\n";
}

std::string TimelineChart::render_svg() const {
  std::vector<std::string> lanes;
  double xmax = x_max;
  for (const auto& b : bars) {
    if (std::find(lanes.begin(), lanes.end(), b.lane) == lanes.end()) lanes.push_back(b.lane);
    xmax = std::max(xmax, b.end);
  }
  if (xmax <= 0) xmax = 1;
  const double ml = 110, mr = 20, mt = title.empty() ? 34 : 56, mb = 36;
  const double pw = width - ml - mr;
  const double ph = static_cast<double>(lanes.size()) * lane_height;
  const int height = static_cast<int>(mt + ph + mb);
  std::string o = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\" "
      "role=\"img\" aria-label=\"{}\">",
      width, height, width, height, escape(title));
  if (!title.empty())
    o += fmt::format("<text x=\"{}\" y=\"20\" class=\"ct\">{}</text>", ml, escape(title));
  // Legend.
  double lx = ml;
  for (size_t k = 0; k < kinds.size(); ++k) {
    o += fmt::format("<rect x=\"{:.1f}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>", lx,
                     mt - 24, palette(k));
    o += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"lg\">{}</text>", lx + 16, mt - 14,
                     escape(kinds[k]));
    lx += 8.0 * static_cast<double>(kinds[k].size()) + 34;
  }
  double step = nice_step(xmax, 10);
  for (double x = 0; x <= xmax + 1e-9; x += step) {
    double px = ml + x / xmax * pw;
    o += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" class=\"grid\"/>", px,
                     px, mt, mt + ph);
    o +=
        fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"xtc\">{:g} s</text>", px, mt + ph + 16, x);
  }
  for (size_t l = 0; l < lanes.size(); ++l) {
    double y = mt + static_cast<double>(l) * lane_height;
    if (l % 2)
      o += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"band\"/>", ml, y,
                       pw, lane_height);
    o += fmt::format("<text x=\"{}\" y=\"{:.1f}\" class=\"yt\">{}</text>", ml - 8,
                     y + lane_height / 2.0 + 4, escape(lanes[l]));
  }
  for (const auto& b : bars) {
    size_t l = std::find(lanes.begin(), lanes.end(), b.lane) - lanes.begin();
    size_t k = std::find(kinds.begin(), kinds.end(), b.kind) - kinds.begin();
    double x0 = ml + std::max(0.0, b.start) / xmax * pw, x1 = ml + std::max(0.0, b.end) / xmax * pw;
    double y = mt + static_cast<double>(l) * lane_height + 4;
    o += fmt::format(
        "<rect x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{}\" rx=\"2\" "
        "fill=\"{}\"><title>{}</title></rect>",
        x0, y, std::max(1.5, x1 - x0), lane_height - 8, palette(k), escape(b.tooltip));
  }
  o += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" class=\"axis\"/>", ml, ml + pw,
                   mt + ph, mt + ph);
  return o + "</svg>\n";
}

}  // namespace testbed::report
