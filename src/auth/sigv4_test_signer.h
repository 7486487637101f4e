#pragma once
// Test-only SigV4 signer (the client side), used by the sigv4/chunked unit tests and the fuzzers to
// produce valid requests. Header canonicalization is written independently of sigv4.cc, so the
// tests compare two implementations. Not part of any library: include it only from *_test.cc
// files and tests/fuzz.

#include <algorithm>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "auth/sigv4.h"
#include "common/digest.h"
#include "common/headers.h"

namespace ember::auth::testing {

struct TestRequest {
  std::string method = "GET";
  std::string rawPath = "/";
  std::string rawQuery;
  Headers headers;
};

struct SignOptions {
  std::string accessKey = "AKIAIOSFODNN7EXAMPLE";
  std::string secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  std::string amzDate = "20130524T000000Z";
  std::string region = "us-east-1";
  std::string service = "s3";
  std::vector<std::string> signedHeaders = {"host", "x-amz-content-sha256", "x-amz-date"};
  std::string payloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
};

inline std::string scopeOf(const SignOptions& o) {
  return fmt::format("{}/{}/{}/aws4_request", o.amzDate.substr(0, 8), o.region, o.service);
}

// Canonical header block for the given (lowercase) names, in the given order.
inline std::string signerCanonicalHeaders(const Headers& headers,
                                          const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    std::vector<std::string> values;
    for (const Headers::Field& f : headers.fields()) {
      if (toLower(f.name) != name) {
        continue;
      }
      // Whitespace-split and re-join: trims and collapses runs of blanks.
      std::istringstream words(f.value);
      std::string word;
      std::string joined;
      while (words >> word) {
        joined += joined.empty() ? word : " " + word;
      }
      values.push_back(joined);
    }
    out += name + ":";
    for (size_t i = 0; i < values.size(); ++i) {
      out += (i == 0 ? "" : ",") + values[i];
    }
    out += "\n";
  }
  return out;
}

inline std::string signerCanonicalRequest(const TestRequest& r, const SignOptions& o,
                                          std::string_view canonicalQueryText) {
  std::string path = r.rawPath.empty() ? "/" : r.rawPath;
  auto decoded = uriDecode(path);
  std::string names;
  for (const std::string& n : o.signedHeaders) {
    names += (names.empty() ? "" : ";") + n;
  }
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", r.method,
                     uriEncode(decoded ? *decoded : path, false), canonicalQueryText,
                     signerCanonicalHeaders(r.headers, o.signedHeaders), names, o.payloadHash);
}

inline std::string signerSignature(const SignOptions& o, std::string_view canonicalRequest) {
  std::string stringToSign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", o.amzDate, scopeOf(o),
                                         sha256Hex(canonicalRequest));
  std::string key = deriveSigningKey(o.secretKey, o.amzDate.substr(0, 8), o.region, o.service);
  return signHex(key, stringToSign);
}

// Header auth: sets x-amz-date (unless present), x-amz-content-sha256 (unless present) and
// Authorization. Returns the signature.
inline std::string signRequest(TestRequest& r, const SignOptions& o) {
  if (!r.headers.has("x-amz-date")) {
    r.headers.add("X-Amz-Date", o.amzDate);
  }
  if (!r.headers.has("x-amz-content-sha256")) {
    r.headers.add("X-Amz-Content-Sha256", o.payloadHash);
  }
  std::string sig =
      signerSignature(o, signerCanonicalRequest(r, o, canonicalQuery(r.rawQuery, false)));
  std::string names;
  for (const std::string& n : o.signedHeaders) {
    names += (names.empty() ? "" : ";") + n;
  }
  r.headers.set("Authorization",
                fmt::format("AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={},Signature={}",
                            o.accessKey, scopeOf(o), names, sig));
  return sig;
}

// Presigned URL: appends the X-Amz-* parameters and the signature to rawQuery. The payload hash
// is UNSIGNED-PAYLOAD unless the request carries x-amz-content-sha256.
inline std::string presignRequest(TestRequest& r, SignOptions o, int64_t expires) {
  std::string names;
  for (const std::string& n : o.signedHeaders) {
    names += (names.empty() ? "" : ";") + n;
  }
  std::string params = fmt::format(
      "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date={}&X-Amz-Expires={}"
      "&X-Amz-SignedHeaders={}",
      uriEncode(o.accessKey + "/" + scopeOf(o), true), o.amzDate, expires, uriEncode(names, true));
  r.rawQuery = r.rawQuery.empty() ? params : r.rawQuery + "&" + params;
  const std::string* contentSha = r.headers.find("x-amz-content-sha256");
  o.payloadHash = contentSha ? *contentSha : "UNSIGNED-PAYLOAD";
  std::string sig =
      signerSignature(o, signerCanonicalRequest(r, o, canonicalQuery(r.rawQuery, false)));
  r.rawQuery += "&X-Amz-Signature=" + sig;
  return sig;
}

// Signature of one aws-chunked chunk (client side of chunked.h).
inline std::string signChunk(std::string_view signingKey, std::string_view amzDate,
                             std::string_view scope, std::string_view previous,
                             std::string_view data) {
  return signHex(signingKey, fmt::format("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}", amzDate,
                                         scope, previous, sha256Hex(""), sha256Hex(data)));
}

inline std::string signTrailer(std::string_view signingKey, std::string_view amzDate,
                               std::string_view scope, std::string_view previous,
                               std::string_view canonicalTrailers) {
  return signHex(signingKey, fmt::format("AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}", amzDate, scope,
                                         previous, sha256Hex(canonicalTrailers)));
}

// Encodes `data` as an aws-chunked body with the given chunk sizes (the last chunk takes the
// rest). Signed modes chain signatures from ctx.seedSignature. Trailers are "name:value" pairs.
inline std::string encodeAwsChunked(
    const AuthContext& ctx, std::string_view data, const std::vector<size_t>& chunkSizes,
    const std::vector<std::pair<std::string, std::string>>& trailers) {
  bool isSigned = ctx.payload == PayloadMode::kStreamingSigned ||
                  ctx.payload == PayloadMode::kStreamingSignedTrailer;
  std::string out;
  std::string previous = ctx.seedSignature;
  size_t pos = 0;
  auto emit = [&](std::string_view piece) {
    out += fmt::format("{:x}", piece.size());
    if (isSigned) {
      previous = signChunk(ctx.signingKey, ctx.amzDate, ctx.scope, previous, piece);
      out += ";chunk-signature=" + previous;
    }
    out += "\r\n";
    out += piece;
    if (!piece.empty()) {
      out += "\r\n";
    }
  };
  for (size_t i = 0; pos < data.size(); ++i) {
    size_t n =
        i < chunkSizes.size() ? std::min(chunkSizes[i], data.size() - pos) : data.size() - pos;
    if (n == 0) {
      n = data.size() - pos;
    }
    emit(data.substr(pos, n));
    pos += n;
  }
  emit({});
  std::string canonical;
  for (const auto& [name, value] : trailers) {
    out += name + ":" + value + "\r\n";
    canonical += name + ":" + value + "\n";
  }
  if (ctx.payload == PayloadMode::kStreamingSignedTrailer) {
    out += "x-amz-trailer-signature:" +
           signTrailer(ctx.signingKey, ctx.amzDate, ctx.scope, previous, canonical) + "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace ember::auth::testing
