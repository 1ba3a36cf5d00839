#pragma once
// Packet-derived text made inert, format by format. Payload previews, decoded fields, labels,
// paths and banners can hold any byte (a capture is attacker-controlled input, issue 27 item 9),
// so each output format gets one function that leaves no way out of the place the text is put:
//   - HTML: escape() (html.h);
//   - Markdown: md_text() for text and table cells, md_code() for a code span;
//   - CSV: csv_field() (quoting, and no cell a spreadsheet reads as a formula);
//   - JSON: json_text() dumps valid JSON whatever bytes the strings hold.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace testbed::report {

/// Length of the valid UTF-8 sequence at s[i], 0 when invalid: overlongs, surrogates, code
/// points above U+10FFFF and C0/C1 controls other than \t \n \r are invalid.
size_t utf8_len(std::string_view s, size_t i);

/// `s` as valid UTF-8 with no control characters: invalid bytes and controls become U+FFFD,
/// tab/CR/LF become a space (so the text cannot end a table row or a line).
std::string printable_utf8(std::string_view s);

/// Markdown text (mid-line: paragraphs, list items, table cells) that renders as exactly its
/// characters: the characters that start inline markup anywhere (\ ` * _ [ ] ! < > & ~: code
/// spans, emphasis, links, raw HTML, entities, GFM strikethrough) and any punctuation at the
/// start (a block marker such as # > - +, or "1. " after leading digits) backslash-escaped;
/// `|` written as the entity `&#124;` (a GFM table splits cells on a literal pipe before it
/// reads escapes, even inside a code span); line breaks as spaces; invalid UTF-8 and
/// controls as U+FFFD.
std::string md_text(std::string_view s);

/// A CommonMark code span holding `s` verbatim: the fence is one backtick longer than the
/// longest backtick run in `s`, with a space inside each end when `s` starts or ends with a
/// backtick or a space (CommonMark strips one such space from each end). Not for table cells
/// (a GFM table splits on a pipe even inside a code span): md_text there.
std::string md_code(std::string_view s);

/// One CSV field (RFC 4180): quoted when it holds `,` `"` CR or LF, quotes doubled. A field
/// starting with `=` `+` `-` `@`, a tab or a CR gets a leading `'` and is quoted (OWASP's
/// advice against CSV injection), so a spreadsheet shows it as text instead of evaluating it.
/// Invalid UTF-8 becomes U+FFFD.
std::string csv_field(std::string_view s);

/// `j` as text (indent as json::dump) that is valid JSON whatever bytes its strings hold:
/// invalid UTF-8 is replaced by U+FFFD instead of throwing.
std::string json_text(const nlohmann::json& j, int indent = 2);

}  // namespace testbed::report
