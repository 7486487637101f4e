#include "blob/errors.h"

#include <sstream>

#include <pugixml.hpp>

#include "blob/wire.h"

namespace ember::blob {

namespace {

constexpr std::string_view kAuthFailed =
    "Server failed to authenticate the request. Make sure the value of Authorization header is "
    "formed correctly including the signature.";
constexpr std::string_view kChallenge =
    "Server failed to authenticate the request. Please refer to the information in the "
    "www-authenticate header.";
constexpr std::string_view kConditionNotMet =
    "The condition specified using HTTP conditional header(s) is not met.";
constexpr std::string_view kInternalError =
    "Server encountered an internal error. Please try again after some time.";

// Codes a Status message may name in its "<AzureCode>: " prefix, per core Code. The HTTP status
// is the entry's own (it equals the base code's except where noted).
struct Refinement {
  Code base;
  std::string_view code;
  int status;
  std::string_view message;
  bool authDetail = false;
};

constexpr Refinement kRefinements[] = {
    {Code::kInvalidHeader, "InvalidHeaderValue", 400,
     "The value for one of the HTTP headers is not in the correct format."},
    {Code::kInvalidHeader, "InvalidMetadata", 400,
     "The metadata specified is invalid. It has characters that are not permitted."},
    {Code::kInvalidHeader, "UnsupportedHeader", 400,
     "One of the HTTP headers specified in the request is not supported."},
    {Code::kInvalidHeader, "OutOfRangeInput", 400, "One of the request inputs is out of range."},
    {Code::kInvalidQueryParam, "UnsupportedQueryParameter", 400,
     "One of the query parameters specified in the request URI is not supported."},
    {Code::kInvalidQueryParam, "OutOfRangeQueryParameterValue", 400,
     "One of the query parameters specified in the request URI is outside the permissible "
     "range."},
    {Code::kInvalidArgument, "OutOfRangeInput", 400, "One of the request inputs is out of range."},
    {Code::kUnsupportedCondition, "UnsatisfiableCondition", 400,
     "The request includes an unsatisfiable condition for this operation."},
    {Code::kUnsupportedCondition, "MultipleConditionHeadersNotSupported", 400,
     "Multiple condition headers are not supported."},
    {Code::kInvalidBlockId, "InvalidBlockId", 400,
     "The specified block ID is invalid. The block ID must be Base64-encoded."},
    {Code::kPermissionDenied, "AuthorizationPermissionMismatch", 403,
     "This request is not authorized to perform this operation using this permission."},
    {Code::kPermissionDenied, "AuthorizationFailure", 403,
     "This request is not authorized to perform this operation."},
    {Code::kPermissionDenied, "AuthorizationSourceIPMismatch", 403,
     "This request is not authorized to perform this operation using this source IP."},
    {Code::kPermissionDenied, "AuthorizationProtocolMismatch", 403,
     "This request is not authorized to perform this operation using this protocol."},
    {Code::kPermissionDenied, "AuthorizationServiceMismatch", 403,
     "This request is not authorized to perform this operation using this service."},
    {Code::kPermissionDenied, "AuthorizationResourceTypeMismatch", 403,
     "This request is not authorized to perform this operation using this resource type."},
    // A bearer token that is present but invalid: 401 with the challenge (reference §5.5).
    {Code::kUnauthenticated, "InvalidAuthenticationInfo", 401, kChallenge, true},
    // A malformed SAS query is reported like a bad signature (403), not like a malformed
    // Authorization header (400).
    {Code::kAuthMalformed, "AuthenticationFailed", 403, kAuthFailed, true},
};

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Splits "<Name>: rest" when Name is an ASCII letter followed by letters and digits.
bool splitCodePrefix(std::string_view msg, std::string_view& name, std::string_view& rest) {
  if (msg.empty() || !isAlpha(msg[0])) {
    return false;
  }
  size_t i = 1;
  while (i < msg.size() && (isAlpha(msg[i]) || (msg[i] >= '0' && msg[i] <= '9'))) {
    ++i;
  }
  if (i >= msg.size() || msg[i] != ':') {
    return false;
  }
  name = msg.substr(0, i);
  rest = msg.substr(i + 1);
  while (!rest.empty() && rest.front() == ' ') {
    rest.remove_prefix(1);
  }
  return true;
}

const Refinement* refinementFor(const Status& s) {
  std::string_view name;
  std::string_view rest;
  if (!splitCodePrefix(s.message(), name, rest)) {
    return nullptr;
  }
  for (const Refinement& r : kRefinements) {
    if (r.base == s.code() && r.code == name) {
      return &r;
    }
  }
  return nullptr;
}

// "404: ..." -> 404 for kCopySourceFailed; 0 when the message has no status prefix.
int copySourceStatus(std::string_view msg) {
  if (msg.size() < 4 || msg[3] != ':') {
    return 0;
  }
  int v = 0;
  for (size_t i = 0; i < 3; ++i) {
    if (msg[i] < '0' || msg[i] > '9') {
      return 0;
    }
    v = v * 10 + (msg[i] - '0');
  }
  return v >= 100 && v <= 599 ? v : 0;
}

BlobError baseError(Code code, Scope scope) {
  const bool blob = scope == Scope::kBlob;
  switch (code) {
    case Code::kOk: return {200, "OK", ""};
    case Code::kNotFound:
      return blob ? BlobError{404, "BlobNotFound", "The specified blob does not exist."}
                  : BlobError{404, "ResourceNotFound", "The specified resource does not exist."};
    case Code::kNoSuchBucket:
      return {404, "ContainerNotFound", "The specified container does not exist."};
    case Code::kNoSuchKey: return {404, "BlobNotFound", "The specified blob does not exist."};
    case Code::kNoSuchUpload:
      // Blob has no multipart uploads; the adapter stages blocks through them, so a missing one
      // means the block list names blocks that were never staged.
      return {400, "InvalidBlockList", "The specified block list is invalid."};
    case Code::kAlreadyExists:
    case Code::kAlreadyOwned:
      return blob ? BlobError{409, "BlobAlreadyExists", "The specified blob already exists."}
                  : BlobError{409, "ContainerAlreadyExists",
                              "The specified container already exists."};
    case Code::kBucketNotEmpty:
      // Azure deletes non-empty containers, so the adapter empties the container first. This code
      // then only means a write raced in between; "being deleted" is what Azure answers while a
      // deletion is in progress and invites a retry, which is the right reaction.
      return {409, "ContainerBeingDeleted",
              "The specified container is being deleted. Try operation later."};
    case Code::kPreconditionFailed: return {412, "ConditionNotMet", kConditionNotMet};
    case Code::kNotModified: return {304, "ConditionNotMet", kConditionNotMet};
    case Code::kInvalidArgument:
    case Code::kInvalidRequest:
    case Code::kIncompleteBody:
    case Code::kContentSha256Mismatch:  // S3-only; listed so the table stays total
      return {400, "InvalidInput", "One of the request inputs is not valid."};
    case Code::kInvalidBucketName:
    case Code::kInvalidKey:
      return {400, "InvalidResourceName",
              "The specified resource name contains invalid characters."};
    case Code::kKeyTooLong:
      // What Azure answers for names outside the length limits (Azurite uses the same code for
      // container names of the wrong length).
      return {400, "OutOfRangeInput",
              "The specified resource name length is not within the permissible limits."};
    case Code::kInvalidRange:
    case Code::kInvalidPartNumber:  // S3-only (partNumber reads); the nearest Blob meaning
      return {416, "InvalidRange",
              "The range specified is invalid for the current size of the resource."};
    case Code::kMetadataTooLarge:
      return {400, "MetadataTooLarge",
              "The size of the specified metadata exceeds the maximum size permitted."};
    case Code::kInvalidDigest:
      return {400, "InvalidMd5",
              "The MD5 value specified in the request is invalid. The MD5 value must be 128 bits "
              "and Base64-encoded."};
    case Code::kBadDigest:
      return {400, "Md5Mismatch",
              "The MD5 value specified in the request did not match with the MD5 value "
              "calculated by the server."};
    case Code::kInvalidPart:
    case Code::kInvalidPartOrder:
    case Code::kEntityTooSmall:
    case Code::kInvalidBlockList:
      return {400, "InvalidBlockList", "The specified block list is invalid."};
    case Code::kEntityTooLarge:
      return {413, "RequestBodyTooLarge",
              "The request body is too large and exceeds the maximum permissible limit."};
    case Code::kMalformedXml:
      return {400, "InvalidXmlDocument", "XML specified is not syntactically valid."};
    case Code::kUnauthenticated:
      // No credentials on a resource that is not public. Azure answers 401 with a Bearer
      // challenge from 2019-12-12 (reference §5.5); the SDKs' challenge policies need the 401 to
      // fetch a token, and a 404 (older Azure) would make tools report a missing resource. The
      // adapter adds WWW-Authenticate.
      return {401, "NoAuthenticationInformation", kChallenge};
    case Code::kAuthMalformed:  // SharedKey: a malformed Authorization header
      return {400, "InvalidAuthenticationInfo",
              "Authentication information is not given in the correct format. Check the value of "
              "Authorization header.",
              true};
    case Code::kAuthQueryMalformed:  // a malformed SAS: Azure answers like a bad signature
    case Code::kRequestTimeSkewed:
    case Code::kInvalidAccessKey:
    case Code::kSignatureMismatch:
    case Code::kExpired:
      return {403, "AuthenticationFailed", kAuthFailed, true};
    case Code::kPermissionDenied:
      return {403, "AuthorizationPermissionMismatch",
              "This request is not authorized to perform this operation using this permission."};
    case Code::kQuotaExceeded:
      // Azure has no per-account quota error a client could act on; 403 stops retries.
      return {403, "QuotaExceeded", "The account's storage quota has been exceeded."};
    case Code::kMissingContentLength:
      return {411, "MissingContentLengthHeader", "The Content-Length header was not specified."};
    case Code::kInsufficientStorage:
      // Azure's capacity is elastic, so it has no such code. 503 ServerBusy would be wrong (the
      // disk does not empty itself in seconds); 507 says what happened, and the SDKs' bounded
      // retries of 5xx give garbage collection a chance to free space.
      return {507, "InsufficientStorage",
              "The server's storage volume is full; the request was not stored."};
    case Code::kBusy:
    case Code::kUnavailable:
      return {503, "ServerBusy",
              "The server is currently unable to receive requests. Please retry your request."};
    case Code::kTimeout:
      return {500, "OperationTimedOut",
              "The operation could not be completed within the permitted time."};
    case Code::kNotImplemented:
      return {501, "APINotImplemented", "The requested operation is not implemented."};
    case Code::kMethodNotAllowed:
      return {405, "UnsupportedHttpVerb", "The resource doesn't support specified Http Verb."};
    case Code::kInvalidHeader:
      return {400, "InvalidHeaderValue",
              "The value for one of the HTTP headers is not in the correct format."};
    case Code::kMissingHeader:
      return {400, "MissingRequiredHeader",
              "An HTTP header that's mandatory for this request is not specified."};
    case Code::kInvalidQueryParam:
      return {400, "InvalidQueryParameterValue",
              "Value for one of the query parameters specified in the request URI is invalid."};
    case Code::kUnsupportedCondition:
      return {400, "MultipleConditionHeadersNotSupported",
              "Multiple condition headers are not supported."};
    case Code::kInvalidBlockId:
      return {400, "InvalidBlobOrBlock", "The specified blob or block content is invalid."};
    case Code::kWrongObjectKind:
      return {409, "InvalidBlobType", "The blob type is invalid for this operation."};
    case Code::kObjectSealed:
      return {409, "BlobIsSealed", "The blob is sealed and can no longer be appended to."};
    case Code::kAppendPositionMismatch:
      return {412, "AppendPositionConditionNotMet",
              "The append position condition specified was not met."};
    case Code::kMaxSizeExceeded:
      return {412, "MaxBlobSizeConditionNotMet",
              "The max blob size condition specified was not met."};
    case Code::kBlockCountExceeded:
      return {409, "BlockCountExceedsLimit",
              "The committed block count cannot exceed the maximum limit of 50,000 blocks."};
    case Code::kLeaseIdMissing:
      return blob ? BlobError{412, "LeaseIdMissing",
                              "There is currently a lease on the blob and no lease ID was "
                              "specified in the request."}
                  : BlobError{412, "LeaseIdMissing",
                              "There is currently a lease on the container and no lease ID was "
                              "specified in the request."};
    case Code::kLeaseIdMismatch:
      return blob ? BlobError{412, "LeaseIdMismatchWithBlobOperation",
                              "The lease ID specified did not match the lease ID for the blob."}
                  : BlobError{412, "LeaseIdMismatchWithContainerOperation",
                              "The lease ID specified did not match the lease ID for the "
                              "container."};
    case Code::kLeaseNotPresent:
      return blob ? BlobError{412, "LeaseNotPresentWithBlobOperation",
                              "There is currently no lease on the blob."}
                  : BlobError{412, "LeaseNotPresentWithContainerOperation",
                              "There is currently no lease on the container."};
    case Code::kLeaseAlreadyPresent:
      return {409, "LeaseAlreadyPresent", "There is already a lease present."};
    case Code::kLeaseOpIdMismatch:
      return blob ? BlobError{409, "LeaseIdMismatchWithLeaseOperation",
                              "The lease ID specified did not match the lease ID for the blob."}
                  : BlobError{409, "LeaseIdMismatchWithLeaseOperation",
                              "The lease ID specified did not match the lease ID for the "
                              "container."};
    case Code::kLeaseOpNotPresent:
      return blob ? BlobError{409, "LeaseNotPresentWithLeaseOperation",
                              "There is currently no lease on the blob."}
                  : BlobError{409, "LeaseNotPresentWithLeaseOperation",
                              "There is currently no lease on the container."};
    case Code::kLeaseBrokenCannotRenew:
      return {409, "LeaseIsBrokenAndCannotBeRenewed",
              "The lease ID matched, but the lease has been broken explicitly and cannot be "
              "renewed."};
    case Code::kLeaseBreakingCannotAcquire:
      return {409, "LeaseIsBreakingAndCannotBeAcquired",
              "The lease ID matched, but the lease is currently in breaking state and cannot be "
              "acquired until it is broken."};
    case Code::kCopySourceFailed:
      return {404, "CannotVerifyCopySource", "Could not verify the copy source."};
    case Code::kNoPendingCopy:
      return {409, "NoPendingCopyOperation", "There is currently no pending copy operation."};
    case Code::kCopyIdMismatch:
      return {409, "CopyIdMismatch",
              "The specified copy ID did not match the copy ID for the pending copy operation."};
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kInternal:
      break;
  }
  return {500, "InternalError", kInternalError};
}

}  // namespace

BlobError blobErrorFor(const Status& s, Scope scope) {
  if (const Refinement* r = refinementFor(s)) {
    return {r->status, r->code, r->message, r->authDetail};
  }
  BlobError e = baseError(s.code(), scope);
  if (s.code() == Code::kCopySourceFailed) {
    if (int status = copySourceStatus(s.message())) {
      e.status = status;
    }
  }
  return e;
}

BlobError blobErrorFor(const Status& s) { return blobErrorFor(s, Scope::kContainer); }

BlobError blobErrorForBlob(const Status& s) { return blobErrorFor(s, Scope::kBlob); }

std::string_view errorDetail(const Status& s) {
  std::string_view msg = s.message();
  if (s.code() == Code::kCopySourceFailed && copySourceStatus(msg) != 0) {
    msg.remove_prefix(4);
    while (!msg.empty() && msg.front() == ' ') {
      msg.remove_prefix(1);
    }
    return msg;
  }
  std::string_view name;
  std::string_view rest;
  if (refinementFor(s) != nullptr && splitCodePrefix(msg, name, rest)) {
    return rest;
  }
  return msg;
}

std::string renderBlobErrorXml(std::string_view code, std::string_view message,
                               std::string_view requestId, int64_t nowMs,
                               const std::vector<std::pair<std::string, std::string>>& extra) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  auto root = doc.append_child("Error");
  root.append_child("Code").text().set(std::string(code).c_str());
  std::string text = std::string(message);
  text += "\nRequestId:";
  text += requestId;
  text += "\nTime:";
  text += iso8601Ticks(nowMs);
  root.append_child("Message").text().set(text.c_str());
  for (const auto& [name, value] : extra) {
    root.append_child(name.c_str()).text().set(value.c_str());
  }
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw, pugi::encoding_utf8);
  return out.str();
}

}  // namespace ember::blob
