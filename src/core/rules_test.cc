#include <gtest/gtest.h>

#include "core/namespace.h"

namespace ember::core {
namespace {

TEST(BucketName, AcceptsValidNames) {
  for (const char* n : {"abc", "my-bucket", "my.bucket.name", "a1b2c3", "123bucket",
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    EXPECT_TRUE(validBucketName(n)) << n;
  }
}

TEST(BucketName, RejectsInvalidNames) {
  for (const char* n : {"ab", "ABC", "my_bucket", "-abc", "abc-", ".abc", "abc.", "a..b", "a.-b",
                        "a-.b", "192.168.5.4", "xn--abc", "abc-s3alias", "sthree-x", "a b c",
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    EXPECT_FALSE(validBucketName(n)) << n;
  }
}

TEST(Key, Utf8AndLength) {
  EXPECT_TRUE(validateKey("a/b/c.txt").isOk());
  EXPECT_TRUE(validateKey("\xc3\xa9t\xc3\xa9/\xf0\x9f\x94\xa5").isOk());
  EXPECT_EQ(validateKey("").code(), Code::kInvalidArgument);
  EXPECT_EQ(validateKey(std::string(1025, 'k')).code(), Code::kKeyTooLong);
  EXPECT_TRUE(validateKey(std::string(1024, 'k')).isOk());
  EXPECT_EQ(validateKey("\xc0\xaf").code(), Code::kInvalidKey);       // overlong '/'
  EXPECT_EQ(validateKey("\xed\xa0\x80").code(), Code::kInvalidKey);   // surrogate
  EXPECT_EQ(validateKey("abc\xe2\x82").code(), Code::kInvalidKey);    // truncated
}

TEST(Range, Forms) {
  auto r = parseRange("bytes=0-99", 1000);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->first, 0u);
  EXPECT_EQ((*r)->length, 100u);
  r = parseRange("bytes=900-", 1000);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->first, 900u);
  EXPECT_EQ((*r)->length, 100u);
  r = parseRange("bytes=-10", 1000);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->first, 990u);
  EXPECT_EQ((*r)->length, 10u);
  r = parseRange("bytes=-5000", 1000);  // suffix longer than the object: whole object
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->first, 0u);
  EXPECT_EQ((*r)->length, 1000u);
  r = parseRange("bytes=990-5000", 1000);  // end clamps
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->length, 10u);
}

TEST(Range, UnsatisfiableAndIgnored) {
  EXPECT_EQ(parseRange("bytes=1000-", 1000).error().code(), Code::kInvalidRange);
  EXPECT_EQ(parseRange("bytes=-0", 1000).error().code(), Code::kInvalidRange);
  EXPECT_EQ(parseRange("bytes=0-", 0).error().code(), Code::kInvalidRange);
  for (const char* ignored : {"items=0-1", "bytes=5-1", "bytes=a-b", "bytes=0-1,5-6", "bytes"}) {
    auto r = parseRange(ignored, 1000);
    ASSERT_TRUE(r) << ignored;
    EXPECT_FALSE(*r) << ignored;
  }
}

TEST(Etag, Matching) {
  EXPECT_TRUE(etagMatches("\"abc\"", "abc"));
  EXPECT_TRUE(etagMatches("abc", "abc"));
  EXPECT_TRUE(etagMatches("W/\"abc\"", "abc"));
  EXPECT_TRUE(etagMatches("\"x\", \"abc\"", "abc"));
  EXPECT_TRUE(etagMatches("*", "abc"));
  EXPECT_FALSE(etagMatches("\"abd\"", "abc"));
  EXPECT_FALSE(etagMatches("", "abc"));
}

ObjectRecord record(std::string etag, int64_t mtimeMs) {
  ObjectRecord r;
  r.etag = std::move(etag);
  r.mtimeMs = mtimeMs;
  return r;
}

TEST(Conditions, ReadPrecedenceFollowsS3) {
  ObjectRecord rec = record("e1", 10'500);  // modified at second 10
  Conditions c;
  EXPECT_TRUE(checkReadConditions(c, rec).isOk());
  c.ifMatch = "\"e1\"";
  c.ifUnmodifiedSinceMs = 5'000;  // would fail alone, but If-Match true wins
  EXPECT_TRUE(checkReadConditions(c, rec).isOk());
  c.ifMatch = "\"zz\"";
  EXPECT_EQ(checkReadConditions(c, rec).code(), Code::kPreconditionFailed);

  Conditions n;
  n.ifNoneMatch = "\"zz\"";
  n.ifModifiedSinceMs = 20'000;  // would be 304 alone, but If-None-Match false wins
  EXPECT_TRUE(checkReadConditions(n, rec).isOk());
  n.ifNoneMatch = "\"e1\"";
  EXPECT_EQ(checkReadConditions(n, rec).code(), Code::kNotModified);

  Conditions m;
  m.ifModifiedSinceMs = 10'000;  // same second: not modified since
  EXPECT_EQ(checkReadConditions(m, rec).code(), Code::kNotModified);
  m.ifModifiedSinceMs = 9'000;
  EXPECT_TRUE(checkReadConditions(m, rec).isOk());

  Conditions u;
  u.ifUnmodifiedSinceMs = 9'000;
  EXPECT_EQ(checkReadConditions(u, rec).code(), Code::kPreconditionFailed);
  u.ifUnmodifiedSinceMs = 10'000;
  EXPECT_TRUE(checkReadConditions(u, rec).isOk());
}

TEST(Conditions, Write) {
  ObjectRecord rec = record("e1", 1000);
  Conditions star;
  star.ifNoneMatch = "*";
  EXPECT_TRUE(checkWriteConditions(star, nullptr).isOk());
  EXPECT_EQ(checkWriteConditions(star, &rec).code(), Code::kPreconditionFailed);
  Conditions match;
  match.ifMatch = "\"e1\"";
  EXPECT_TRUE(checkWriteConditions(match, &rec).isOk());
  EXPECT_EQ(checkWriteConditions(match, nullptr).code(), Code::kNoSuchKey);
  match.ifMatch = "\"e2\"";
  EXPECT_EQ(checkWriteConditions(match, &rec).code(), Code::kPreconditionFailed);
}

TEST(Ids, UniqueHex) {
  std::string a = newId();
  std::string b = newId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace ember::core
