#pragma once
// AWS Signature Version 2 verification for S3: the "Authorization: AWS <access-key>:<signature>"
// header form and query-string authentication (?AWSAccessKeyId=..&Expires=..&Signature=..), which
// boto3's generate_presigned_url() produces unless told otherwise, and which s3cmd, s3fs and other
// older clients still sign with. Pure functions: no I/O, no clock (the caller passes "now").
// Reference: AWS "Signing and Authenticating REST Requests" (Signature Version 2) for Amazon S3,
// cross-checked against botocore's HmacV1Auth / HmacV1QueryAuth.
//
// StringToSign = Method "\n" Content-MD5 "\n" Content-Type "\n" Date-or-Expires "\n"
//                CanonicalizedAmzHeaders CanonicalizedResource
// Signature    = base64(HMAC-SHA1(secret key, StringToSign))
//
//  - Content-MD5 / Content-Type: the request header values, trimmed ("" when absent).
//  - Date line: header auth: the Date header, or "" when x-amz-date is present (x-amz-date is then
//    signed as one of the amz headers); query auth: the Expires parameter.
//  - CanonicalizedAmzHeaders: every x-amz-* header, name lowercased, sorted by name, one
//    "name:value\n" line each; a value is trimmed and folded line breaks become one space; repeated
//    headers are joined with ',' in arrival order. Query auth adds the x-amz-* query parameters
//    (botocore moves x-amz-* headers there when presigning).
//  - CanonicalizedResource: "/" + vhostBucket (virtual-hosted requests only), then the path exactly
//    as sent (still percent-encoded, escapes in the client's case), then the sub-resource query
//    parameters (acl, uploadId, versionId, response-*, ...; kSubResources in sigv2.cc) sorted by
//    name, with decoded values: "?partNumber=3&uploadId=abc/+=". Other parameters are not signed.
//    A path-style request for a bucket alone ("/bucket") also verifies when signed as "/bucket/",
//    which is what botocore signs for bucket operations.

#include <string>
#include <string_view>

#include "auth/sigv4.h"
#include "common/status.h"

namespace ember::auth {

// True when the request carries SigV2 credentials: an Authorization header of the form
// "AWS <access-key>:<signature>", or an AWSAccessKeyId or Signature query parameter. A request for
// which this is true must be verified with verifySigV2 (and not treated as anonymous), even when
// the credentials are incomplete: verifySigV2 then says what is missing.
bool hasSigV2(const SigV4Input& in);

// Verifies SigV2 (header or query form). `vhostBucket` is the bucket taken from a virtual-hosted
// Host header ("" for path-style requests); SigV2 prepends it to the canonicalized resource.
// On success returns a context with anonymous = false, the credential, payload =
// PayloadMode::kUnsigned (SigV2 does not sign the body; Content-MD5 is the only body check) and
// presigned = true for query auth. The SigV4 signing fields (signingKey, scope, ...) stay empty.
// REQUIRES: hasSigV2(in); otherwise the result is kAuthMalformed.
// Errors (each with a message that says what was wrong):
//   kAuthMalformed      Authorization not "AWS <access-key>:<signature>"; both an Authorization
//                       header and query credentials (V2 or V4); a query parameter missing or
//                       repeated (AWSAccessKeyId, Signature, Expires); Expires not a number;
//                       header auth without a parsable Date or x-amz-date
//   kInvalidAccessKey   the access key is unknown
//   kSignatureMismatch  the computed signature differs; the message quotes the StringToSign the
//                       server computed (as S3 does), which holds nothing secret
//   kExpired            query auth after Expires (unix seconds)
//   kRequestTimeSkewed  header auth whose x-amz-date (or else Date) is more than 15 minutes from
//                       in.nowSeconds
// Accepted timestamp forms: RFC 1123 with GMT/UT/UTC/Z or a numeric zone
// ("Tue, 27 Mar 2007 19:36:42 +0000", the day name optional) and ISO 8601 basic
// ("20070327T193642Z").
Result<AuthContext> verifySigV2(const SigV4Input& in, const CredentialLookup& lookup,
                                std::string_view vhostBucket);

// Building block, exposed for tests and fuzzing: base64(HMAC-SHA1(secretKey, stringToSign)).
std::string signSigV2(std::string_view secretKey, std::string_view stringToSign);

}  // namespace ember::auth
