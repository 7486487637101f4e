#include "auth/sigv4.h"

#include <map>
#include <string>

#include <gtest/gtest.h>

#include "auth/sigv4_test_signer.h"
#include "common/digest.h"

namespace ember::auth {
namespace {

using testing::SignOptions;
using testing::TestRequest;

constexpr int64_t kExampleTime = 1369353600;  // 2013-05-24T00:00:00Z, the AWS examples' clock
constexpr std::string_view kAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kEmptySha =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

class SigV4Test : public ::testing::Test {
 protected:
  SigV4Test() {
    creds_["AKIAIOSFODNN7EXAMPLE"] = {"example-user", std::string(kAccessKey),
                                      std::string(kSecret)};
    creds_["AKIDOTHER"] = {"other-user", "AKIDOTHER", "other-secret"};
  }

  CredentialLookup lookup() const {
    return [this](std::string_view key) -> const Credential* {
      auto it = creds_.find(std::string(key));
      return it == creds_.end() ? nullptr : &it->second;
    };
  }

  Result<AuthContext> verify(const TestRequest& r, int64_t now = kExampleTime) const {
    SigV4Input in{r.method, r.rawPath, r.rawQuery, r.headers, now};
    return verifySigV4(in, lookup());
  }

  void expectCode(const TestRequest& r, Code code, int64_t now = kExampleTime) const {
    auto result = verify(r, now);
    ASSERT_FALSE(result) << "unexpectedly verified";
    EXPECT_EQ(result.error().code(), code) << result.error().toString();
  }

  // The AWS "GET Object" example (Range: bytes=0-9), exactly as published.
  static TestRequest awsGetObjectExample() {
    TestRequest r;
    r.method = "GET";
    r.rawPath = "/test.txt";
    r.headers.add("Host", "examplebucket.s3.amazonaws.com");
    r.headers.add("Range", "bytes=0-9");
    r.headers.add("x-amz-content-sha256", std::string(kEmptySha));
    r.headers.add("x-amz-date", "20130524T000000Z");
    r.headers.add("Authorization",
                  "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                  "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                  "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    return r;
  }

  // A request signed by the test signer with the example credentials.
  static TestRequest signedRequest(SignOptions o = {}) {
    TestRequest r;
    r.method = "GET";
    r.rawPath = "/bucket/key";
    r.headers.add("Host", "localhost:9000");
    testing::signRequest(r, o);
    return r;
  }

  std::map<std::string, Credential> creds_;
};

// ---- AWS published examples ---------------------------------------------------------------------

TEST_F(SigV4Test, AwsExampleGetObjectWithRange) {
  auto ctx = verify(awsGetObjectExample());
  ASSERT_TRUE(ctx) << ctx.error().toString();
  EXPECT_FALSE(ctx->anonymous);
  EXPECT_FALSE(ctx->presigned);
  ASSERT_NE(ctx->credential, nullptr);
  EXPECT_EQ(ctx->credential->user, "example-user");
  EXPECT_EQ(ctx->payload, PayloadMode::kSigned);
  EXPECT_EQ(ctx->payloadSha256Hex, kEmptySha);
  EXPECT_EQ(ctx->seedSignature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(ctx->amzDate, "20130524T000000Z");
  EXPECT_EQ(ctx->scope, "20130524/us-east-1/s3/aws4_request");
  EXPECT_EQ(hexEncode(ctx->signingKey),
            "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
}

TEST_F(SigV4Test, AwsExamplePutObject) {
  TestRequest r;
  r.method = "PUT";
  r.rawPath = "/test$file.text";
  r.headers.add("Host", "examplebucket.s3.amazonaws.com");
  r.headers.add("Date", "Fri, 24 May 2013 00:00:00 GMT");
  r.headers.add("x-amz-date", "20130524T000000Z");
  r.headers.add("x-amz-storage-class", "REDUCED_REDUNDANCY");
  r.headers.add("x-amz-content-sha256", sha256Hex("Welcome to Amazon S3."));
  r.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                "aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                "x-amz-storage-class,Signature="
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  auto ctx = verify(r);
  ASSERT_TRUE(ctx) << ctx.error().toString();
  EXPECT_EQ(ctx->payload, PayloadMode::kSigned);
  EXPECT_EQ(ctx->payloadSha256Hex,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST_F(SigV4Test, AwsExampleGetBucketLifecycle) {
  TestRequest r;
  r.rawPath = "/";
  r.rawQuery = "lifecycle";
  r.headers.add("Host", "examplebucket.s3.amazonaws.com");
  r.headers.add("x-amz-date", "20130524T000000Z");
  r.headers.add("x-amz-content-sha256", std::string(kEmptySha));
  r.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                "aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature="
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  auto ctx = verify(r);
  ASSERT_TRUE(ctx) << ctx.error().toString();
}

TEST_F(SigV4Test, AwsExampleListObjects) {
  TestRequest r;
  r.rawPath = "/";
  r.rawQuery = "max-keys=2&prefix=J";
  r.headers.add("Host", "examplebucket.s3.amazonaws.com");
  r.headers.add("x-amz-date", "20130524T000000Z");
  r.headers.add("x-amz-content-sha256", std::string(kEmptySha));
  r.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                "aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature="
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  ASSERT_TRUE(verify(r));
  // Query order on the wire does not matter: the canonical query is sorted.
  r.rawQuery = "prefix=J&max-keys=2";
  auto ctx = verify(r);
  ASSERT_TRUE(ctx) << ctx.error().toString();
}

constexpr std::string_view kAwsPresignedQuery =
    "X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

TestRequest awsPresignedExample() {
  TestRequest r;
  r.rawPath = "/test.txt";
  r.rawQuery = std::string(kAwsPresignedQuery);
  r.headers.add("Host", "examplebucket.s3.amazonaws.com");
  return r;
}

TEST_F(SigV4Test, AwsExamplePresignedGet) {
  auto ctx = verify(awsPresignedExample(), kExampleTime + 3600);
  ASSERT_TRUE(ctx) << ctx.error().toString();
  EXPECT_TRUE(ctx->presigned);
  EXPECT_FALSE(ctx->anonymous);
  EXPECT_EQ(ctx->payload, PayloadMode::kUnsigned);
  EXPECT_EQ(ctx->seedSignature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  // Valid through the last second of its lifetime, expired one second later.
  EXPECT_TRUE(verify(awsPresignedExample(), kExampleTime + 86400));
  expectCode(awsPresignedExample(), Code::kExpired, kExampleTime + 86401);
}

TEST_F(SigV4Test, AwsExampleStreamingSeedSignature) {
  TestRequest r;
  r.method = "PUT";
  r.rawPath = "/examplebucket/chunkObject.txt";
  r.headers.add("Host", "s3.amazonaws.com");
  r.headers.add("x-amz-date", "20130524T000000Z");
  r.headers.add("x-amz-storage-class", "REDUCED_REDUNDANCY");
  r.headers.add("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
  r.headers.add("Content-Encoding", "aws-chunked");
  r.headers.add("x-amz-decoded-content-length", "66560");
  r.headers.add("Content-Length", "66824");
  r.headers.add("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
                "aws4_request,SignedHeaders=content-encoding;content-length;host;"
                "x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                "x-amz-storage-class,Signature="
                "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
  auto ctx = verify(r);
  ASSERT_TRUE(ctx) << ctx.error().toString();
  EXPECT_EQ(ctx->payload, PayloadMode::kStreamingSigned);
  EXPECT_TRUE(isStreaming(ctx->payload));
  EXPECT_EQ(ctx->seedSignature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
  EXPECT_TRUE(ctx->payloadSha256Hex.empty());
}

// ---- building blocks ----------------------------------------------------------------------------

TEST(SigV4BlocksTest, UriEncode) {
  EXPECT_EQ(uriEncode("AZaz09-_.~", true), "AZaz09-_.~");
  EXPECT_EQ(uriEncode("a b/c*d+e=f&g$", false), "a%20b/c%2Ad%2Be%3Df%26g%24");
  EXPECT_EQ(uriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(uriEncode("\xe1\x88\xb4", false), "%E1%88%B4");
  EXPECT_EQ(uriEncode(std::string_view("\0", 1), true), "%00");
  EXPECT_EQ(uriEncode("", true), "");
}

TEST(SigV4BlocksTest, UriDecode) {
  EXPECT_EQ(uriDecode("a%20b%2Fc%2fd+e").value(), "a b/c/d+e");
  EXPECT_EQ(uriDecode("").value(), "");
  for (std::string_view bad : {"%", "%2", "a%zz", "%g0", "abc%"}) {
    auto r = uriDecode(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(SigV4BlocksTest, CanonicalQuery) {
  EXPECT_EQ(canonicalQuery("", false), "");
  EXPECT_EQ(canonicalQuery("prefix=J&max-keys=2", false), "max-keys=2&prefix=J");
  EXPECT_EQ(canonicalQuery("lifecycle", false), "lifecycle=");
  EXPECT_EQ(canonicalQuery("b=&a", false), "a=&b=");
  EXPECT_EQ(canonicalQuery("a=2&a=1&a=10", false), "a=1&a=10&a=2");
  EXPECT_EQ(canonicalQuery("a=x%20y", false), "a=x%20y");
  EXPECT_EQ(canonicalQuery("a=x+y", false), "a=x%2By");
  EXPECT_EQ(canonicalQuery("a=%7e%2f/", false), "a=~%2F%2F");
  EXPECT_EQ(canonicalQuery("B=1&a=2", false), "B=1&a=2");  // byte order, uppercase first
  EXPECT_EQ(canonicalQuery("&&a=1&", false), "a=1");
  EXPECT_EQ(canonicalQuery("a=%zz", false), "a=%25zz");  // malformed escape kept literally
  EXPECT_EQ(canonicalQuery("k=a=b", false), "k=a%3Db");
  EXPECT_EQ(canonicalQuery("x=1&X-Amz-Signature=abc", true), "x=1");
  EXPECT_EQ(canonicalQuery("x=1&X-Amz-Signature=abc", false), "X-Amz-Signature=abc&x=1");
}

TEST(SigV4BlocksTest, DeriveSigningKeyAwsExample) {
  // The IAM documentation's key derivation example.
  EXPECT_EQ(hexEncode(deriveSigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                       "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  EXPECT_EQ(signHex(deriveSigningKey(kSecret, "20130524", "us-east-1", "s3"),
                    "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4BlocksTest, IsStreaming) {
  EXPECT_FALSE(isStreaming(PayloadMode::kUnsigned));
  EXPECT_FALSE(isStreaming(PayloadMode::kSigned));
  EXPECT_TRUE(isStreaming(PayloadMode::kStreamingSigned));
  EXPECT_TRUE(isStreaming(PayloadMode::kStreamingSignedTrailer));
  EXPECT_TRUE(isStreaming(PayloadMode::kStreamingUnsignedTrailer));
}

// ---- round trips through the independent test signer --------------------------------------------

TEST_F(SigV4Test, AnonymousWithoutCredentials) {
  TestRequest r;
  r.rawPath = "/bucket/key";
  r.rawQuery = "list-type=2&prefix=a";
  r.headers.add("Host", "localhost");
  auto ctx = verify(r);
  ASSERT_TRUE(ctx);
  EXPECT_TRUE(ctx->anonymous);
  EXPECT_EQ(ctx->credential, nullptr);
}

TEST_F(SigV4Test, SignerRoundTripWithAwkwardRequest) {
  TestRequest r;
  r.method = "PUT";
  r.rawPath = "/bucket/dir%20one/%E1%88%B4+x(1)!.txt";
  r.rawQuery = "uploadId=abc%2Fdef&partNumber=3&empty=&flag";
  r.headers.add("Host", "s3.example.com:9000");
  r.headers.add("X-Amz-Meta-Words", "  several   inner\t spaces  ");
  r.headers.add("x-amz-meta-multi", "one");
  r.headers.add("X-AMZ-META-MULTI", " two ");
  r.headers.add("Content-Type", "text/plain");
  SignOptions o;
  o.region = "eu-central-1";  // any region is accepted
  o.payloadHash = sha256Hex("body");
  o.signedHeaders = {"content-type",         "host",
                     "x-amz-content-sha256", "x-amz-date",
                     "x-amz-meta-multi",     "x-amz-meta-words"};
  testing::signRequest(r, o);
  auto ctx = verify(r);
  ASSERT_TRUE(ctx) << ctx.error().toString();
  EXPECT_EQ(ctx->scope, "20130524/eu-central-1/s3/aws4_request");
  EXPECT_EQ(ctx->payloadSha256Hex, sha256Hex("body"));
  // Canonicalization makes these equivalent; the signature must still hold.
  r.headers.set("X-Amz-Meta-Words", "several inner spaces");
  EXPECT_TRUE(verify(r));
  // The joined value of repeated headers is order-sensitive.
  r.headers.remove("x-amz-meta-multi");
  r.headers.add("x-amz-meta-multi", "two");
  r.headers.add("x-amz-meta-multi", "one");
  expectCode(r, Code::kSignatureMismatch);
}

TEST_F(SigV4Test, PathIsNotDoubleEncoded) {
  // A client sending "%2A" and one sending "*" sign the same canonical URI ("%2A").
  TestRequest a;
  a.rawPath = "/bucket/a*b";
  a.headers.add("Host", "h");
  SignOptions o;
  testing::signRequest(a, o);
  TestRequest b = a;
  b.rawPath = "/bucket/a%2Ab";
  EXPECT_TRUE(verify(a));
  EXPECT_TRUE(verify(b));
  // Empty path is "/".
  TestRequest c;
  c.rawPath = "";
  c.headers.add("Host", "h");
  testing::signRequest(c, o);
  EXPECT_TRUE(verify(c));
  c.rawPath = "/";
  EXPECT_TRUE(verify(c));
}

TEST_F(SigV4Test, MalformedPercentEncodingInPath) {
  TestRequest r = signedRequest();
  r.rawPath = "/bucket/bad%zz";
  expectCode(r, Code::kInvalidArgument);
}

TEST_F(SigV4Test, AuthorizationHeaderSpacingVariants) {
  const std::string cred = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";
  const std::string sh = "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date";
  const std::string sig =
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
  for (const std::string& header : {
           "AWS4-HMAC-SHA256 " + cred + ", " + sh + ", " + sig,
           "AWS4-HMAC-SHA256 " + cred + "," + sh + "," + sig,
           "AWS4-HMAC-SHA256   " + cred + " ,  " + sh + " ,\t" + sig + "  ",
           "  AWS4-HMAC-SHA256 " + cred + " " + sh + " " + sig,
           "AWS4-HMAC-SHA256 " + sig + ", " + cred + ", " + sh,
           "AWS4-HMAC-SHA256," + cred + "," + sh + "," + sig + ",",
       }) {
    TestRequest r = awsGetObjectExample();
    r.headers.set("Authorization", header);
    auto ctx = verify(r);
    EXPECT_TRUE(ctx) << header << ": " << ctx.error().toString();
  }
}

TEST_F(SigV4Test, PayloadModes) {
  const std::pair<std::string_view, PayloadMode> modes[] = {
      {"UNSIGNED-PAYLOAD", PayloadMode::kUnsigned},
      {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", PayloadMode::kStreamingSigned},
      {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", PayloadMode::kStreamingSignedTrailer},
      {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", PayloadMode::kStreamingUnsignedTrailer},
      {kEmptySha, PayloadMode::kSigned},
  };
  for (const auto& [value, mode] : modes) {
    SignOptions o;
    o.payloadHash = std::string(value);
    auto ctx = verify(signedRequest(o));
    ASSERT_TRUE(ctx) << value << ": " << ctx.error().toString();
    EXPECT_EQ(ctx->payload, mode) << value;
  }
}

TEST_F(SigV4Test, ContentSha256RequiredAndValidated) {
  TestRequest r = signedRequest();
  r.headers.remove("x-amz-content-sha256");
  expectCode(r, Code::kInvalidArgument);
  for (std::string_view bad :
       {"", "UNSIGNED", "unsigned-payload", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"}) {
    SignOptions o;
    o.payloadHash = std::string(bad);
    expectCode(signedRequest(o), Code::kInvalidArgument);
  }
}

TEST_F(SigV4Test, DateHeaderFallback) {
  TestRequest r;
  r.method = "PUT";
  r.rawPath = "/bucket/key";
  r.headers.add("Host", "h");
  r.headers.add("Date", "Fri, 24 May 2013 00:00:00 GMT");
  SignOptions o;
  o.signedHeaders = {"date", "host", "x-amz-content-sha256"};
  testing::signRequest(r, o);
  r.headers.remove("x-amz-date");  // unsigned here; the verifier must use Date instead
  auto ctx = verify(r);
  ASSERT_TRUE(ctx) << ctx.error().toString();
  EXPECT_EQ(ctx->amzDate, "20130524T000000Z");

  r.headers.set("Date", "Friday, 24-May-13 00:00:00 GMT");
  expectCode(r, Code::kAuthMalformed);
  r.headers.remove("Date");
  expectCode(r, Code::kAuthMalformed);
}

// ---- negative cases -----------------------------------------------------------------------------

TEST_F(SigV4Test, WrongSecret) {
  SignOptions o;
  o.secretKey = "not-the-secret";
  auto r = verify(signedRequest(o));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kSignatureMismatch);
  EXPECT_NE(r.error().message().find("signature"), std::string::npos);
}

TEST_F(SigV4Test, UnknownAccessKey) {
  SignOptions o;
  o.accessKey = "AKIDUNKNOWN";
  auto r = verify(signedRequest(o));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidAccessKey);
  EXPECT_NE(r.error().message().find("AKIDUNKNOWN"), std::string::npos);

  TestRequest signedByExample = signedRequest();
  SigV4Input in{"GET", "/bucket/key", "", signedByExample.headers, kExampleTime};
  auto noLookup = verifySigV4(in, CredentialLookup());
  ASSERT_FALSE(noLookup);
  EXPECT_EQ(noLookup.error().code(), Code::kInvalidAccessKey);
}

TEST_F(SigV4Test, AnotherUsersKeyDoesNotVerify) {
  SignOptions o;
  o.accessKey = "AKIDOTHER";  // exists, but the request is signed with the example secret
  expectCode(signedRequest(o), Code::kSignatureMismatch);
}

TEST_F(SigV4Test, TamperedRequests) {
  {
    TestRequest r = awsGetObjectExample();
    r.headers.set("Range", "bytes=0-10");
    expectCode(r, Code::kSignatureMismatch);
  }
  {
    TestRequest r = awsGetObjectExample();
    r.headers.set("Host", "otherbucket.s3.amazonaws.com");
    expectCode(r, Code::kSignatureMismatch);
  }
  {
    TestRequest r = awsGetObjectExample();
    r.method = "DELETE";
    expectCode(r, Code::kSignatureMismatch);
  }
  {
    TestRequest r = awsGetObjectExample();
    r.rawPath = "/test.txT";
    expectCode(r, Code::kSignatureMismatch);
  }
  {
    TestRequest r = awsGetObjectExample();
    r.rawQuery = "versionId=1";
    expectCode(r, Code::kSignatureMismatch);
  }
  {
    TestRequest r = awsGetObjectExample();
    r.headers.set("x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    expectCode(r, Code::kSignatureMismatch);
  }
  {
    TestRequest r = awsGetObjectExample();
    std::string auth(r.headers.get("Authorization"));
    auth.back() = auth.back() == '1' ? '2' : '1';
    r.headers.set("Authorization", auth);
    expectCode(r, Code::kSignatureMismatch);
  }
  {
    // A signed header removed from the request: the message names it.
    TestRequest r = awsGetObjectExample();
    r.headers.remove("Range");
    auto result = verify(r);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), Code::kSignatureMismatch);
    EXPECT_NE(result.error().message().find("'range'"), std::string::npos)
        << result.error().message();
  }
  {
    // An unsigned header may change freely.
    TestRequest r = awsGetObjectExample();
    r.headers.add("User-Agent", "anything");
    EXPECT_TRUE(verify(r));
  }
  {
    // Uppercase hex in the Signature is the same signature.
    TestRequest r = awsGetObjectExample();
    std::string auth(r.headers.get("Authorization"));
    size_t at = auth.find("Signature=") + 10;
    for (size_t i = at; i < auth.size(); ++i) {
      auth[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(auth[i])));
    }
    r.headers.set("Authorization", auth);
    EXPECT_TRUE(verify(r));
  }
}

TEST_F(SigV4Test, ClockSkew) {
  TestRequest r = signedRequest();
  EXPECT_TRUE(verify(r, kExampleTime + 900));
  EXPECT_TRUE(verify(r, kExampleTime - 900));
  expectCode(r, Code::kRequestTimeSkewed, kExampleTime + 901);
  expectCode(r, Code::kRequestTimeSkewed, kExampleTime - 901);
  expectCode(r, Code::kRequestTimeSkewed, 0);
}

TEST_F(SigV4Test, MalformedAuthorizationHeaders) {
  const std::string good = std::string(awsGetObjectExample().headers.get("Authorization"));
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    return s;
  };
  const std::string cases[] = {
      "",
      "AWS4-HMAC-SHA256",
      "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=",
      replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
      replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
      replace("AWS4-HMAC-SHA256 ", "aws4-hmac-sha256 "),
      replace("Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,", ""),
      replace("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,", ""),
      replace(",Signature=", ",Foo=bar,Signature="),
      replace(",Signature=", ",Signature"),
      replace(",Signature=", ",SignedHeaders=host,Signature="),
      replace("/20130524/us-east-1/s3/aws4_request", "/20130524/us-east-1/s3"),
      replace("/20130524/us-east-1/s3/aws4_request", "/20130524/us-east-1/ec2/aws4_request"),
      replace("/20130524/us-east-1/s3/aws4_request", "/20130524/us-east-1/s3/aws5_request"),
      replace("/20130524/us-east-1/", "/2013052x/us-east-1/"),
      replace("/20130524/us-east-1/", "/20130525/us-east-1/"),  // differs from x-amz-date
      replace("/20130524/us-east-1/", "/20130524//"),
      replace("Credential=AKIAIOSFODNN7EXAMPLE/", "Credential=/"),
      replace("SignedHeaders=host;range;", "SignedHeaders=range;"),  // no host
      replace("SignedHeaders=host;range;", "SignedHeaders=host;;range;"),
      replace("SignedHeaders=host;range;", "SignedHeaders=host;range;range;"),
      replace("SignedHeaders=host;range;", "SignedHeaders=host;ran ge;"),
      replace("SignedHeaders=host;range;x-amz-content-sha256;x-amz-date", "SignedHeaders="),
      replace("Signature=f0e8", "Signature=f0e"),
      replace("Signature=f0e8", "Signature=g0e8"),
  };
  for (const std::string& header : cases) {
    TestRequest r = awsGetObjectExample();
    r.headers.set("Authorization", header);
    auto result = verify(r);
    ASSERT_FALSE(result) << "accepted: " << header;
    EXPECT_EQ(result.error().code(), Code::kAuthMalformed)
        << header << " -> " << result.error().toString();
    EXPECT_FALSE(result.error().message().empty());
  }
}

TEST_F(SigV4Test, MalformedDates) {
  for (std::string_view date : {"", "20130524", "20130524T000000", "20130524 000000Z",
                                "2013-05-24T00:00:00Z", "20130532T000000Z", "20130229T000000Z",
                                "20130524T240000Z", "20130524T006000Z", "2013O524T000000Z"}) {
    TestRequest r = awsGetObjectExample();
    r.headers.set("x-amz-date", std::string(date));
    expectCode(r, Code::kAuthMalformed);
  }
  // A leap day is a real date.
  SignOptions o;
  o.amzDate = "20240229T120000Z";
  EXPECT_TRUE(verify(signedRequest(o), 1709208000));
}

// ---- presigned URLs -----------------------------------------------------------------------------

TEST_F(SigV4Test, PresignedRoundTrip) {
  TestRequest r;
  r.method = "PUT";
  r.rawPath = "/bucket/some%20key";
  r.rawQuery = "partNumber=1&uploadId=xyz";
  r.headers.add("Host", "localhost:9000");
  SignOptions o;
  o.signedHeaders = {"host"};
  testing::presignRequest(r, o, 604800);
  auto ctx = verify(r, kExampleTime + 604800);
  ASSERT_TRUE(ctx) << ctx.error().toString();
  EXPECT_TRUE(ctx->presigned);
  EXPECT_EQ(ctx->payload, PayloadMode::kUnsigned);
  expectCode(r, Code::kExpired, kExampleTime + 604801);
  // X-Amz-Date up to 15 minutes ahead of the server clock is tolerated; further is not valid yet.
  EXPECT_TRUE(verify(r, kExampleTime - 900));
  expectCode(r, Code::kRequestTimeSkewed, kExampleTime - 901);
}

TEST_F(SigV4Test, PresignedWithContentSha256Header) {
  TestRequest r;
  r.method = "PUT";
  r.rawPath = "/bucket/key";
  r.headers.add("Host", "h");
  r.headers.add("x-amz-content-sha256", sha256Hex("data"));
  SignOptions o;
  o.signedHeaders = {"host", "x-amz-content-sha256"};
  testing::presignRequest(r, o, 60);
  auto ctx = verify(r);
  ASSERT_TRUE(ctx) << ctx.error().toString();
  EXPECT_EQ(ctx->payload, PayloadMode::kSigned);
  EXPECT_EQ(ctx->payloadSha256Hex, sha256Hex("data"));
  r.headers.set("x-amz-content-sha256", "not-a-hash");
  expectCode(r, Code::kInvalidArgument);
}

TEST_F(SigV4Test, PresignedNegativeCases) {
  auto withQuery = [](std::string_view from, std::string_view to) {
    TestRequest r = awsPresignedExample();
    size_t at = r.rawQuery.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    r.rawQuery.replace(at, from.size(), to);
    return r;
  };
  // Tampering.
  expectCode(withQuery("X-Amz-Expires=86400", "X-Amz-Expires=86401"), Code::kSignatureMismatch);
  expectCode(withQuery("Signature=aeee", "Signature=beee"), Code::kSignatureMismatch);
  {
    TestRequest r = awsPresignedExample();
    r.rawPath = "/test2.txt";
    expectCode(r, Code::kSignatureMismatch);
    r = awsPresignedExample();
    r.rawQuery += "&extra=1";
    expectCode(r, Code::kSignatureMismatch);
  }
  // Malformed parameters.
  for (const auto& [from, to] :
       std::initializer_list<std::pair<std::string_view, std::string_view>>{
           {"X-Amz-Expires=86400", "X-Amz-Expires=0"},
           {"X-Amz-Expires=86400", "X-Amz-Expires=604801"},
           {"X-Amz-Expires=86400", "X-Amz-Expires=-1"},
           {"X-Amz-Expires=86400", "X-Amz-Expires=1e3"},
           {"X-Amz-Expires=86400", "X-Amz-Expires=99999999999999999999"},
           {"X-Amz-Expires=86400", "X-Amz-Expires="},
           {"X-Amz-Expires=86400&", ""},
           {"&X-Amz-SignedHeaders=host", ""},
           {"X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=range"},
           {"X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1"},
           {"X-Amz-Algorithm=AWS4-HMAC-SHA256&", ""},
           {"X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130524"},
           {"X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130525T000000Z"},
           {"X-Amz-Date=20130524T000000Z&", ""},
           {"%2Fs3%2F", "%2Fsqs%2F"},
           {"X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F",
            "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2Fx%2F"},
           {"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
            ""},
           {"X-Amz-Signature=aeee", "X-Amz-Signature=zeee"},
           {"X-Amz-Date=20130524T000000Z",
            "X-Amz-Date=20130524T000000Z&X-Amz-Date=20130524T000000Z"},
       }) {
    TestRequest r = withQuery(from, to);
    auto result = verify(r, kExampleTime + 10);
    ASSERT_FALSE(result) << r.rawQuery;
    EXPECT_EQ(result.error().code(), Code::kAuthMalformed)
        << r.rawQuery << " -> " << result.error().toString();
  }
  // Unknown key.
  expectCode(withQuery("AKIAIOSFODNN7EXAMPLE", "AKIDNOBODY"), Code::kInvalidAccessKey);
}

TEST_F(SigV4Test, HeaderAndPresignTogetherIsMalformed) {
  TestRequest r = awsPresignedExample();
  r.headers.add("Authorization", std::string(awsGetObjectExample().headers.get("Authorization")));
  expectCode(r, Code::kAuthMalformed, kExampleTime + 10);
}

}  // namespace
}  // namespace ember::auth
