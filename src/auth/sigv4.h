#pragma once
// AWS Signature Version 4 verification for S3: the Authorization header form and presigned URLs
// (query form). Pure functions: no I/O, no clock (the caller passes "now"), fuzzed.
// Reference: AWS "Authenticating Requests (AWS Signature Version 4)" for Amazon S3.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/headers.h"
#include "common/status.h"

namespace ember::auth {

struct Credential {
  std::string user;       // principal name, recorded as owner
  std::string accessKey;
  std::string secretKey;
};

// Returns the credential for an access key id, or nullptr when unknown. Must be thread-safe.
using CredentialLookup = std::function<const Credential*(std::string_view accessKey)>;

enum class PayloadMode {
  kUnsigned,                  // UNSIGNED-PAYLOAD (also presigned URLs)
  kSigned,                    // x-amz-content-sha256 is the hex SHA-256 of the body
  kStreamingSigned,           // STREAMING-AWS4-HMAC-SHA256-PAYLOAD
  kStreamingSignedTrailer,    // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER
  kStreamingUnsignedTrailer,  // STREAMING-UNSIGNED-PAYLOAD-TRAILER
};

bool isStreaming(PayloadMode mode);

struct SigV4Input {
  std::string_view method;
  std::string_view rawPath;   // path as sent on the wire (percent-encoded)
  std::string_view rawQuery;  // query as sent, without '?'
  const Headers& headers;
  int64_t nowSeconds = 0;     // unix time, for skew and expiry checks
};

struct AuthContext {
  bool anonymous = true;                 // no credentials were presented at all
  const Credential* credential = nullptr;
  bool presigned = false;
  PayloadMode payload = PayloadMode::kUnsigned;
  std::string payloadSha256Hex;          // kSigned: the expected body hash (lowercase hex)
  // Needed to verify streaming chunk signatures (see chunked.h):
  std::string signingKey;                // raw 32-byte derived key
  std::string seedSignature;             // hex signature of the request itself
  std::string amzDate;                   // "20130524T000000Z"
  std::string scope;                     // "20130524/us-east-1/s3/aws4_request"
};

// Verifies a request. No Authorization header and no X-Amz-Signature query parameter yields an
// anonymous context (the caller decides whether anonymous access is allowed).
// Errors (each with a message that says what was wrong):
//   kAuthMalformed        header/query malformed: bad Credential scope, missing SignedHeaders,
//                         signed headers missing "host", bad X-Amz-Date, X-Amz-Expires out of
//                         range (1..604800), unsupported algorithm, service != "s3"
//   kInvalidAccessKey     the access key is unknown
//   kSignatureMismatch    the computed signature differs
//   kRequestTimeSkewed    header auth with x-amz-date more than 15 minutes from now
//   kExpired              presigned URL past X-Amz-Date + X-Amz-Expires
//   kInvalidArgument      x-amz-content-sha256 missing (header auth) or not a known value/hex
Result<AuthContext> verifySigV4(const SigV4Input& in, const CredentialLookup& lookup);

// Building blocks, exposed for tests and for the cold-store signer (client side, later issue).
std::string uriEncode(std::string_view s, bool encodeSlash);   // AWS UriEncode
Result<std::string> uriDecode(std::string_view s);             // %XX decoding ('+' stays '+')
// A raw query string as (name, value) pairs in order, each %-decoded ('+' stays '+'); empty items
// ("a=1&&b") are skipped. Errors: kInvalidArgument for a malformed escape; `badItem`, when given,
// receives the raw item.
Result<std::vector<std::pair<std::string, std::string>>> decodeQuery(std::string_view q,
                                                                     std::string* badItem = nullptr);
// %XX decoding that keeps malformed escapes literally (what a client that signed the raw text
// signed); '+' stays '+'.
std::string uriDecodeLenient(std::string_view s);

// One query parameter as signers see it: name and value %-decoded leniently.
struct QueryParam {
  std::string name;
  std::string value;
  bool hasEquals = false;  // "acl" and "acl=" differ for SigV2, which signs them as written
};
// Splits a raw query string on '&' (empty items skipped), in order, duplicates kept.
std::vector<QueryParam> parseQueryLenient(std::string_view rawQuery);
std::string canonicalQuery(std::string_view rawQuery, bool dropSignature);
std::string deriveSigningKey(std::string_view secret, std::string_view date,
                             std::string_view region, std::string_view service);
// Signature of a string-to-sign with a derived key, lowercase hex.
std::string signHex(std::string_view signingKey, std::string_view stringToSign);

}  // namespace ember::auth
