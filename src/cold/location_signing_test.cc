// Cold locations, HTTP status mapping, dates, and the client-side signers checked against the
// verifiers of src/auth (sign, then verify).
#include <gtest/gtest.h>

#include "auth/azure_sas.h"
#include "auth/azure_shared_key.h"
#include "auth/sigv4.h"
#include "cold/cold_store.h"
#include "cold/http_store.h"
#include "cold/signing.h"
#include "common/digest.h"

namespace ember::cold {
namespace {

TEST(ColdLocation, ParsesAzureAndS3) {
  auto az = parseColdLocation("az://devstoreaccount1/cold-data/a/b/");
  ASSERT_TRUE(az) << az.error().toString();
  EXPECT_EQ(az->kind, ColdLocation::Kind::kAzure);
  EXPECT_EQ(az->account, "devstoreaccount1");
  EXPECT_EQ(az->container, "cold-data");
  EXPECT_EQ(az->prefix, "a/b");
  EXPECT_EQ(az->toString(), "az://devstoreaccount1/cold-data/a/b");
  EXPECT_EQ(az->objectName("x.bin"), "a/b/x.bin");
  EXPECT_EQ(az->relativeKey("a/b/x.bin"), "x.bin");
  EXPECT_EQ(az->relativeKey("a/bx"), "a/bx");  // not under the prefix: unchanged

  auto s3 = parseColdLocation("s3://my.bucket-1");
  ASSERT_TRUE(s3);
  EXPECT_EQ(s3->kind, ColdLocation::Kind::kS3);
  EXPECT_EQ(s3->container, "my.bucket-1");
  EXPECT_EQ(s3->prefix, "");
  EXPECT_TRUE(s3->account.empty());
  EXPECT_EQ(s3->objectName("k"), "k");
  EXPECT_EQ(s3->toString(), "s3://my.bucket-1");

  auto s3p = parseColdLocation("s3://bkt/data/set1");
  ASSERT_TRUE(s3p);
  EXPECT_EQ(s3p->prefix, "data/set1");
}

TEST(ColdLocation, RefusesBadNames) {
  for (const char* bad : {"", "gs://b/x", "az://", "az://acct", "az://acct/", "az://AC/cont",
                          "az://ab/cont", "az://acct/Cont", "az://acct/c", "az://acct/a--b",
                          "az://acct/-ab", "az://acct_1/cont", "s3://", "s3://ab", "s3://Bkt",
                          "s3://-bkt", "s3://bkt-", "s3://bkt/a//b", "s3://b_k"}) {
    auto r = parseColdLocation(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad;
    }
  }
}

TEST(HttpStatusMapping, DefiniteAnswersAndRetryables) {
  EXPECT_EQ(codeForHttpStatus(404), Code::kNotFound);
  EXPECT_EQ(codeForHttpStatus(403), Code::kPermissionDenied);
  EXPECT_EQ(codeForHttpStatus(401), Code::kPermissionDenied);
  EXPECT_EQ(codeForHttpStatus(412), Code::kPreconditionFailed);
  EXPECT_EQ(codeForHttpStatus(416), Code::kInvalidRange);
  EXPECT_EQ(codeForHttpStatus(400), Code::kInvalidArgument);
  EXPECT_EQ(codeForHttpStatus(409), Code::kInvalidArgument);
  EXPECT_EQ(codeForHttpStatus(429), Code::kBusy);
  EXPECT_EQ(codeForHttpStatus(503), Code::kBusy);
  EXPECT_EQ(codeForHttpStatus(500), Code::kUnavailable);
  EXPECT_EQ(codeForHttpStatus(502), Code::kUnavailable);
  for (int st : {429, 500, 502, 503, 504}) {
    EXPECT_TRUE(isRetryable(makeError(codeForHttpStatus(st)))) << st;
  }
  for (int st : {400, 401, 403, 404, 409, 412, 416}) {
    EXPECT_FALSE(isRetryable(makeError(codeForHttpStatus(st)))) << st;
  }
  EXPECT_EQ(unquote("\"abc\""), "abc");
  EXPECT_EQ(unquote("0x8D1"), "0x8D1");
}

TEST(Dates, AmzDateAndIso8601) {
  EXPECT_EQ(amzDate(1369353600), "20130524T000000Z");
  EXPECT_EQ(httpDate(1675418400), "Fri, 03 Feb 2023 10:00:00 GMT");
  EXPECT_EQ(parseIso8601Ms("2009-10-12T17:50:30.000Z"), 1255369830000);
  EXPECT_EQ(parseIso8601Ms("2009-10-12T17:50:30.5Z"), 1255369830500);
  EXPECT_EQ(parseIso8601Ms("2009-10-12T17:50:30Z"), 1255369830000);
  EXPECT_EQ(parseIso8601Ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_FALSE(parseIso8601Ms("2009-10-12 17:50:30Z"));
  EXPECT_FALSE(parseIso8601Ms("2009-13-12T17:50:30Z"));
  EXPECT_FALSE(parseIso8601Ms("2009-10-12T17:50:30"));
}

constexpr std::string_view kEmulatorKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
constexpr int64_t kNow = 1675418400;

Result<std::string> verifyAzure(std::string_view method, std::string_view path,
                                std::string_view query, const Headers& sent, uint64_t length,
                                std::string_view key, int64_t now = kNow) {
  Headers onWire = sent;  // what the server sees: the client adds Content-Length
  if (length > 0) {
    onWire.set("Content-Length", std::to_string(length));
  }
  auth::AzureAccount acct{"devstoreaccount1", {*base64Decode(key)}};
  auth::AzureRequest in{method, path, query, onWire, "devstoreaccount1", now, "127.0.0.1", false};
  return auth::verifySharedKey(in, [&](std::string_view name) -> const auth::AzureAccount* {
    return name == acct.name ? &acct : nullptr;
  });
}

TEST(SignSharedKey, VerifiesWithTheServerVerifier) {
  Headers h;
  h.set("x-ms-version", "2021-12-02");
  h.set("x-ms-blob-type", "BlockBlob");
  h.set("Content-Type", "text/plain");
  h.set("x-ms-meta-source", "ember");
  h.set("x-ms-range", "bytes=0-9");
  h.set("If-Match", "\"0x8D1\"");
  const std::string path = "/devstoreaccount1/cold/pre/a%20b/c.bin";
  const std::string query = "comp=block&blockid=" + encodeQuery(base64Encode("ember-block-1"));
  ASSERT_TRUE(signSharedKey("PUT", path, query, h, 11, "devstoreaccount1", kEmulatorKey, kNow));
  EXPECT_EQ(h.get("x-ms-date"), "Fri, 03 Feb 2023 10:00:00 GMT");
  EXPECT_EQ(h.get("authorization").substr(0, 27), "SharedKey devstoreaccount1:");
  auto ok = verifyAzure("PUT", path, query, h, 11, kEmulatorKey);
  ASSERT_TRUE(ok) << ok.error().toString();
  EXPECT_EQ(*ok, "devstoreaccount1");

  // Any change the signature covers is caught: the length, the method, the path, the key.
  EXPECT_EQ(verifyAzure("PUT", path, query, h, 12, kEmulatorKey).error().code(),
            Code::kSignatureMismatch);
  EXPECT_EQ(verifyAzure("GET", path, query, h, 11, kEmulatorKey).error().code(),
            Code::kSignatureMismatch);
  EXPECT_EQ(verifyAzure("PUT", path + "x", query, h, 11, kEmulatorKey).error().code(),
            Code::kSignatureMismatch);
  const std::string otherKey = base64Encode("another-key-0123456789abcdef");
  EXPECT_EQ(verifyAzure("PUT", path, query, h, 11, otherKey).error().code(),
            Code::kSignatureMismatch);
  // An old signature is refused by the skew check.
  EXPECT_EQ(verifyAzure("PUT", path, query, h, 11, kEmulatorKey, kNow + 3600).error().code(),
            Code::kRequestTimeSkewed);
}

TEST(SignSharedKey, EmptyBodyAndListQuery) {
  Headers h;
  h.set("x-ms-version", "2021-12-02");
  const std::string query = "restype=container&comp=list&prefix=a%2Fb&maxresults=10&delimiter=%2F";
  ASSERT_TRUE(signSharedKey("GET", "/devstoreaccount1/cold", query, h, 0, "devstoreaccount1",
                            kEmulatorKey, kNow));
  auto ok = verifyAzure("GET", "/devstoreaccount1/cold", query, h, 0, kEmulatorKey);
  EXPECT_TRUE(ok) << ok.error().toString();
  EXPECT_EQ(signSharedKey("GET", "/", "", h, 0, "devstoreaccount1", "not base64!", kNow).code(),
            Code::kInvalidArgument);
}

Result<auth::AuthContext> verifyS3(std::string_view method, std::string_view host,
                                   std::string_view path, std::string_view query,
                                   const Headers& sent, int64_t now) {
  static const auth::Credential cred{"alice", "AKIDALICE", "alice-secret-key"};
  Headers onWire = sent;
  onWire.set("Host", std::string(host));
  auth::SigV4Input in{method, path, query, onWire, now};
  return auth::verifySigV4(in, [](std::string_view ak) -> const auth::Credential* {
    return ak == cred.accessKey ? &cred : nullptr;
  });
}

TEST(SignSigV4, VerifiesWithTheServerVerifier) {
  const SigV4Key key{"AKIDALICE", "alice-secret-key", "us-east-1"};
  const int64_t now = 1369353600;
  const std::string body = "hello world";
  Headers h;
  h.set("Content-Type", "text/plain");
  h.set("x-amz-meta-source", "ember cold");
  h.set("Range", "bytes=0-3");  // not signed, and that is fine
  const std::string path = "/bucket/pre/a%20b/%E2%82%AC.bin";
  const std::string query = "partNumber=2&uploadId=" + encodeQuery("id/with+chars=");
  signSigV4("PUT", "127.0.0.1:9000", path, query, h, sha256Hex(body), key, now);
  EXPECT_EQ(h.get("x-amz-date"), "20130524T000000Z");
  EXPECT_NE(h.get("authorization").find(
                "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;"
                "x-amz-meta-source,"),
            std::string::npos)
      << h.get("authorization");
  auto ok = verifyS3("PUT", "127.0.0.1:9000", path, query, h, now);
  ASSERT_TRUE(ok) << ok.error().toString();
  EXPECT_EQ(ok->credential->user, "alice");
  EXPECT_EQ(ok->payload, auth::PayloadMode::kSigned);
  EXPECT_EQ(ok->payloadSha256Hex, sha256Hex(body));

  EXPECT_EQ(verifyS3("PUT", "127.0.0.1:9001", path, query, h, now).error().code(),
            Code::kSignatureMismatch);
  EXPECT_EQ(verifyS3("PUT", "127.0.0.1:9000", path, "partNumber=3", h, now).error().code(),
            Code::kSignatureMismatch);
  Headers wrong = h;
  wrong.set("x-amz-meta-source", "changed");
  EXPECT_EQ(verifyS3("PUT", "127.0.0.1:9000", path, query, wrong, now).error().code(),
            Code::kSignatureMismatch);
  EXPECT_EQ(verifyS3("PUT", "127.0.0.1:9000", path, query, h, now + 3600).error().code(),
            Code::kRequestTimeSkewed);

  // A wrong secret is a signature mismatch at the server.
  Headers h2;
  signSigV4("GET", "h", "/bucket", "list-type=2&prefix=", h2,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            SigV4Key{"AKIDALICE", "wrong", "us-east-1"}, now);
  EXPECT_EQ(verifyS3("GET", "h", "/bucket", "list-type=2&prefix=", h2, now).error().code(),
            Code::kSignatureMismatch);
}

TEST(Encoding, PathsAndQueries) {
  EXPECT_EQ(encodePath("a b/c+d~e"), "a%20b/c%2Bd~e");
  EXPECT_EQ(encodeQuery("a/b=c"), "a%2Fb%3Dc");
}

}  // namespace
}  // namespace ember::cold
