#include "orchestrator/util/build_id.h"

#include <elf.h>
#include <link.h>

#include <cstring>
#include <string>

#include <fmt/format.h>

#include "orchestrator/util/hash.h"

namespace testbed::util {
namespace {

// The NT_GNU_BUILD_ID note of the main program (the first object dl_iterate_phdr visits).
int find_build_id(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::string*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const char* p = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const char* end = p + ph.p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
      ElfW(Nhdr) n;
      std::memcpy(&n, p, sizeof n);
      const char* name = p + sizeof n;
      const char* desc = name + ((n.n_namesz + 3) & ~3u);
      if (desc + n.n_descsz > end) break;
      if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0) {
        for (unsigned k = 0; k < n.n_descsz; ++k)
          *out += fmt::format("{:02x}", static_cast<unsigned char>(desc[k]));
        return 1;
      }
      p = desc + ((n.n_descsz + 3) & ~3u);
    }
  }
  return 1;  // only the main program counts
}

}  // namespace

const std::string& build_id() {
  static const std::string id = [] {
    std::string s;
    dl_iterate_phdr(find_build_id, &s);
    if (!s.empty()) return s;
    auto h = sha256_file("/proc/self/exe");
    return h ? "sha256:" + *h : std::string();
  }();
  return id;
}

}  // namespace testbed::util
