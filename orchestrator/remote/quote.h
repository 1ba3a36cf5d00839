#pragma once
// Quoting for the remote POSIX shell. The SSH protocol carries a command as one string
// that the remote user's shell parses; quoting every argument in single quotes makes
// that parse yield exactly the argument vector we meant, whatever the strings hold
// (spaces, $(), backticks, ;, |, newlines, quotes), so no config string is ever
// interpreted as shell syntax.
#include <string>
#include <string_view>
#include <vector>

namespace testbed::remote {

/// `s` as one POSIX shell word: '...' with each ' written as '\'' ; "" becomes ''.
/// NUL bytes cannot be passed through a shell at all and are a caller bug (asserted).
std::string shell_quote(std::string_view s);

/// The argument vector as one command line for a POSIX shell: every word quoted.
/// argv must not be empty (asserted).
std::string shell_join(const std::vector<std::string>& argv);

}  // namespace testbed::remote
