// libFuzzer target for the SigV4 verifier (src/auth/sigv4.h).
//
// Two kinds of input, chosen by the first byte:
//  - raw: the rest is split into method, path, query and header lines and verified as is. Checks
//    memory safety, that a request without a valid signature is never accepted as authenticated,
//    and properties of the building blocks (uriDecode(uriEncode(x)) == x, canonicalQuery is
//    idempotent).
//  - round trip: the rest describes a request; the independent test signer signs it (header or
//    presigned form) and the verifier must accept it with the expected context. Then one field
//    is changed and the verifier must reject it.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

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

}  // namespace
}  // namespace ember::auth

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeIntegral<uint8_t>() & 1) {
    ember::auth::roundTrip(in);
  } else {
    std::string rest = in.ConsumeRemainingBytesAsString();
    ember::auth::rawInput(rest);
  }
  return 0;
}
