// libFuzzer target for the SigV4 and SigV2 verifiers (src/auth/sigv4.h, src/auth/sigv2.h).
//
// Three kinds of input, chosen by the input's last byte (FuzzedDataProvider takes integers from
// the end): odd -> round trip, low bits 10 -> SigV2 round trip, otherwise raw.
//  - raw: the rest is split into method, path, query and header lines and verified as is. Checks
//    memory safety, that a request without a valid signature is never accepted as authenticated,
//    and properties of the building blocks (uriDecode(uriEncode(x)) == x, canonicalQuery is
//    idempotent).
//  - round trip: the rest describes a request; the independent test signer signs it (header or
//    presigned form) and the verifier must accept it with the expected context. Then one field
//    is changed and the verifier must reject it.
//  - SigV2 round trip: a request (any path, optional virtual-hosted bucket) signed with SigV2 in
//    header or query form, the StringToSign written out here; it must verify, and fail once the
//    method changes.
// Raw inputs also go through the SigV2 verifier, which must never authenticate them anonymously
// or as anyone but the one known credential.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fuzzer/FuzzedDataProvider.h>

#include "auth/sigv2.h"
#include "auth/sigv4.h"
#include "auth/sigv4_test_signer.h"

namespace ember::auth {
namespace {

constexpr int64_t kNow = 1369353600;  // 20130524T000000Z

const Credential kCredential{"fuzz-user", "AKIAIOSFODNN7EXAMPLE",
                             "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};

const Credential* lookup(std::string_view key) {
  return key == kCredential.accessKey ? &kCredential : nullptr;
}

std::vector<std::string_view> splitLines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) {
      nl = s.size();
    }
    lines.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

bool hasQueryParam(std::string_view rawQuery, std::string_view name) {
  std::string canonical = "&" + canonicalQuery(rawQuery, false);
  return canonical.find("&" + std::string(name) + "=") != std::string::npos;
}

void checkBuildingBlocks(std::string_view path, std::string_view query) {
  for (bool slash : {false, true}) {
    auto back = uriDecode(uriEncode(path, slash));
    if (!back || *back != path) {
      std::abort();
    }
  }
  std::string once = canonicalQuery(query, false);
  if (canonicalQuery(once, false) != once) {
    std::abort();
  }
  if (("&" + canonicalQuery(query, true)).find("&X-Amz-Signature=") != std::string::npos) {
    std::abort();
  }
}

// The SigV2 verifier on arbitrary input: it succeeds only for a request that presents SigV2
// credentials, and then only with the complete context for the one known credential.
void checkSigV2Raw(const SigV4Input& in) {
  bool presented = hasSigV2(in);
  for (std::string_view bucket : {"", "vb"}) {
    Result<AuthContext> ctx = verifySigV2(in, lookup, bucket);
    if (!ctx) {
      continue;
    }
    if (!presented || ctx->anonymous || ctx->credential != &kCredential ||
        ctx->payload != PayloadMode::kUnsigned) {
      std::abort();
    }
  }
}

void rawInput(std::string_view text) {
  std::vector<std::string_view> lines = splitLines(text);
  testing::TestRequest r;
  r.method = std::string(lines.size() > 0 ? lines[0] : "GET");
  r.rawPath = std::string(lines.size() > 1 ? lines[1] : "/");
  r.rawQuery = std::string(lines.size() > 2 ? lines[2] : "");
  for (size_t i = 3; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    r.headers.add(std::string(lines[i].substr(0, colon)), std::string(lines[i].substr(colon + 1)));
  }
  checkBuildingBlocks(r.rawPath, r.rawQuery);
  SigV4Input in{r.method, r.rawPath, r.rawQuery, r.headers, kNow};
  Result<AuthContext> ctx = verifySigV4(in, lookup);
  if (ctx && !ctx->anonymous) {
    // Reachable only with a correct signature for kCredential; the context must be complete.
    if (ctx->credential != &kCredential || ctx->seedSignature.size() != 64 ||
        ctx->signingKey.size() != 32) {
      std::abort();
    }
  }
  bool presented = r.headers.has("authorization") || hasQueryParam(r.rawQuery, "X-Amz-Signature") ||
                   hasQueryParam(r.rawQuery, "X-Amz-Algorithm") ||
                   hasQueryParam(r.rawQuery, "X-Amz-Credential");
  if (ctx && ctx->anonymous && presented) {
    std::abort();  // credentials were presented but ignored
  }
  checkSigV2Raw(in);
}

// A header name the signer and verifier both handle: [a-z0-9-], not one they set themselves.
std::string headerName(FuzzedDataProvider& in) {
  std::string name = "x-f";
  for (char c : in.ConsumeRandomLengthString(12)) {
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
    name.push_back(kChars[static_cast<unsigned char>(c) % (sizeof(kChars) - 1)]);
  }
  return name;
}

// A header value without line breaks (HTTP cannot carry them).
std::string headerValue(FuzzedDataProvider& in) {
  std::string value = in.ConsumeRandomLengthString(40);
  std::erase_if(value, [](char c) { return c == '\r' || c == '\n' || c == '\v' || c == '\f'; });
  return value;
}

void roundTrip(FuzzedDataProvider& in) {
  testing::TestRequest r;
  static constexpr const char* kMethods[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
  r.method = kMethods[in.ConsumeIntegralInRange<size_t>(0, 4)];
  r.rawPath = "/" + in.ConsumeRandomLengthString(60);
  r.rawQuery = in.ConsumeRandomLengthString(60);
  if (r.rawPath.find_first_of("?#\r\n") != std::string::npos) {
    return;  // not something an HTTP parser hands over as a path
  }
  r.headers.add("Host", headerValue(in));
  testing::SignOptions o;
  o.region = in.ConsumeBool() ? "us-east-1" : "r" + std::to_string(in.ConsumeIntegral<uint8_t>());
  o.signedHeaders = {"host"};
  size_t extra = in.ConsumeIntegralInRange<size_t>(0, 4);
  for (size_t i = 0; i < extra; ++i) {
    std::string name = headerName(in);
    size_t copies = in.ConsumeIntegralInRange<size_t>(1, 2);
    for (size_t k = 0; k < copies; ++k) {
      std::string wireName = name;
      if (in.ConsumeBool()) {
        for (char& c : wireName) {
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
      }
      r.headers.add(wireName, headerValue(in));
    }
    if (std::find(o.signedHeaders.begin(), o.signedHeaders.end(), name) == o.signedHeaders.end()) {
      o.signedHeaders.push_back(name);
    }
  }
  bool presign = in.ConsumeBool();
  bool presignLikeQuery = false;
  for (std::string_view p : {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                             "X-Amz-SignedHeaders", "X-Amz-Signature"}) {
    presignLikeQuery = presignLikeQuery || hasQueryParam(r.rawQuery, p);
  }
  if (presign) {
    if (presignLikeQuery) {
      return;  // the signer would add a second copy of a parameter it sets
    }
    std::sort(o.signedHeaders.begin(), o.signedHeaders.end());
    testing::presignRequest(r, o, in.ConsumeIntegralInRange<int64_t>(1, 604800));
  } else {
    o.signedHeaders.push_back("x-amz-content-sha256");
    o.signedHeaders.push_back("x-amz-date");
    std::sort(o.signedHeaders.begin(), o.signedHeaders.end());
    testing::signRequest(r, o);
  }
  SigV4Input input{r.method, r.rawPath, r.rawQuery, r.headers, kNow};
  Result<AuthContext> ctx = verifySigV4(input, lookup);
  if (!presign && (hasQueryParam(r.rawQuery, "X-Amz-Signature") ||
                   hasQueryParam(r.rawQuery, "X-Amz-Algorithm") ||
                   hasQueryParam(r.rawQuery, "X-Amz-Credential"))) {
    if (ctx || ctx.error().code() != Code::kAuthMalformed) {
      std::abort();  // header auth plus presign parameters must be refused as ambiguous
    }
    return;
  }
  if (!uriDecode(r.rawPath)) {
    if (ctx || ctx.error().code() != Code::kInvalidArgument) {
      std::abort();  // malformed percent-encoding in the path must be refused
    }
    return;
  }
  if (!ctx || ctx->anonymous || ctx->presigned != presign || ctx->credential != &kCredential) {
    std::abort();  // a correctly signed request was refused
  }
  // Change the method: the signature must no longer hold.
  testing::TestRequest changed = r;
  changed.method = r.method == "GET" ? "PUT" : "GET";
  SigV4Input changedInput{changed.method, changed.rawPath, changed.rawQuery, changed.headers, kNow};
  if (verifySigV4(changedInput, lookup)) {
    std::abort();
  }
}

void sigV2RoundTrip(FuzzedDataProvider& in) {
  static constexpr const char* kMethods[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};
  testing::TestRequest r;
  r.method = kMethods[in.ConsumeIntegralInRange<size_t>(0, 4)];
  r.rawPath = "/" + in.ConsumeRandomLengthString(60);
  if (r.rawPath.find_first_of("?#\r\n") != std::string::npos) {
    return;  // not something an HTTP parser hands over as a path
  }
  std::string bucket = in.ConsumeBool() ? "" : "vb";
  bool presign = in.ConsumeBool();
  // The CanonicalizedResource of a request without sub-resources: [/bucket] + the path as sent.
  std::string resource = (bucket.empty() ? "" : "/" + bucket) + r.rawPath;
  if (presign) {
    int64_t expires = kNow + in.ConsumeIntegralInRange<int64_t>(0, 604800);
    std::string stringToSign = fmt::format("{}\n\n\n{}\n{}", r.method, expires, resource);
    std::string signature = signSigV2(kCredential.secretKey, stringToSign);
    r.rawQuery = fmt::format("AWSAccessKeyId={}&Expires={}&Signature={}", kCredential.accessKey,
                             expires, uriEncode(signature, /*encodeSlash=*/true));
  } else {
    std::string date = "Fri, 24 May 2013 00:00:00 GMT";  // kNow
    r.headers.add("Date", date);
    std::string stringToSign = fmt::format("{}\n\n\n{}\n{}", r.method, date, resource);
    r.headers.add("Authorization",
                  fmt::format("AWS {}:{}", kCredential.accessKey,
                              signSigV2(kCredential.secretKey, stringToSign)));
  }
  SigV4Input input{r.method, r.rawPath, r.rawQuery, r.headers, kNow};
  if (!hasSigV2(input)) {
    std::abort();
  }
  Result<AuthContext> ctx = verifySigV2(input, lookup, bucket);
  if (!ctx || ctx->anonymous || ctx->presigned != presign || ctx->credential != &kCredential) {
    std::abort();  // a correctly signed request was refused
  }
  std::string changedMethod = r.method == "GET" ? "PUT" : "GET";
  SigV4Input changed{changedMethod, r.rawPath, r.rawQuery, r.headers, kNow};
  if (verifySigV2(changed, lookup, bucket)) {
    std::abort();
  }
}

}  // namespace
}  // namespace ember::auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  uint8_t mode = in.ConsumeIntegral<uint8_t>();
  if (mode & 1) {
    ember::auth::roundTrip(in);
  } else if ((mode & 3) == 2) {
    ember::auth::sigV2RoundTrip(in);
  } else {
    std::string rest = in.ConsumeRemainingBytesAsString();
    ember::auth::rawInput(rest);
  }
  return 0;
}
