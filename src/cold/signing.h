#pragma once
// Client-side request signing for the cold connectors, built on the canonicalization the
// verifiers in src/auth expose: Azure SharedKey (sharedKeyStringToSign + signAzure) and AWS SigV4
// (uriEncode, canonicalQuery, deriveSigningKey, signHex). Pure functions (the caller passes the
// time); signing_test.cc checks each signature with the matching verifier.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/headers.h"
#include "common/status.h"

namespace ember::cold {

// "Sun, 06 Nov 1994 08:49:37 GMT" and "20130524T000000Z" for unix seconds.
std::string httpDate(int64_t unixSeconds);
std::string amzDate(int64_t unixSeconds);
// ISO 8601 "2009-10-12T17:50:30.000Z" (fraction optional) -> unix ms; nullopt when malformed.
std::optional<int64_t> parseIso8601Ms(std::string_view s);

// Azure SharedKey: sets x-ms-date (from nowSeconds) and Authorization: SharedKey account:sig on
// `headers`. `contentLength` is what the request will send (the HTTP client adds the header
// itself; it is signed here). rawPath is the path as sent (percent-encoded), rawQuery without '?'.
// Errors: kInvalidArgument when the key is not base64.
Status signSharedKey(std::string_view method, std::string_view rawPath, std::string_view rawQuery,
                     Headers& headers, uint64_t contentLength, std::string_view account,
                     std::string_view base64Key, int64_t nowSeconds);

struct SigV4Key {
  std::string accessKey;
  std::string secretKey;
  std::string region = "us-east-1";
};

// SigV4 header auth for S3: sets x-amz-date and x-amz-content-sha256 (payloadHash: hex SHA-256
// of the body or "UNSIGNED-PAYLOAD") and Authorization, signing host, x-amz-content-sha256,
// x-amz-date and (when present) content-type, content-md5 and every x-amz-* header. `host` is
// the Host header value the client will send (authority: host[:port]).
void signSigV4(std::string_view method, std::string_view host, std::string_view rawPath,
               std::string_view rawQuery, Headers& headers, std::string_view payloadHash,
               const SigV4Key& key, int64_t nowSeconds);

// Percent-encodes an object name for a URL path (everything but unreserved characters and '/').
std::string encodePath(std::string_view name);
// Percent-encodes a query value (everything but unreserved characters).
std::string encodeQuery(std::string_view value);

}  // namespace ember::cold
