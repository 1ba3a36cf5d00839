#include "orchestrator/config/yaml_reader.h"

#include <gtest/gtest.h>

namespace testbed::config {
namespace {

TEST(YamlReader, SyntaxErrorHasFileLineCol) {
  auto r = load_yaml_string("a: 1\nb: [1, 2\n", "x.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("x.yaml:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("syntax"), std::string::npos);
}

TEST(YamlReader, EmptyFileRefused) {
  EXPECT_FALSE(load_yaml_string("", "e.yaml").ok());
}

TEST(YamlReader, TypedFieldsAndUnknownKeySuggestion) {
  auto n = load_yaml_string("name: lab\ncount: three\nscaners: [a]\n", "t.yaml");
  ASSERT_TRUE(n.ok());
  Diagnostics d;
  MapReader r(*n, "t.yaml", "experiment", &d);
  std::string name;
  int count = 7;
  std::vector<std::string> scanners;
  EXPECT_TRUE(r.get("name", &name, true));
  EXPECT_FALSE(r.get("count", &count));
  EXPECT_FALSE(r.get("scanners", &scanners));
  r.finish();
  EXPECT_EQ(name, "lab");
  EXPECT_EQ(count, 7);  // untouched on error
  ASSERT_EQ(d.errors().size(), 2u);
  EXPECT_EQ(d.errors()[0], "t.yaml:2:8: 'count' in experiment must be an integer, not 'three'");
  EXPECT_EQ(d.errors()[1], "t.yaml:3:1: unknown key 'scaners' in experiment (did you mean 'scanners'?)");
  EXPECT_FALSE(d.status().ok());
}

TEST(YamlReader, RequiredAndEnum) {
  auto n = load_yaml_string("backend: lxd\n", "t.yaml");
  ASSERT_TRUE(n.ok());
  Diagnostics d;
  MapReader r(*n, "t.yaml", "topology", &d);
  std::string name, backend;
  r.get("name", &name, true);
  r.get_enum("backend", &backend, {"lxc", "kvm"});
  r.finish();
  ASSERT_EQ(d.errors().size(), 2u);
  EXPECT_NE(d.errors()[0].find("needs key 'name'"), std::string::npos);
  EXPECT_NE(d.errors()[1].find("did you mean 'lxc'"), std::string::npos);
  EXPECT_NE(d.errors()[1].find("t.yaml:1:10"), std::string::npos) << d.errors()[1];
}

TEST(YamlReader, NotAMapping) {
  auto n = load_yaml_string("- a\n- b\n", "l.yaml");
  ASSERT_TRUE(n.ok());
  Diagnostics d;
  MapReader r(*n, "l.yaml", "recipe", &d);
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(d.errors().size(), 1u);
}

TEST(YamlReader, Nearest) {
  EXPECT_EQ(nearest("scaners", {"scanners", "targets"}), "scanners");
  EXPECT_EQ(nearest("zzzzzz", {"scanners", "targets"}), "");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("7.59", "7.95"), 1u);  // a swap is one edit
  EXPECT_EQ(edit_distance("7.59", "7.80"), 2u);
  EXPECT_EQ(nearest("scanner-nmap-7.59", {"scanner-nmap-7.80", "scanner-nmap-7.95"}),
            "scanner-nmap-7.95");
}


// Issue 27: a syntax error is located where it starts, not where yaml-cpp gave up.
std::string error_of(const std::string& text) {
  auto r = load_yaml_string(text, "x.yaml");
  return r.ok() ? "" : r.error().message;
}

TEST(YamlSyntax, UnclosedBraceIsLocatedAtTheBrace) {
  // yaml-cpp says "end of map flow not found" at 4:5, the next entry.
  EXPECT_EQ(error_of("name: x\nscanners:\n  - {label: a, image: b\n  - {label: c, image: d}\n"
                     "command: [a]\n"),
            "x.yaml:3:5: YAML syntax error: this '{' is never closed: add '}' (line 4 starts a "
            "new '- ' entry inside it) (the parser stopped at 4:5: end of map flow not found)");
}

TEST(YamlSyntax, UnclosedBracketAtTheEndOfTheFile) {
  EXPECT_EQ(error_of("name: broken\nscanners: [\n"),
            "x.yaml:2:11: YAML syntax error: this '[' is never closed: add ']' (the parser "
            "stopped at 3:1: end of sequence flow not found)");
}

TEST(YamlSyntax, BracketClosedByTheOtherKind) {
  EXPECT_EQ(error_of("a: [1, {b: 2]\nc: 1\n"),
            "x.yaml:1:8: YAML syntax error: this '{' is closed by the ']' at 1:13: close it "
            "with '}' (the parser stopped at 1:13: illegal flow end)");
}

TEST(YamlSyntax, UnclosedQuoteIsRefusedAtTheQuote) {
  // yaml-cpp accepts it: the string runs to the end of the file, swallowing the keys.
  EXPECT_EQ(error_of("name: \"x\nscanners:\n  - {label: a, image: b}\nrepetitions: 2\n"),
            "x.yaml:1:7: YAML syntax error: this \" is never closed: the string runs to the "
            "end of the file and swallows every key after it");
  EXPECT_EQ(error_of("name: x\ncommand: [a, 'b\nrepetitions: 2\n").substr(0, 54),
            "x.yaml:2:14: YAML syntax error: this ' is never closed");
  // Quotes inside plain scalars, comments and block scalars open nothing.
  EXPECT_EQ(error_of("a: it's\n# don't\nb: |\n  \"x\n  'y\nc: {d: \"e\"}  # f\"\n"), "");
}

TEST(YamlSyntax, StringOverALineEndBeforeTheError) {
  std::string e = error_of("name: \"x\nscanners:\n  - {label: \"7.80\", image: b}\n");
  EXPECT_EQ(e.rfind("x.yaml:1:7: YAML syntax error: the string this \" opens runs over a line "
                    "end to 3:13: is its closing \" missing?", 0),
            0u)
      << e;
}

TEST(YamlSyntax, TabInTheIndentationIsNamed) {
  // yaml-cpp: "illegal map value" at 3:9.
  EXPECT_EQ(error_of("name: x\ncapture:\n\tsnaplen: 1\n"),
            "x.yaml:3:1: YAML syntax error: a tab in the indentation: YAML indents with spaces "
            "only, replace it by spaces (the parser stopped at 3:9: illegal map value)");
  EXPECT_EQ(error_of("name: x\nscanners:\n  -\tlabel: a\n    image: b\n").substr(0, 57),
            "x.yaml:3:4: YAML syntax error: a tab in the indentation: ");
  EXPECT_EQ(error_of("name:\tx\n"), "") << "a tab between key and value is fine";
}

TEST(YamlReader, DuplicateKeysRefusedWithBothLocations) {
  EXPECT_EQ(error_of("name: x\nrepetitions: 1\nrepetitions: 3\n"),
            "x.yaml:3:1: duplicate key 'repetitions': it is also at x.yaml:2:1 (YAML would keep "
            "one of them silently); remove one");
  EXPECT_EQ(error_of("a:\n  - {b: 1, c: 2, b: 3}\n"),
            "x.yaml:2:18: duplicate key 'b': it is also at x.yaml:2:6 (YAML would keep one of "
            "them silently); remove one");
  EXPECT_EQ(error_of("a: {b: 1}\nc: {b: 1}\n"), "") << "equal keys of different maps";
}

TEST(YamlReader, ListGivenAsOneStringIsRefusedWithTheListItMeant) {
  auto n = load_yaml_string("command: \"nmap -T4 -A -v -oX {xml} {targets}\"\nt: 10.0.0.1\n"
                            "m: {a: b}\n",
                            "x.yaml");
  ASSERT_TRUE(n.ok());
  Diagnostics d;
  MapReader r(*n, "x.yaml", "experiment", &d);
  std::vector<std::string> v;
  EXPECT_FALSE(r.get("command", &v));
  EXPECT_FALSE(r.get("t", &v));
  EXPECT_FALSE(r.get("m", &v));
  EXPECT_TRUE(v.empty());
  ASSERT_EQ(d.errors().size(), 3u);
  EXPECT_EQ(d.errors()[0],
            "x.yaml:1:10: 'command' in experiment must be a list of strings, not a single "
            "string: write [nmap, -T4, -A, -v, -oX, \"{xml}\", \"{targets}\"]");
  EXPECT_EQ(d.errors()[1],
            "x.yaml:2:4: 't' in experiment must be a list of strings, not a single value: "
            "write [10.0.0.1]");
  EXPECT_EQ(d.errors()[2], "x.yaml:3:4: 'm' in experiment must be a list of strings, not a mapping");
}

TEST(YamlReader, WhereOfNeverThrows) {
  auto n = load_yaml_string("a: text\nb: [x, y]\nc: {d: 1}\n", "x.yaml");
  ASSERT_TRUE(n.ok());
  Diagnostics d;
  MapReader r(*n, "x.yaml", "experiment", &d);
  EXPECT_EQ(r.where_of("a", 0), "x.yaml:1:4");  // a scalar: yaml-cpp's a[0] throws
  EXPECT_EQ(r.where_of("b", 1), "x.yaml:2:8");
  EXPECT_EQ(r.where_of("b", 5), "x.yaml:2:4");
  EXPECT_EQ(r.where_of("c", 0), "x.yaml:3:4");
  EXPECT_EQ(r.where_of("nosuch"), "x.yaml:1:1");
}

TEST(YamlReader, GuardLoaderTurnsAnEscapedExceptionIntoALocatedLine) {
  auto r = guard_loader<int>("x.yaml", []() -> util::Result<int> {
    YAML::Node n = YAML::Load("a: text");
    return n["a"][0].as<int>();  // operator[] on a scalar
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("x.yaml:1:4: internal error while reading this file", 0), 0u)
      << r.error().message;
}

}  // namespace
}  // namespace testbed::config
