#include "s3/errors.h"

#include "s3/xml.h"

namespace ember::s3 {

S3Error s3ErrorFor(Code code) {
  switch (code) {
    case Code::kOk: return {200, "OK", ""};
    case Code::kNotFound: return {404, "NotFound", "Not Found"};
    case Code::kNoSuchBucket: return {404, "NoSuchBucket", "The specified bucket does not exist"};
    case Code::kNoSuchKey: return {404, "NoSuchKey", "The specified key does not exist."};
    case Code::kNoSuchUpload:
      return {404, "NoSuchUpload",
              "The specified multipart upload does not exist. The upload ID may be invalid, or "
              "the upload may have been aborted or completed."};
    case Code::kAlreadyExists:
      return {409, "BucketAlreadyExists",
              "The requested bucket name is not available. The bucket namespace is shared by all "
              "users of the system. Please select a different name and try again."};
    case Code::kAlreadyOwned:
      return {409, "BucketAlreadyOwnedByYou",
              "Your previous request to create the named bucket succeeded and you already own "
              "it."};
    case Code::kBucketNotEmpty:
      return {409, "BucketNotEmpty", "The bucket you tried to delete is not empty"};
    case Code::kPreconditionFailed:
      return {412, "PreconditionFailed",
              "At least one of the pre-conditions you specified did not hold"};
    case Code::kNotModified: return {304, "NotModified", "Not Modified"};
    case Code::kInvalidArgument: return {400, "InvalidArgument", "Invalid Argument"};
    case Code::kInvalidBucketName:
      return {400, "InvalidBucketName", "The specified bucket is not valid."};
    case Code::kInvalidKey: return {400, "InvalidArgument", "The object key is not valid."};
    case Code::kKeyTooLong: return {400, "KeyTooLongError", "Your key is too long"};
    case Code::kInvalidRange:
      return {416, "InvalidRange", "The requested range is not satisfiable"};
    case Code::kInvalidPartNumber:
      return {416, "InvalidPartNumber", "The requested partnumber is not satisfiable"};
    case Code::kMetadataTooLarge:
      return {400, "MetadataTooLarge",
              "Your metadata headers exceed the maximum allowed metadata size"};
    case Code::kInvalidDigest:
      return {400, "InvalidDigest", "The Content-MD5 you specified is not valid."};
    case Code::kAuthQueryMalformed:
      return {400, "AuthorizationQueryParametersError",
              "Error parsing the X-Amz-Credential parameter or another presigned-URL "
              "parameter."};
    case Code::kInvalidPart:
      return {400, "InvalidPart", "One or more of the specified parts could not be found."};
    case Code::kInvalidPartOrder:
      return {400, "InvalidPartOrder", "The list of parts was not in ascending order."};
    case Code::kEntityTooSmall:
      return {400, "EntityTooSmall",
              "Your proposed upload is smaller than the minimum allowed object size."};
    case Code::kEntityTooLarge:
      return {400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"};
    case Code::kBadDigest:
      return {400, "BadDigest", "The Content-MD5 you specified did not match what we received."};
    case Code::kMalformedXml:
      return {400, "MalformedXML",
              "The XML you provided was not well-formed or did not validate against our "
              "published schema."};
    case Code::kIncompleteBody:
      return {400, "IncompleteBody",
              "You did not provide the number of bytes specified by the Content-Length HTTP "
              "header."};
    case Code::kUnauthenticated: return {403, "AccessDenied", "Access Denied"};
    case Code::kAuthMalformed:
      return {400, "AuthorizationHeaderMalformed",
              "The authorization header that you provided is not valid."};
    case Code::kRequestTimeSkewed:
      return {403, "RequestTimeTooSkewed",
              "The difference between the request time and the server's time is too large."};
    case Code::kContentSha256Mismatch:
      return {400, "XAmzContentSHA256Mismatch",
              "The provided 'x-amz-content-sha256' header does not match what was computed."};
    case Code::kInvalidRequest: return {400, "InvalidRequest", "Invalid Request"};
    case Code::kMissingContentLength:
      return {411, "MissingContentLength", "You must provide the Content-Length HTTP header."};
    case Code::kInvalidAccessKey:
      return {403, "InvalidAccessKeyId",
              "The AWS Access Key Id you provided does not exist in our records."};
    case Code::kSignatureMismatch:
      return {403, "SignatureDoesNotMatch",
              "The request signature we calculated does not match the signature you provided. "
              "Check your key and signing method."};
    case Code::kExpired: return {403, "AccessDenied", "Request has expired"};
    case Code::kPermissionDenied: return {403, "AccessDenied", "Access Denied"};
    case Code::kQuotaExceeded: return {403, "QuotaExceeded", "The quota has been exceeded."};
    case Code::kInsufficientStorage:
      return {507, "InsufficientStorage",
              "The storage volume is full; the request was not stored."};
    case Code::kBusy: return {503, "SlowDown", "Please reduce your request rate."};
    case Code::kUnavailable:
      return {503, "ServiceUnavailable", "The service is unavailable. Please retry."};
    case Code::kTimeout:
      return {400, "RequestTimeout",
              "Your socket connection to the server was not read from or written to within the "
              "timeout period."};
    case Code::kNotImplemented:
      return {501, "NotImplemented",
              "A header or query you provided implies functionality that is not implemented."};
    case Code::kMethodNotAllowed:
      return {405, "MethodNotAllowed",
              "The specified method is not allowed against this resource."};
    case Code::kInvalidHeader: return {400, "InvalidArgument", "A header you provided is not valid."};
    case Code::kMissingHeader:
      return {400, "InvalidRequest", "A header required by this operation is missing."};
    case Code::kInvalidQueryParam:
      return {400, "InvalidArgument", "A query parameter you provided is not valid."};
    case Code::kUnsupportedCondition:
      return {400, "InvalidRequest", "The combination of conditions is not supported."};
    case Code::kInvalidBlockList:
    case Code::kInvalidBlockId:
      return {400, "InvalidRequest", "The block list or block id is not valid."};
    case Code::kWrongObjectKind:
      return {409, "InvalidObjectState", "The operation is not valid for the object's type."};
    case Code::kObjectSealed:
      return {409, "InvalidObjectState", "The object is sealed and cannot be appended to."};
    case Code::kAppendPositionMismatch:
    case Code::kMaxSizeExceeded:
      return {412, "PreconditionFailed",
              "At least one of the pre-conditions you specified did not hold"};
    case Code::kBlockCountExceeded:
      return {409, "InvalidObjectState", "The object has the maximum number of blocks."};
    case Code::kLeaseIdMissing:
    case Code::kLeaseIdMismatch:
    case Code::kLeaseNotPresent:
      return {409, "InvalidObjectState",
              "The object is leased through the Blob API; release the lease before writing."};
    case Code::kLeaseAlreadyPresent:
    case Code::kLeaseOpIdMismatch:
    case Code::kLeaseOpNotPresent:
    case Code::kLeaseBrokenCannotRenew:
    case Code::kLeaseBreakingCannotAcquire:
      return {409, "OperationAborted", "A conflicting lease operation is in progress."};
    case Code::kCopySourceFailed:
      return {404, "NoSuchKey", "The copy source could not be read."};
    case Code::kNoPendingCopy:
    case Code::kCopyIdMismatch:
      return {409, "InvalidRequest", "There is no matching pending copy."};
    case Code::kCorruption:
    case Code::kIOError:
    case Code::kInternal:
      break;
  }
  return {500, "InternalError", "We encountered an internal error. Please try again."};
}

std::string renderErrorXml(const S3Error& e, std::string_view message, std::string_view resource,
                           std::string_view requestId) {
  XmlWriter w("Error", /*withNamespace=*/false);
  w.add("Code", e.code);
  w.add("Message", message.empty() ? e.message : message);
  w.add("Resource", resource);
  w.add("RequestId", requestId);
  return w.finish();
}

}  // namespace ember::s3
