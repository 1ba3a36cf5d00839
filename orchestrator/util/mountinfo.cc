#include "orchestrator/util/mountinfo.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace testbed::util {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo (octal).
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  std::vector<MountEntry> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string f[5];
    for (auto& x : f) ls >> x;
    if (f[4].empty()) continue;
    MountEntry e;
    e.mount_point = unescape(f[4]);
    if (auto dash = line.find(" - "); dash != std::string::npos) e.super_options = line.substr(dash + 3);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<MountEntry> read_mountinfo() {
  std::ifstream in("/proc/self/mountinfo");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_mountinfo(text.str());
}

}  // namespace testbed::util
