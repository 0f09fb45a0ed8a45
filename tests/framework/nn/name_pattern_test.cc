#include "framework/nn/name_pattern.h"

#include <gtest/gtest.h>

namespace osprey::nn {
namespace {

TEST(NamePattern, StarCrossesDotsAndMatchesWholeName) {
  EXPECT_TRUE(name_matches("backbone.*", "backbone.res4.b3.conv2.weight"));
  EXPECT_TRUE(name_matches("*.fc.*", "head.fc.bias"));
  EXPECT_FALSE(name_matches("*.fc.*", "head.fc"));
  EXPECT_FALSE(name_matches("backbone", "backbone.stem.weight"));
  EXPECT_TRUE(name_matches("*", ""));
  EXPECT_TRUE(name_matches("*bn*", "res2.b1.bn1.weight"));
  EXPECT_TRUE(name_matches("res?.b1.*", "res5.b1.conv1.weight"));
  EXPECT_FALSE(name_matches("res?.b1.*", "res10.b1.conv1.weight"));
  EXPECT_TRUE(name_matches("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(name_matches("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(name_matches("exact.name", "exact.name"));
}

TEST(NamePattern, AnyOfAList) {
  EXPECT_FALSE(name_matches_any({}, "x"));
  EXPECT_TRUE(name_matches_any({"y", "x*"}, "xz"));
}

}  // namespace
}  // namespace osprey::nn
