// The Nmap command line read as getopt_long_only reads it with Nmap's option table.
#include "orchestrator/scanners/nmap/parse.h"

#include <gtest/gtest.h>

namespace testbed::scanners::nmap {
namespace {

std::string show(const Parsed& p) {
  std::string s;
  for (const auto& it : p.items) {
    if (!s.empty()) s += " | ";
    if (it.operand) {
      s += "target " + it.spelling;
      continue;
    }
    s += display(*it.option, it.is_long);
    if (it.value) s += "=" + *it.value;
  }
  for (const auto& e : p.errors) s += (s.empty() ? "" : " | ") + std::string("error@") + std::to_string(e.index);
  return s;
}

std::string read(std::vector<std::string> args) {
  args.insert(args.begin(), "nmap");
  return show(parse(args));
}

TEST(NmapParse, ReadsLikeGetoptLongOnly) {
  // Short options: attached or separate values, bundles ending in a value.
  EXPECT_EQ(read({"-S10.9.9.9"}), "-S=10.9.9.9");
  EXPECT_EQ(read({"-S", "10.9.9.9"}), "-S=10.9.9.9");
  EXPECT_EQ(read({"-nvS10.9.9.9"}), "-n | -v=S10.9.9.9");  // v takes an optional value
  EXPECT_EQ(read({"-nAS", "10.9.9.9"}), "-n | -A | -S=10.9.9.9");
  EXPECT_EQ(read({"-Pn", "-p80"}), "-P=n | -p=80");
  EXPECT_EQ(read({"-v", "x"}), "-v | target x");  // optional values only attached
  // Long options with --, with one dash, with = or the next argument, abbreviated.
  EXPECT_EQ(read({"--dns-servers=1.1.1.1"}), "--dns-servers=1.1.1.1");
  EXPECT_EQ(read({"--dns", "1.1.1.1"}), "--dns-servers=1.1.1.1");
  EXPECT_EQ(read({"-dns-servers", "1.1.1.1"}), "--dns-servers=1.1.1.1");
  EXPECT_EQ(read({"-proxies", "http://h:1"}), "--proxies=http://h:1");
  EXPECT_EQ(read({"-excludef", "f"}), "--excludefile=f");
  EXPECT_EQ(read({"--exclude", "x"}), "--exclude=x");  // an exact name beats longer ones
  EXPECT_EQ(read({"-iL", "f"}), "--iL=f");
  EXPECT_EQ(read({"-iLf"}), "-i=Lf");  // not a long option: -i with value "Lf"
  EXPECT_EQ(read({"-sI", "z"}), "--sI=z");
  EXPECT_EQ(read({"-sS"}), "-s=S");
  EXPECT_EQ(read({"-vv"}), "--vv");
  EXPECT_EQ(read({"-vvv"}), "-v=vv");
  EXPECT_EQ(read({"-oX", "-"}), "--oX=-");  // a required value is taken whatever it is
  EXPECT_EQ(read({"-eth0"}), "-e=th0");
  EXPECT_EQ(read({"-exclude", "x"}), "--exclude=x");
  // "--" ends the options; "-" alone is a target.
  EXPECT_EQ(read({"-n", "--", "-S", "x"}), "-n | target -S | target x");
  EXPECT_EQ(read({"-"}), "target -");
}

TEST(NmapParse, RefusesWhatGetoptRefuses) {
  EXPECT_EQ(read({"--prox", "x"}), "target x | error@1");  // proxies or proxy
  EXPECT_EQ(read({"-de"}), "error@1");                      // debug, defeat-…, deprecated-…
  EXPECT_EQ(read({"--open=1"}), "error@1");                 // takes no value
  EXPECT_EQ(read({"-S"}), "error@1");                       // needs one
  EXPECT_EQ(read({"-x"}), "error@1");
  EXPECT_EQ(read({"-nx"}), "-n | error@1");
  auto p = parse({"nmap", "--dnsservers", "x"});
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_NE(p.errors[0].message.find("did you mean '--dns-servers'?"), std::string::npos)
      << p.errors[0].message;
}

// One table serves every Nmap version the study runs: the options added after 7.80 must
// not be a prefix of another option, or an abbreviation could mean something else to an
// older Nmap than it means to the guard.
TEST(NmapParse, LaterOptionsDoNotChangeOlderAbbreviations) {
  for (std::string_view added : {"unique", "discovery-ignore-rst"}) {
    for (const auto& o : long_options())
      EXPECT_FALSE(o.name != added && o.name.substr(0, added.size()) == added) << o.name;
  }
}

}  // namespace
}  // namespace testbed::scanners::nmap
