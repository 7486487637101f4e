#include <gtest/gtest.h>

#include "s3/errors.h"
#include "s3/xml.h"

namespace ember::s3 {
namespace {

TEST(Xml, WriterEscapesAndNests) {
  XmlWriter w("ListBucketResult");
  w.add("Name", "b").open("Contents").add("Key", "a<&>\"b").close();
  std::string doc = w.finish();
  EXPECT_NE(doc.find("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"), std::string::npos);
  EXPECT_NE(doc.find("xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""), std::string::npos);
  EXPECT_NE(doc.find("<Contents><Key>a&lt;&amp;&gt;\"b</Key></Contents>"), std::string::npos);
}

TEST(Xml, ParseDelete) {
  auto r = parseDelete(
      "<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object><Object><Key>b/c</Key>"
      "</Object></Delete>");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->quiet);
  ASSERT_EQ(r->keys.size(), 2u);
  EXPECT_EQ(r->keys[1], "b/c");
  // With the S3 namespace, as SDKs send it.
  r = parseDelete(
      "<?xml version=\"1.0\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Object><Key>x</Key></Object></Delete>");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->quiet);
}

TEST(Xml, ParseDeleteRejectsMalformed) {
  for (const char* bad : {"", "<Delete>", "<Other><Object><Key>a</Key></Object></Other>",
                          "<Delete></Delete>", "<Delete><Object></Object></Delete>",
                          "not xml at all"}) {
    auto r = parseDelete(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kMalformedXml) << bad;
  }
  std::string many = "<Delete>";
  for (int i = 0; i < 1001; ++i) {
    many += "<Object><Key>k" + std::to_string(i) + "</Key></Object>";
  }
  many += "</Delete>";
  EXPECT_FALSE(parseDelete(many));
}

TEST(Xml, ParseComplete) {
  auto r = parseCompleteMultipart(
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag>"
      "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber>"
      "<ETag>&quot;bb&quot;</ETag></Part></CompleteMultipartUpload>");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].number, 1u);
  EXPECT_EQ((*r)[0].etag, "aa");
  ASSERT_EQ((*r)[0].checksums.size(), 1u);
  EXPECT_EQ((*r)[0].checksums[0].first, "CRC32");
  EXPECT_EQ((*r)[1].etag, "bb");
  EXPECT_FALSE(parseCompleteMultipart(
      "<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>a</ETag></Part>"
      "</CompleteMultipartUpload>"));
  EXPECT_FALSE(parseCompleteMultipart("<CompleteMultipartUpload><Part>"));
}

TEST(Xml, ParseCreateBucket) {
  EXPECT_EQ(*parseCreateBucket(""), "");
  EXPECT_EQ(*parseCreateBucket(
                "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint>"
                "</CreateBucketConfiguration>"),
            "eu-west-1");
  EXPECT_FALSE(parseCreateBucket("<Nope/>"));
}

TEST(ErrorTable, EveryCodeMapsToAnS3Error) {
  struct Row {
    Code code;
    int http;
    const char* s3;
  };
  const Row rows[] = {
      {Code::kNoSuchBucket, 404, "NoSuchBucket"},
      {Code::kNoSuchKey, 404, "NoSuchKey"},
      {Code::kNoSuchUpload, 404, "NoSuchUpload"},
      {Code::kAlreadyExists, 409, "BucketAlreadyExists"},
      {Code::kAlreadyOwned, 409, "BucketAlreadyOwnedByYou"},
      {Code::kBucketNotEmpty, 409, "BucketNotEmpty"},
      {Code::kPreconditionFailed, 412, "PreconditionFailed"},
      {Code::kNotModified, 304, "NotModified"},
      {Code::kInvalidArgument, 400, "InvalidArgument"},
      {Code::kInvalidBucketName, 400, "InvalidBucketName"},
      {Code::kKeyTooLong, 400, "KeyTooLongError"},
      {Code::kInvalidRange, 416, "InvalidRange"},
      {Code::kInvalidPart, 400, "InvalidPart"},
      {Code::kInvalidPartNumber, 416, "InvalidPartNumber"},
      {Code::kMetadataTooLarge, 400, "MetadataTooLarge"},
      {Code::kInvalidDigest, 400, "InvalidDigest"},
      {Code::kAuthQueryMalformed, 400, "AuthorizationQueryParametersError"},
      {Code::kInvalidPartOrder, 400, "InvalidPartOrder"},
      {Code::kEntityTooSmall, 400, "EntityTooSmall"},
      {Code::kEntityTooLarge, 400, "EntityTooLarge"},
      {Code::kBadDigest, 400, "BadDigest"},
      {Code::kMalformedXml, 400, "MalformedXML"},
      {Code::kIncompleteBody, 400, "IncompleteBody"},
      {Code::kUnauthenticated, 403, "AccessDenied"},
      {Code::kAuthMalformed, 400, "AuthorizationHeaderMalformed"},
      {Code::kRequestTimeSkewed, 403, "RequestTimeTooSkewed"},
      {Code::kContentSha256Mismatch, 400, "XAmzContentSHA256Mismatch"},
      {Code::kInvalidRequest, 400, "InvalidRequest"},
      {Code::kMissingContentLength, 411, "MissingContentLength"},
      {Code::kInvalidAccessKey, 403, "InvalidAccessKeyId"},
      {Code::kSignatureMismatch, 403, "SignatureDoesNotMatch"},
      {Code::kExpired, 403, "AccessDenied"},
      {Code::kPermissionDenied, 403, "AccessDenied"},
      {Code::kInsufficientStorage, 507, "InsufficientStorage"},
      {Code::kBusy, 503, "SlowDown"},
      {Code::kUnavailable, 503, "ServiceUnavailable"},
      {Code::kTimeout, 400, "RequestTimeout"},
      {Code::kNotImplemented, 501, "NotImplemented"},
      {Code::kMethodNotAllowed, 405, "MethodNotAllowed"},
      {Code::kCorruption, 500, "InternalError"},
      {Code::kIOError, 500, "InternalError"},
      {Code::kInternal, 500, "InternalError"},
  };
  for (const Row& r : rows) {
    S3Error e = s3ErrorFor(r.code);
    EXPECT_EQ(e.httpStatus, r.http) << codeName(r.code);
    EXPECT_EQ(e.code, r.s3) << codeName(r.code);
    EXPECT_FALSE(e.message.empty()) << codeName(r.code);
  }
}

TEST(ErrorTable, RendersErrorDocument) {
  std::string doc = renderErrorXml(s3ErrorFor(Code::kNoSuchKey), "", "/b/k", "REQ1");
  EXPECT_NE(doc.find("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
                     "</Message><Resource>/b/k</Resource><RequestId>REQ1</RequestId></Error>"),
            std::string::npos)
      << doc;
}

}  // namespace
}  // namespace ember::s3
