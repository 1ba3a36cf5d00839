#include "orchestrator/util/tar.h"

#include <fmt/format.h>

#include <cstring>

namespace testbed::util {

namespace {

void put(char* field, size_t width, const std::string& value) {
  std::memcpy(field, value.data(), std::min(width, value.size()));
}

// Octal number in `width` bytes: width-1 digits and a NUL.
void put_octal(char* field, size_t width, unsigned long long v) {
  put(field, width, fmt::format("{:0{}o}", v, width - 1));
}

}  // namespace

Result<std::string> make_tar(const std::vector<TarFile>& files, long mtime) {
  std::string out;
  for (const auto& f : files) {
    std::string p = f.path;
    while (!p.empty() && p[0] == '/') p.erase(0, 1);
    if (p.empty() || p.find("..") != std::string::npos)
      return fail("tar: '{}' is not a file path this archive takes", f.path);
    std::string name = p, prefix;
    if (name.size() > 100) {
      size_t cut = p.rfind('/', 155);
      if (cut == std::string::npos || p.size() - cut - 1 > 100 || cut == 0)
        return fail("tar: path '{}' is too long for ustar", f.path);
      prefix = p.substr(0, cut);
      name = p.substr(cut + 1);
    }
    char h[512] = {};
    put(h, 100, name);
    put_octal(h + 100, 8, f.mode & 07777);
    put_octal(h + 108, 8, 0);  // uid
    put_octal(h + 116, 8, 0);  // gid
    put_octal(h + 124, 12, f.content.size());
    put_octal(h + 136, 12, static_cast<unsigned long long>(mtime));
    std::memset(h + 148, ' ', 8);  // checksum field counts as spaces while summing
    h[156] = '0';                  // regular file
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    put(h + 265, 32, "root");
    put(h + 297, 32, "root");
    put(h + 345, 155, prefix);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    put(h + 148, 8, fmt::format("{:06o}", sum));
    h[154] = '\0';
    h[155] = ' ';
    out.append(h, sizeof h);
    out += f.content;
    out.append((512 - f.content.size() % 512) % 512, '\0');
  }
  out.append(1024, '\0');
  return out;
}

}  // namespace testbed::util
