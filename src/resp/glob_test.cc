#include "resp/glob.h"

#include <string>

#include <gtest/gtest.h>

namespace ember::resp {
namespace {

TEST(GlobTest, StarAndQuestionMark) {
  EXPECT_TRUE(globMatch("*", ""));
  EXPECT_TRUE(globMatch("*", "anything"));
  EXPECT_TRUE(globMatch("h?llo", "hello"));
  EXPECT_TRUE(globMatch("h?llo", "hallo"));
  EXPECT_FALSE(globMatch("h?llo", "hllo"));
  EXPECT_TRUE(globMatch("h*llo", "hllo"));
  EXPECT_TRUE(globMatch("h*llo", "heeeello"));
  EXPECT_FALSE(globMatch("h*llo", "heeeell"));
  EXPECT_TRUE(globMatch("user:*:name", "user:42:name"));
  EXPECT_FALSE(globMatch("user:*:name", "user:42:names"));
  EXPECT_TRUE(globMatch("**a**", "bab"));
  EXPECT_FALSE(globMatch("", "a"));
  EXPECT_TRUE(globMatch("", ""));
}

TEST(GlobTest, Classes) {
  EXPECT_TRUE(globMatch("h[ae]llo", "hello"));
  EXPECT_TRUE(globMatch("h[ae]llo", "hallo"));
  EXPECT_FALSE(globMatch("h[ae]llo", "hillo"));
  EXPECT_TRUE(globMatch("h[^e]llo", "hallo"));
  EXPECT_FALSE(globMatch("h[^e]llo", "hello"));
  EXPECT_TRUE(globMatch("h[a-b]llo", "hbllo"));
  EXPECT_FALSE(globMatch("h[a-b]llo", "hcllo"));
  EXPECT_TRUE(globMatch("h[b-a]llo", "hallo"));  // reversed range, as Redis
  EXPECT_TRUE(globMatch("k[\\]]", "k]"));
  EXPECT_TRUE(globMatch("k[abc", "kb"));  // unterminated class: the rest of the pattern
}

TEST(GlobTest, EscapesAndBinary) {
  EXPECT_TRUE(globMatch("a\\*b", "a*b"));
  EXPECT_FALSE(globMatch("a\\*b", "axb"));
  EXPECT_TRUE(globMatch("a\\?", "a?"));
  std::string key("k\0\r\n", 4);
  EXPECT_TRUE(globMatch("k*", key));
  EXPECT_TRUE(globMatch(std::string_view("k?\r\n", 4), key));
}

TEST(GlobTest, NoCase) {
  EXPECT_TRUE(globMatch("MaxMemory*", "maxmemory-policy", true));
  EXPECT_FALSE(globMatch("MaxMemory*", "maxmemory-policy", false));
}

TEST(GlobTest, HostilePatternStaysPolynomial) {
  std::string text(4000, 'a');
  std::string pattern;
  for (int i = 0; i < 200; ++i) {
    pattern += "a*";
  }
  pattern += "b";
  EXPECT_FALSE(globMatch(pattern, text));  // would take forever with naive recursion
}

}  // namespace
}  // namespace ember::resp
