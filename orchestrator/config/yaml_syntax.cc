#include "orchestrator/config/yaml_syntax.h"

#include <vector>

#include <fmt/format.h>

namespace testbed::config {
namespace {

struct Pos {
  size_t line = 0;
  size_t col = 0;
};

bool before(Pos a, Pos b) { return a.line < b.line || (a.line == b.line && a.col < b.col); }

struct Opener {
  char c = 0;
  Pos at;
};

// What the text holds at the stop position.
struct Scan {
  std::vector<Opener> open;             ///< flow brackets still open
  std::optional<Opener> quote;          ///< a quote still open
  std::optional<Opener> wrong_closer;   ///< a ']' or '}' that closes the other bracket, or a
                                        ///< "- " entry starting a line inside a flow...
  Opener closed_wrongly;                ///< ...of open.back() (the scan stops there)
  std::optional<Opener> long_quote;     ///< the last closed quoted string that ran over a line end
  Pos long_quote_end;
};

class Scanner {
 public:
  Scanner(std::string_view t, Pos stop) : t_(t), stop_(stop) {}

  Scan run() {
    while (i_ < t_.size() && !before(stop_, p_)) {  // up to and including the stop
      if (r_.quote) {
        quoted();
        continue;
      }
      if (p_.col == 0 && line_start()) continue;
      if (!plain() ) return r_;
    }
    return r_;
  }

 private:
  char at(size_t k) const { return k < t_.size() ? t_[k] : '\0'; }
  static bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0'; }
  void advance() {
    if (t_[i_] == '\n') {
      ++p_.line;
      p_.col = 0;
    } else {
      ++p_.col;
    }
    ++i_;
  }
  void skip_line() {
    while (i_ < t_.size() && t_[i_] != '\n') advance();
  }

  // Inside '...' or "...": find the end ('' and \" do not end it).
  void quoted() {
    const char c = t_[i_], q = r_.quote->c;
    if (q == '"' && c == '\\' && i_ + 1 < t_.size()) {
      advance();
      advance();
      return;
    }
    if (c == q && q == '\'' && at(i_ + 1) == '\'') {
      advance();
      advance();
      return;
    }
    if (c == q) {
      if (r_.quote->at.line != p_.line) {
        r_.long_quote = r_.quote;
        r_.long_quote_end = p_;
      }
      r_.quote.reset();
      value_start_ = false;
    }
    advance();
  }

  // At column 0: the lines of a block scalar (| or >) are skipped whole. True when the
  // line was consumed.
  bool line_start() {
    size_t k = i_;
    while (at(k) == ' ') ++k;
    indent_ = k - i_;
    indentation_ = true;
    if (r_.open.empty()) value_start_ = true;
    if (block_parent_ >= 0) {
      bool empty_line = at(k) == '\n' || at(k) == '\r' || k >= t_.size();
      if (empty_line || static_cast<long>(indent_) > block_parent_) {
        skip_line();
        if (i_ < t_.size()) advance();
        return true;
      }
      block_parent_ = -1;
    }
    return false;
  }

  // Outside quotes. False when a wrong closing bracket ends the scan.
  bool plain() {
    const char c = t_[i_];
    const bool flow = !r_.open.empty();
    if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
      advance();
      return true;
    }
    if (c == '#' && (i_ == 0 || blank(t_[i_ - 1]))) {
      skip_line();
      return true;
    }
    if (indentation_ && flow && c == '-' && blank(at(i_ + 1))) {
      // A block entry cannot be inside a flow: the flow above was never closed.
      r_.wrong_closer = Opener{c, p_};
      r_.closed_wrongly = r_.open.back();
      return false;
    }
    if (indentation_ && !flow && (c == '-' || c == '?') && blank(at(i_ + 1))) {
      advance();  // a sequence entry or complex key: a value starts after it
      value_start_ = true;
      return true;
    }
    indentation_ = false;
    if (value_start_ && (c == '"' || c == '\'')) {
      r_.quote = Opener{c, p_};
      advance();
      return true;
    }
    if (value_start_ && (c == '[' || c == '{')) {
      r_.open.push_back({c, p_});
      advance();
      return true;
    }
    if (flow && (c == ']' || c == '}')) {
      if (r_.open.back().c != (c == ']' ? '[' : '{')) {
        r_.wrong_closer = Opener{c, p_};
        r_.closed_wrongly = r_.open.back();
        return false;
      }
      r_.open.pop_back();
      value_start_ = false;
      advance();
      return true;
    }
    if (flow && (c == ',' || c == ':')) {
      value_start_ = true;
      advance();
      return true;
    }
    if (!flow && value_start_ && (c == '|' || c == '>')) {
      block_parent_ = static_cast<long>(indent_);
      skip_line();
      return true;
    }
    if (value_start_ && (c == '&' || c == '!' || c == '*')) {  // anchor, tag, alias
      while (i_ < t_.size() && !blank(t_[i_])) advance();
      return true;
    }
    if (!flow && c == ':' && blank(at(i_ + 1))) {
      value_start_ = true;
      advance();
      return true;
    }
    value_start_ = false;
    advance();
    return true;
  }

  std::string_view t_;
  Pos stop_;
  Pos p_;
  size_t i_ = 0;
  size_t indent_ = 0;
  bool indentation_ = true;   ///< only spaces and "- " so far on this line
  bool value_start_ = true;   ///< a quote or bracket here starts a quoted string or a flow
  long block_parent_ = -1;    ///< indentation of the line that began a block scalar
  Scan r_;
};

std::string at_str(Pos p) { return fmt::format("{}:{}", p.line + 1, p.col + 1); }

// The column of the first tab among the leading spaces and "- " of line `line`.
std::optional<size_t> indentation_tab(std::string_view text, size_t line) {
  size_t start = 0;
  for (size_t l = 0; l < line; ++l) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return std::nullopt;
    ++start;
  }
  for (size_t k = start; k < text.size(); ++k) {
    char c = text[k];
    if (c == '\t') return k - start;
    bool dash = c == '-' && k + 1 < text.size() && (text[k + 1] == ' ' || text[k + 1] == '\t');
    if (c != ' ' && !dash) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<SyntaxProblem> locate_syntax_error(std::string_view text, size_t line,
                                                 size_t column, const std::string& what) {
  const std::string parser =
      fmt::format("(the parser stopped at {}: {})", at_str({line, column}), what);
  if (auto tab = indentation_tab(text, line))
    return SyntaxProblem{line, *tab,
                         "a tab in the indentation: YAML indents with spaces only, replace it "
                         "by spaces " + parser};
  Scan s = Scanner(text, {line, column}).run();
  if (s.wrong_closer && s.wrong_closer->c == '-') {
    const Opener& o = s.closed_wrongly;
    return SyntaxProblem{o.at.line, o.at.col,
                         fmt::format("this '{}' is never closed: add '{}' (line {} starts a new "
                                     "'- ' entry inside it) {}",
                                     o.c, o.c == '[' ? ']' : '}', s.wrong_closer->at.line + 1,
                                     parser)};
  }
  if (s.wrong_closer) {
    const Opener& o = s.closed_wrongly;
    return SyntaxProblem{o.at.line, o.at.col,
                         fmt::format("this '{}' is closed by the '{}' at {}: close it with '{}' "
                                     "{}",
                                     o.c, s.wrong_closer->c, at_str(s.wrong_closer->at),
                                     o.c == '[' ? ']' : '}', parser)};
  }
  if (s.quote)
    return SyntaxProblem{s.quote->at.line, s.quote->at.col,
                         fmt::format("this {} is never closed {}", s.quote->c, parser)};
  const bool flow_error = what.find("flow") != std::string::npos;
  if (!s.open.empty() && flow_error) {
    const Opener& o = s.open.back();
    return SyntaxProblem{o.at.line, o.at.col,
                         fmt::format("this '{}' is never closed: add '{}' {}", o.c,
                                     o.c == '[' ? ']' : '}', parser)};
  }
  if (s.long_quote && s.long_quote->at.line < line)
    return SyntaxProblem{s.long_quote->at.line, s.long_quote->at.col,
                         fmt::format("the string this {} opens runs over a line end to {}: is "
                                     "its closing {} missing? {}",
                                     s.long_quote->c, at_str(s.long_quote_end), s.long_quote->c,
                                     parser)};
  return std::nullopt;
}

std::optional<SyntaxProblem> unclosed_quote(std::string_view text) {
  Scan s = Scanner(text, {SIZE_MAX, 0}).run();
  if (!s.quote) return std::nullopt;
  return SyntaxProblem{s.quote->at.line, s.quote->at.col,
                       fmt::format("this {} is never closed: the string runs to the end of the "
                                   "file and swallows every key after it",
                                   s.quote->c)};
}

}  // namespace testbed::config
