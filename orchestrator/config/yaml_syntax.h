#pragma once
// Where a YAML syntax error starts. yaml-cpp notices an unclosed '{' or '[' where the flow
// should have ended (often lines later), takes a quote that is never closed for a string
// running to the end of the file, and calls a tab in the indentation an "illegal map value"
// at the key after it. A light scan of the text (quotes, flow brackets, comments, block
// scalars, indentation) finds the character that started the trouble.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace testbed::config {

/// A problem at a 0-based line and column (as YAML::Mark counts them).
struct SyntaxProblem {
  size_t line = 0;
  size_t column = 0;
  std::string message;
};

/// The start of the problem yaml-cpp reported at 0-based (line, column) with `what`: a tab
/// in the indentation of that line, a bracket or quote still open there (or closed by the
/// wrong bracket before it), or a quoted string that ran over line ends up to there. The
/// message names the character and ends with yaml-cpp's own words and position.
/// nullopt when the scan finds nothing more precise than yaml-cpp.
std::optional<SyntaxProblem> locate_syntax_error(std::string_view text, size_t line,
                                                 size_t column, const std::string& what);

/// A quote yaml-cpp accepts but that is never closed (the string would run to the end of
/// the file, swallowing every key after it).
std::optional<SyntaxProblem> unclosed_quote(std::string_view text);

}  // namespace testbed::config
