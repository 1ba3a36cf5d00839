#include "orchestrator/util/ipv4.h"

#include <gtest/gtest.h>

namespace testbed::util {
namespace {

TEST(Ipv4, ParseStrict) {
  EXPECT_EQ(parse_ipv4("172.24.1.10"), 0xAC18010Au);
  EXPECT_EQ(format_ipv4(0xAC18010Au), "172.24.1.10");
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d", "1..2.3"})
    EXPECT_FALSE(parse_ipv4(bad).has_value()) << bad;
}

TEST(Ipv4, CidrRelations) {
  auto a = parse_cidr("172.24.0.0/16");
  auto b = parse_cidr("172.24.1.0/24");
  auto c = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(a && b && c);
  EXPECT_TRUE(a->contains(*b));
  EXPECT_FALSE(b->contains(*a));
  EXPECT_TRUE(a->overlaps(*b));
  EXPECT_TRUE(b->overlaps(*a));
  EXPECT_FALSE(a->overlaps(*c));
  EXPECT_EQ(b->str(), "172.24.1.0/24");
  EXPECT_EQ(format_ipv4(b->last()), "172.24.1.255");
  EXPECT_FALSE(parse_cidr("172.24.1.5/24", /*strict=*/true).has_value());
  EXPECT_EQ(parse_cidr("172.24.1.5/24")->str(), "172.24.1.0/24");
  EXPECT_FALSE(parse_cidr("1.2.3.4/33").has_value());
  EXPECT_EQ(parse_cidr("0.0.0.0/0")->mask(), 0u);
}

}  // namespace
}  // namespace testbed::util
