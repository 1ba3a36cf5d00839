// The guard's reading of a command line against the real Nmap's (label `lab`: root and
// the scanner images of the cache). Each spelling runs in the image's root (chroot, no
// network: `unshare -n`) and Nmap's own message shows how it read it; the parser must read
// it the same way. Only 127.0.0.1 and -sL (list scan, no packets) are ever given.
#include <gtest/gtest.h>
#include <unistd.h>

#include "orchestrator/images/cache.h"
#include "orchestrator/scanners/nmap/parse.h"
#include "orchestrator/util/subprocess.h"

namespace testbed::scanners::nmap {
namespace {

struct Cross {
  std::vector<std::string> args;
  std::string nmap_says;  ///< part of Nmap's output
  std::string we_read;    ///< the parser's reading: "error", or "OPTION=VALUE" of the first item
};

const std::vector<Cross> kCross = {
    {{"-iLhosts.txt"}, "Failed to open input file Lhosts.txt", "-i=Lhosts.txt"},
    {{"-iR10"}, "Failed to open input file R10", "-i=R10"},
    {{"-de"}, "is ambiguous", "error"},
    {{"--prox", "x"}, "is ambiguous", "error"},
    {{"--excl", "x"}, "is ambiguous", "error"},
    {{"-proxies", "x"}, "Invalid protocol in proxy specification string: x", "--proxies=x"},
    {{"--dnsservers", "x"}, "unrecognized option", "error"},
    {{"--open=1"}, "doesn't allow an argument", "error"},
};

std::string first_reading(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"nmap"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = parse(argv);
  if (!p.errors.empty()) return "error";
  if (p.items.empty() || p.items[0].operand) return "target";
  const auto& it = p.items[0];
  return display(*it.option, it.is_long) + (it.value ? "=" + *it.value : "");
}

TEST(NmapCrossCheck, TheParserReadsLikeTheRealNmap) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chroot)";
  int checked = 0;
  for (const char* image :
       {"scanner-nmap-7.80", "scanner-nmap-7.93", "scanner-nmap-7.95", "scanner-nmap-7.991"}) {
    auto ref = images::find_image(image);
    if (!ref) continue;
    auto root = ref->rootfs;
    for (const auto& c : kCross) {
      std::vector<std::string> argv = {"unshare", "-n", "chroot", root.string(), "nmap"};
      argv.insert(argv.end(), c.args.begin(), c.args.end());
      argv.insert(argv.end(), {"-n", "-sL", "127.0.0.1"});
      auto r = util::run_process(argv, {.timeout = std::chrono::seconds(30)});
      ASSERT_TRUE(r) << r.error().message;
      std::string label = std::string(image) + ":";
      for (const auto& a : c.args) label += " " + a;
      EXPECT_NE((r->out + r->err).find(c.nmap_says), std::string::npos)
          << label << "\n" << r->out << r->err;
      EXPECT_EQ(first_reading(c.args), c.we_read) << label;
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no scanner image built (scanner-nmap-7.80/7.95)";
  std::printf("cross-checked %d spellings against the real Nmap\n", checked);
}

}  // namespace
}  // namespace testbed::scanners::nmap
