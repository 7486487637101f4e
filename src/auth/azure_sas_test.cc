#include "auth/azure_sas.h"

#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "auth/sigv4.h"
#include "common/digest.h"

namespace ember::auth {
namespace {

// SAS tokens generated with the Debian package python3-azure-storage (azure-storage-blob
// 12.15.0b1, /usr/bin/python3), account "devstoreaccount1", the emulator key, start
// datetime(2023, 2, 3, 9) and expiry datetime(2023, 2, 3, 11) unless the comment says otherwise:
//   generate_account_sas / generate_container_sas / generate_blob_sas        (sv=2021-12-02)
// and with the legacy SDKs bundled in python3-azure-multiapi-storage:
//   azure.multiapi.storage.v2018_11_09.blob.sharedaccesssignature.BlobSharedAccessSignature and
//   .common.sharedaccesssignature.SharedAccessSignature(x_ms_version="2018-11-09") (sv=2018-11-09)
//   azure.multiapi.storage.v2015_04_05.sharedaccesssignature.SharedAccessSignature (sv=2015-04-05)
// The tokens are pasted unchanged.
constexpr std::string_view kAccount = "devstoreaccount1";
constexpr std::string_view kEmulatorKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
constexpr std::string_view kSecondKey = "c2Vjb25kLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDEyMw==";
constexpr int64_t kNow = 1675418400;    // 2023-02-03T10:00:00Z
constexpr int64_t kStart = 1675414800;  // 2023-02-03T09:00:00Z
constexpr int64_t kExpiry = 1675422000; // 2023-02-03T11:00:00Z

// generate_account_sas(ResourceTypes(service, container, object),
//                      AccountSasPermissions(read, write, delete, list, add, create), se, start=st)
constexpr std::string_view kAcct1 =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=rwdlac&sv=2021-12-02&ss=b&srt=sco"
    "&sig=kNiS068kaPwBzUqHMpym6zULwL5F4aavH3SqnM8w%2Bw4%3D";
// generate_account_sas("co", "rl", se, start=st, ip="10.0.0.1-10.0.0.255", protocol="https",
//                      encryption_scope="scope1")
constexpr std::string_view kAcct2 =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=rl&sip=10.0.0.1-10.0.0.255"
    "&spr=https&sv=2021-12-02&ss=b&srt=co&ses=scope1"
    "&sig=ZGVax0Rd0qA3pUYyByURLpuqz5849EDGaeHPx80psgE%3D";
// generate_account_sas("o", "r", "2023-02-04", start="2023-02-03")
constexpr std::string_view kAcct3 =
    "st=2023-02-03&se=2023-02-04&sp=r&sv=2021-12-02&ss=b&srt=o"
    "&sig=OcMVW4Vg0IiBFmSnWWg66W6pj/fjv9GsZx4XbH94n5k%3D";
// generate_container_sas("cont", permission="racwdl", expiry=se, start=st)
constexpr std::string_view kCont1 =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=racwdl&sv=2021-12-02&sr=c"
    "&sig=IbIXrOoDv/J0oOqSpwHB1Q8pIyvQxFt2bS9t5qRuu7o%3D";
// generate_container_sas("cont", permission="rl", expiry=se, ip="192.168.1.7", protocol="https",
//   cache_control="no-cache", content_disposition='attachment; filename="x.txt"',
//   content_encoding="gzip", content_language="en-US", content_type="text/plain; charset=utf-8")
constexpr std::string_view kCont2 =
    "se=2023-02-03T11%3A00%3A00Z&sp=rl&sip=192.168.1.7&spr=https&sv=2021-12-02&sr=c"
    "&rscc=no-cache&rscd=attachment%3B%20filename%3D%22x.txt%22&rsce=gzip&rscl=en-US"
    "&rsct=text/plain%3B%20charset%3Dutf-8&sig=TxtLcFBUu2nxIw5bCAYrySqTz916wMWhk6jU%2BT5RbhM%3D";
// generate_blob_sas("cont", "dir/a b+c.txt", permission="rw", expiry=se, start=st)
constexpr std::string_view kBlob1 =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=rw&sv=2021-12-02&sr=b"
    "&sig=1cfcX5Bfv0K5CtWy3Iv30FFfyXiD6toIM35Ah6FFOcc%3D";
// generate_blob_sas("cont", "b", snapshot="2023-02-01T00:00:00.0000000Z", permission="r", ...);
// the SDK leaves the snapshot out of the token: the request carries it as snapshot=.
constexpr std::string_view kBlob2 =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=r&sv=2021-12-02&sr=bs"
    "&sig=exxCJKBDfS4YEgrkaX0ISKU3vsJvTqhOlijd7whY73g%3D";
constexpr std::string_view kSnapshotQuery = "snapshot=2023-02-01T00%3A00%3A00.0000000Z";
// generate_blob_sas("cont", "b", version_id="2023-02-01T00:00:00.1234567Z", permission="rd",
//                   encryption_scope="es", ...)
constexpr std::string_view kBlob3 =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=rd&sv=2021-12-02&sr=bv&ses=es"
    "&sig=xXl1%2B4C5Ac9OHGLJwCwvyfehwwVwT%2Br%2BJR7ULXAwfuQ%3D";
// generate_blob_sas("cont", "b", permission="r", expiry="2023-02-03T11:00:00.5000000Z",
//                   start="2023-02-03T09:00Z")
constexpr std::string_view kBlob4 =
    "st=2023-02-03T09%3A00Z&se=2023-02-03T11%3A00%3A00.5000000Z&sp=r&sv=2021-12-02&sr=b"
    "&sig=LpZmrplJ031pSswfmPIvTfgbFDsMGqBnbbCMrbqaSr4%3D";
// generate_blob_sas("cont", "b", user_delegation_key=<fake key>, permission="r", expiry=se)
constexpr std::string_view kUserDelegation =
    "se=2023-02-03T11%3A00%3A00Z&sp=r&sv=2021-12-02&sr=b&skoid=o&sktid=t&skt=s&ske=e&sks=b"
    "&skv=2021-12-02&sig=6Fr7SZTOrtPexW5D7PKIRwQIIExFIi2/j5JwBA3PvK4%3D";
// generate_container_sas("cont", policy_id="pol1")
constexpr std::string_view kPolicy =
    "sv=2021-12-02&si=pol1&sr=c&sig=t%2BTGlwtlMpFxnXOUFJpQ6u3DUasNAuoqJt2/vRuru5w%3D";
// v2018_11_09: generate_blob("cont", "b", permission="rw", expiry=se, start=st,
//   protocol="https,http", content_type="text/plain"); generate_blob("cont", "b",
//   snapshot="2023-02-01T00:00:00.0000000Z", permission="r", expiry=se);
//   generate_container("cont", permission="rl", expiry=se, start=st);
//   generate_account("b", "sco", "rwdlacup", se, start=st)
constexpr std::string_view kV18Blob =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=rw&spr=https%2Chttp&sv=2018-11-09"
    "&sr=b&rsct=text/plain&sig=PNgDaETrEQjgH2EMRrBAJOH0TBYL1kz7oxqRKY/n%2Bd4%3D";
constexpr std::string_view kV18BlobSnapshot =
    "se=2023-02-03T11%3A00%3A00Z&sp=r&sv=2018-11-09&sr=bs"
    "&sig=yB4qInUk3c2hkdR45EzcR/A/skrXXwuvkZB49XAh3qY%3D";
constexpr std::string_view kV18Cont =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=rl&sv=2018-11-09&sr=c"
    "&sig=rnmosOzi61KjsOJhgYNTIST/BItWZ8W5SZf9O9Q0iLM%3D";
constexpr std::string_view kV18Acct =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=rwdlacup&sv=2018-11-09&ss=b"
    "&srt=sco&sig=boEzct6cvZnPViNkS36cN8D0xmbg1Q21nxLSKcay2CE%3D";
// v2015_04_05: generate_blob("cont", "b", permission="r", expiry=se, start=st,
//   content_type="text/plain"); generate_container("cont", permission="rl", expiry=se);
//   generate_account("b", "sco", "rl", se, start=st)
constexpr std::string_view kV15Blob =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=r&sv=2015-04-05&sr=b"
    "&rsct=text/plain&sig=1jF%2Bugn94KB4IOnrUb3lnM0dK6r3Jj/AmtpqvQqCMfA%3D";
constexpr std::string_view kV15Cont =
    "se=2023-02-03T11%3A00%3A00Z&sp=rl&sv=2015-04-05&sr=c"
    "&sig=5cYgn1gFuGMihFMPw83kPQ7Gk5Axtj4ELQcxpvRBaD0%3D";
constexpr std::string_view kV15Acct =
    "st=2023-02-03T09%3A00%3A00Z&se=2023-02-03T11%3A00%3A00Z&sp=rl&sv=2015-04-05&ss=b&srt=sco"
    "&sig=pFJ7LLXTPJeAujr4AMJHXsT195aVseCXU0qdQQC2xxk%3D";

std::string rawKey(std::string_view b64) {
  auto raw = base64Decode(b64);
  return raw ? *raw : std::string();
}

struct Req {
  std::string query;
  std::string container = "cont";
  std::string blob = "b";
  std::string ip = "127.0.0.1";
  bool https = false;
  int64_t now = kNow;

  SasInput input() const { return SasInput{query, kAccount, container, blob, now, ip, https}; }
};

// Replaces the value of one parameter in a query (the first occurrence).
std::string withParam(std::string_view query, std::string_view name, std::string_view value) {
  std::string q(query);
  std::string key = std::string(name) + "=";
  size_t pos = q.starts_with(key) ? 0 : q.find("&" + key);
  if (pos == std::string::npos) {
    return q + "&" + key + std::string(value);
  }
  size_t begin = pos + (pos == 0 ? 0 : 1) + key.size();
  size_t end = q.find('&', begin);
  return q.replace(begin, (end == std::string::npos ? q.size() : end) - begin, value);
}

class AzureSasTest : public ::testing::Test {
 protected:
  AzureSasTest() {
    one_.name = std::string(kAccount);
    one_.keys = {rawKey(kEmulatorKey)};
    two_.name = std::string(kAccount);
    two_.keys = {rawKey(kEmulatorKey), rawKey(kSecondKey)};
  }

  AzureAccountLookup lookup(const AzureAccount& account) const {
    return [&account](std::string_view name) -> const AzureAccount* {
      return name == account.name ? &account : nullptr;
    };
  }

  Result<SasGrant> verify(const Req& r) const { return verifySas(r.input(), lookup(one_)); }

  SasGrant expectOk(const Req& r) const {
    EXPECT_TRUE(hasSas(r.query));
    auto result = verify(r);
    EXPECT_TRUE(result) << result.error().toString();
    return result ? *result : SasGrant{};
  }

  void expectError(const Req& r, Code code, std::string_view messagePrefix = {}) const {
    auto result = verify(r);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code(), code) << result.error().toString();
    EXPECT_TRUE(result.error().message().starts_with(messagePrefix)) << result.error().message();
  }

  // A SAS over `query` (without sig) signed here with `key`.
  static std::string sign(std::string query, std::string_view key,
                          std::string_view container = "cont", std::string_view blob = "b") {
    auto params = parseSasParams(query);
    EXPECT_TRUE(params);
    std::string sig = signAzure(rawKey(key), sasStringToSign(*params, kAccount, container, blob));
    return query + "&sig=" + uriEncode(sig, true);
  }

  AzureAccount one_;
  AzureAccount two_;
};

TEST_F(AzureSasTest, AccountSasFromSdk) {
  SasGrant g = expectOk({std::string(kAcct1)});
  EXPECT_EQ(g.kind, SasGrant::Kind::kAccount);
  EXPECT_EQ(g.account, kAccount);
  EXPECT_EQ(g.permissions, "rwdlac");
  EXPECT_EQ(g.resourceTypes, "sco");
  EXPECT_EQ(g.services, "b");
  EXPECT_EQ(g.version, "2021-12-02");
  EXPECT_EQ(g.expiresAt, kExpiry);
  EXPECT_TRUE(sasPermits(g, 'r', ResourceLevel::kObject, "any", "blob"));
  EXPECT_TRUE(sasPermits(g, 'l', ResourceLevel::kContainer, "any", ""));
  EXPECT_TRUE(sasPermits(g, 'l', ResourceLevel::kService, "", ""));
  Status s = sasPermits(g, 'x', ResourceLevel::kObject, "c", "b");
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_TRUE(s.message().starts_with("AuthorizationPermissionMismatch: ")) << s.message();

  // A blob-level request verifies the same token (an account SAS names no resource).
  expectOk({std::string(kAcct1), "", ""});
  expectOk({std::string(kAcct3)});  // date-only st/se
  expectOk({std::string(kV18Acct)});
  expectOk({std::string(kV15Acct)});
}

TEST_F(AzureSasTest, AccountSasIpProtocolAndResourceTypes) {
  Req r{std::string(kAcct2)};
  r.https = true;
  r.ip = "10.0.0.7";
  SasGrant g = expectOk(r);
  EXPECT_EQ(g.encryptionScope, "scope1");
  Status s = sasPermits(g, 'l', ResourceLevel::kService, "", "");
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_TRUE(s.message().starts_with("AuthorizationResourceTypeMismatch: ")) << s.message();
  EXPECT_TRUE(sasPermits(g, 'l', ResourceLevel::kContainer, "c", ""));
  EXPECT_FALSE(sasPermits(g, 'w', ResourceLevel::kObject, "c", "b"));

  r.ip = "::ffff:10.0.0.255";  // IPv4-mapped, upper end of the range
  expectOk(r);
  r.ip = "10.0.1.1";
  expectError(r, Code::kPermissionDenied, "AuthorizationSourceIPMismatch: ");
  r.ip = "10.0.0.0";
  expectError(r, Code::kPermissionDenied, "AuthorizationSourceIPMismatch: ");
  r.ip = "fe80::1";
  expectError(r, Code::kPermissionDenied, "AuthorizationSourceIPMismatch: ");
  r.ip = "10.0.0.7";
  r.https = false;
  expectError(r, Code::kPermissionDenied, "AuthorizationProtocolMismatch: ");
}

TEST_F(AzureSasTest, AccountSasServiceLetter) {
  std::string token =
      sign("sv=2021-12-02&ss=qt&srt=sco&sp=rl&se=2023-02-03T11:00:00Z", kEmulatorKey);
  SasGrant g = expectOk({token});
  Status s = sasPermits(g, 'r', ResourceLevel::kObject, "cont", "b");
  EXPECT_EQ(s.code(), Code::kPermissionDenied);
  EXPECT_TRUE(s.message().starts_with("AuthorizationServiceMismatch: ")) << s.message();
}

TEST_F(AzureSasTest, ContainerSasFromSdk) {
  SasGrant g = expectOk({std::string(kCont1), "cont", "some/blob"});
  EXPECT_EQ(g.kind, SasGrant::Kind::kService);
  EXPECT_EQ(g.scope, SasGrant::Scope::kContainer);
  EXPECT_EQ(g.container, "cont");
  EXPECT_EQ(g.permissions, "racwdl");
  EXPECT_TRUE(sasPermits(g, 'w', ResourceLevel::kObject, "cont", "other"));
  EXPECT_TRUE(sasPermits(g, 'l', ResourceLevel::kContainer, "cont", ""));
  EXPECT_EQ(sasPermits(g, 'l', ResourceLevel::kContainer, "other", "").code(),
            Code::kPermissionDenied);
  EXPECT_TRUE(sasPermits(g, 'l', ResourceLevel::kService, "", "")
                  .message()
                  .starts_with("AuthorizationResourceTypeMismatch: "));
  expectOk({std::string(kCont1), "cont", ""});  // a container-level request
  // Another container: the canonicalized resource differs, so the signature does.
  expectError({std::string(kCont1), "other", ""}, Code::kSignatureMismatch);
  // No container at all.
  expectError({std::string(kCont1), "", ""}, Code::kPermissionDenied,
              "AuthorizationResourceTypeMismatch: ");
  expectOk({std::string(kV18Cont), "cont", ""});
  expectOk({std::string(kV15Cont), "cont", ""});
}

TEST_F(AzureSasTest, ContainerSasOverridesIpAndProtocol) {
  Req r{std::string(kCont2), "cont", "x.txt", "192.168.1.7", true};
  SasGrant g = expectOk(r);
  EXPECT_EQ(g.responseOverrides.cacheControl, "no-cache");
  EXPECT_EQ(g.responseOverrides.contentDisposition, "attachment; filename=\"x.txt\"");
  EXPECT_EQ(g.responseOverrides.contentEncoding, "gzip");
  EXPECT_EQ(g.responseOverrides.contentLanguage, "en-US");
  EXPECT_EQ(g.responseOverrides.contentType, "text/plain; charset=utf-8");
  r.ip = "192.168.1.8";
  expectError(r, Code::kPermissionDenied, "AuthorizationSourceIPMismatch: ");
  r.ip = "192.168.1.7";
  r.https = false;
  expectError(r, Code::kPermissionDenied, "AuthorizationProtocolMismatch: ");
}

TEST_F(AzureSasTest, BlobSasFromSdk) {
  SasGrant g = expectOk({std::string(kBlob1), "cont", "dir/a b+c.txt"});
  EXPECT_EQ(g.scope, SasGrant::Scope::kBlob);
  EXPECT_EQ(g.blob, "dir/a b+c.txt");
  EXPECT_TRUE(sasPermits(g, 'w', ResourceLevel::kObject, "cont", "dir/a b+c.txt"));
  EXPECT_FALSE(sasPermits(g, 'd', ResourceLevel::kObject, "cont", "dir/a b+c.txt"));
  EXPECT_TRUE(sasPermits(g, 'r', ResourceLevel::kObject, "cont", "dir/a b+c.txt2")
                  .message()
                  .starts_with("AuthorizationResourceTypeMismatch: "));
  EXPECT_FALSE(sasPermits(g, 'r', ResourceLevel::kContainer, "cont", ""));
  expectError({std::string(kBlob1), "cont", "dir/a b+c.txt2"}, Code::kSignatureMismatch);
  expectError({std::string(kBlob1), "cont", ""}, Code::kPermissionDenied,
              "AuthorizationResourceTypeMismatch: ");

  expectOk({std::string(kBlob4)});  // st without seconds, se with a fraction
  expectOk({std::string(kV18Blob)});
  expectOk({std::string(kV15Blob)});
}

TEST_F(AzureSasTest, SnapshotAndVersionSas) {
  // sr=bs signs the snapshot the request names.
  SasGrant g = expectOk({std::string(kBlob2) + "&" + std::string(kSnapshotQuery)});
  EXPECT_EQ(g.snapshot, "2023-02-01T00:00:00.0000000Z");
  expectError({std::string(kBlob2)}, Code::kSignatureMismatch);
  expectError({std::string(kBlob2) + "&snapshot=2023-02-02T00%3A00%3A00.0000000Z"},
              Code::kSignatureMismatch);
  expectOk({std::string(kV18BlobSnapshot) + "&" + std::string(kSnapshotQuery)});
  // sr=bv signs the version id.
  SasGrant v = expectOk({std::string(kBlob3) + "&versionid=2023-02-01T00%3A00%3A00.1234567Z"});
  EXPECT_EQ(v.snapshot, "2023-02-01T00:00:00.1234567Z");
  EXPECT_EQ(v.encryptionScope, "es");
  EXPECT_EQ(v.permissions, "rd");
}

TEST_F(AzureSasTest, TamperedFieldsFail) {
  struct Case {
    std::string_view token;
    std::string_view name;
    std::string_view value;
  };
  const Case cases[] = {
      {kAcct1, "sp", "rwdlacx"},
      {kAcct1, "ss", "bf"},
      {kAcct1, "srt", "so"},
      {kAcct1, "st", "2023-02-03T08%3A00%3A00Z"},
      {kAcct1, "se", "2023-02-03T12%3A00%3A00Z"},
      {kAcct1, "sv", "2020-12-06"},
      {kAcct1, "ses", "x"},
      {kAcct1, "spr", "https"},
      {kAcct1, "sip", "127.0.0.1"},
      {kCont2, "rscc", "max-age=1"},
      {kCont2, "rscd", "inline"},
      {kCont2, "rsce", "br"},
      {kCont2, "rscl", "de"},
      {kCont2, "rsct", "text/html"},
      {kCont2, "sip", "192.168.1.0-192.168.1.255"},
      {kCont2, "spr", "https,http"},
      {kCont1, "sr", "b"},
      {kBlob1, "sp", "r"},
      {kBlob1, "sr", "c"},
      {kAcct1, "sig", "kNiS068kaPwBzUqHMpym6zULwL5F4aavH3SqnM8w%2Bw5%3D"},
  };
  for (const Case& c : cases) {
    Req r{withParam(c.token, c.name, c.value), "cont", "b", "192.168.1.7", true};
    if (c.token == kBlob1) {
      r.blob = "dir/a b+c.txt";
    }
    SCOPED_TRACE(r.query);
    expectError(r, Code::kSignatureMismatch, "Signature did not match. String to sign used was ");
  }
  auto result = verify({std::string(withParam(kAcct1, "sp", "r"))});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(),
            "Signature did not match. String to sign used was devstoreaccount1\nr\nb\nsco\n"
            "2023-02-03T09:00:00Z\n2023-02-03T11:00:00Z\n\n\n2021-12-02\n\n");
}

TEST_F(AzureSasTest, TimeWindow) {
  Req early{std::string(kAcct1)};
  early.now = kStart - 1;
  expectError(early, Code::kExpired, "Signature not valid in the specified time frame");
  Req late{std::string(kAcct1)};
  late.now = kExpiry + 1;
  expectError(late, Code::kExpired, "Signature not valid in the specified time frame");
  Req edge{std::string(kAcct1)};
  edge.now = kExpiry;
  expectOk(edge);
  edge.now = kStart;
  expectOk(edge);

  std::string backwards = sign(
      "sv=2021-12-02&ss=b&srt=sco&sp=r&st=2023-02-03T11:00:00Z&se=2023-02-03T09:00:00Z",
      kEmulatorKey);
  expectError({backwards}, Code::kExpired, "Signed expiry time [");
}

TEST_F(AzureSasTest, SecondKeyVerifies) {
  std::string token = sign("sv=2021-12-02&sr=b&sp=r&se=2023-02-03T11:00:00Z", kSecondKey);
  auto withBoth = verifySas(Req{token}.input(), lookup(two_));
  ASSERT_TRUE(withBoth) << withBoth.error().toString();
  EXPECT_EQ(withBoth->scope, SasGrant::Scope::kBlob);
  expectError({token}, Code::kSignatureMismatch);  // only the first key
  EXPECT_TRUE(verifySas(Req{std::string(kCont1)}.input(), lookup(two_)));
  AzureAccount other{"otheraccount", {rawKey(kEmulatorKey)}};
  EXPECT_EQ(verifySas(Req{std::string(kCont1)}.input(), lookup(other)).error().code(),
            Code::kSignatureMismatch);
}

TEST_F(AzureSasTest, Unsupported) {
  expectError({std::string(kUserDelegation)}, Code::kNotImplemented);
  expectError({std::string(kPolicy)}, Code::kNotImplemented);
}

TEST_F(AzureSasTest, MalformedFields) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"se", "2023-02-30T11%3A00%3A00Z"},  {"se", "tomorrow"},
      {"st", "2023-02-03T09%3A00%3A00"},   {"st", "2023-02-03T25%3A00Z"},
      {"sv", "2014-02-14"},                {"sv", "latest"},
      {"sr", "x"},                         {"sr", "d"},
      {"sip", "10.0.0.300"},               {"sip", "10.0.0.9-10.0.0.1"},
      {"spr", "http"},                     {"sp", "R"},
  };
  for (const auto& [name, value] : cases) {
    std::string token = withParam(kCont1, name, value);
    SCOPED_TRACE(token);
    expectError({token}, Code::kAuthMalformed);
  }
  expectError({std::string(kCont1) + "&sp=r"}, Code::kAuthMalformed);  // repeated
  expectError({std::string(kCont1) + "&SP=r"}, Code::kAuthMalformed);  // names are case-insensitive
  expectError({"sv=2021-12-02&sr=c&sp=r&se=2023-02-04"}, Code::kAuthMalformed);  // no sig
  expectError({"sv=2021-12-02&sr=c&sp=r&se=2023-02-04&sig="}, Code::kAuthMalformed);
  expectError({"sr=c&sp=r&se=2023-02-04&sig=abc"}, Code::kAuthMalformed);         // no sv
  expectError({"sv=2021-12-02&sr=c&se=2023-02-04&sig=abc"}, Code::kAuthMalformed);  // no sp
  expectError({"sv=2021-12-02&sr=c&sp=r&sig=abc"}, Code::kAuthMalformed);          // no se
  expectError({"sv=2021-12-02&sp=r&se=2023-02-04&sig=abc"}, Code::kAuthMalformed);  // no ss/srt
  expectError({"sv=2021-12-02&sr=c&ss=b&srt=o&sp=r&se=2023-02-04&sig=abc"}, Code::kAuthMalformed);
  expectError({"sv=2015-04-05&sr=bs&sp=r&se=2023-02-04&sig=abc"}, Code::kAuthMalformed);
}

TEST_F(AzureSasTest, StringToSignByVersion) {
  auto params = parseSasParams(
      "sv=2021-12-02&sr=bs&sp=r&st=S&se=E&sip=I&spr=https&ses=X&rscc=1&rscd=2&rsce=3&rscl=4"
      "&rsct=5&snapshot=T&sig=z");
  ASSERT_TRUE(params);
  EXPECT_EQ(sasStringToSign(*params, "acct", "c", "d/b"),
            "r\nS\nE\n/blob/acct/c/d/b\n\nI\nhttps\n2021-12-02\nbs\nT\nX\n1\n2\n3\n4\n5");
  params->version = "2019-02-02";
  EXPECT_EQ(sasStringToSign(*params, "acct", "c", "d/b"),
            "r\nS\nE\n/blob/acct/c/d/b\n\nI\nhttps\n2019-02-02\nbs\nT\n1\n2\n3\n4\n5");
  params->version = "2017-11-09";
  EXPECT_EQ(sasStringToSign(*params, "acct", "c", "d/b"),
            "r\nS\nE\n/blob/acct/c/d/b\n\nI\nhttps\n2017-11-09\n1\n2\n3\n4\n5");
  params->resource.clear();
  params->services = "b";
  params->resourceTypes = "o";
  EXPECT_EQ(sasStringToSign(*params, "acct", "c", "d/b"),
            "acct\nr\nb\no\nS\nE\nI\nhttps\n2017-11-09\n");
  params->version = "2020-12-06";
  EXPECT_EQ(sasStringToSign(*params, "acct", "", ""),
            "acct\nr\nb\no\nS\nE\nI\nhttps\n2020-12-06\nX\n");
}

TEST_F(AzureSasTest, HasSas) {
  EXPECT_TRUE(hasSas(kAcct1));
  EXPECT_TRUE(hasSas("comp=list&SIG=x"));
  EXPECT_FALSE(hasSas("comp=list&signature=x"));
  EXPECT_FALSE(hasSas(""));
}

TEST_F(AzureSasTest, ParseSasTime) {
  EXPECT_EQ(parseSasTime("2023-02-03T10:00:00Z"), kNow);
  EXPECT_EQ(parseSasTime("2023-02-03T10:00Z"), kNow);
  EXPECT_EQ(parseSasTime("2023-02-03T10:00:00.1234567Z"), kNow);
  EXPECT_EQ(parseSasTime("2023-02-03T12:00:00+02:00"), kNow);
  EXPECT_EQ(parseSasTime("2023-02-03T08:30:00-01:30"), kNow);
  EXPECT_EQ(parseSasTime("2023-02-03"), kNow - 10 * 3600);
  EXPECT_EQ(parseSasTime("2024-02-29"), 1709164800);
  for (std::string_view bad :
       {"", "2023-02-03T10:00:00", "2023-02-03T10:00:00.Z", "2023-02-29", "2023-13-01",
        "2023-02-03 10:00:00Z", "2023-02-03T10:00:60Z", "2023-2-3", "2023-02-03T10Z",
        "2023-02-03T10:00:00ZZ", "+023-02-03"}) {
    EXPECT_FALSE(parseSasTime(bad)) << bad;
  }
}

}  // namespace
}  // namespace ember::auth
