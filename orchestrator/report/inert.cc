#include "orchestrator/report/inert.h"

namespace testbed::report {

namespace {
constexpr const char* kReplacement = "\xef\xbf\xbd";  // U+FFFD

bool ascii_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}
}  // namespace

size_t utf8_len(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return (b >= 0x20 && b != 0x7f) || b == '\t' || b == '\n' || b == '\r' ? 1 : 0;
  size_t n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
  if (n == 0 || b > 0xf4 || i + n > s.size()) return 0;
  uint32_t cp = b & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
    return 0;
  return n;
}

std::string printable_utf8(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_len(s, i);
    if (n == 0) {
      o += kReplacement;
      ++i;
    } else if (n == 1 && (s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
      o += ' ';
      ++i;
    } else {
      o.append(s.substr(i, n));
      i += n;
    }
  }
  return o;
}

std::string md_text(std::string_view s) {
  const std::string t = printable_utf8(s);
  // Where a digit run at the start ends: "1." or "1)" there would start an ordered list.
  size_t digits = 0;
  while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
  std::string o;
  for (size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '|') {
      o += "&#124;";
      continue;
    }
    // Inline markup anywhere; any punctuation at the start (a block marker: # > - + = * …).
    const bool inline_markup = std::string_view("\\`*_[]!<>&~").find(c) != std::string_view::npos;
    const bool list_marker = digits > 0 && i == digits && (c == '.' || c == ')') &&
                             (i + 1 == t.size() || t[i + 1] == ' ');
    if (inline_markup || list_marker || (i == 0 && ascii_punct(c))) o += '\\';
    o += c;
  }
  return o;
}

std::string md_code(std::string_view s) {
  std::string body = printable_utf8(s);
  size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`' ||
                                     body.front() == ' ' || body.back() == ' ');
  const char* sp = pad ? " " : "";
  return fence + sp + body + sp + fence;
}

std::string csv_field(std::string_view raw) {
  std::string s;
  for (size_t i = 0; i < raw.size();) {  // valid UTF-8 out; CR/LF/tab kept (quoted below)
    size_t n = utf8_len(raw, i);
    if (n == 0) {
      s += kReplacement;
      ++i;
    } else {
      s.append(raw.substr(i, n));
      i += n;
    }
  }
  const bool formula = !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
                                      s[0] == '\t' || s[0] == '\r');
  if (!formula && s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string o = formula ? "\"'" : "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace testbed::report
