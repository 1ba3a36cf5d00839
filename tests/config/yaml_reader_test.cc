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

}  // namespace
}  // namespace testbed::config
