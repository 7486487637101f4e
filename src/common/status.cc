#include "common/status.h"

#include <fmt/format.h>

namespace ember {

std::string_view codeName(Code code) {
  switch (code) {
    case Code::kOk: return "Ok";
    case Code::kNotFound: return "NotFound";
    case Code::kNoSuchBucket: return "NoSuchBucket";
    case Code::kNoSuchKey: return "NoSuchKey";
    case Code::kNoSuchUpload: return "NoSuchUpload";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kAlreadyOwned: return "AlreadyOwned";
    case Code::kBucketNotEmpty: return "BucketNotEmpty";
    case Code::kPreconditionFailed: return "PreconditionFailed";
    case Code::kNotModified: return "NotModified";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kInvalidBucketName: return "InvalidBucketName";
    case Code::kInvalidKey: return "InvalidKey";
    case Code::kInvalidRange: return "InvalidRange";
    case Code::kInvalidPartNumber: return "InvalidPartNumber";
    case Code::kMetadataTooLarge: return "MetadataTooLarge";
    case Code::kInvalidDigest: return "InvalidDigest";
    case Code::kAuthQueryMalformed: return "AuthQueryMalformed";
    case Code::kInvalidPart: return "InvalidPart";
    case Code::kInvalidPartOrder: return "InvalidPartOrder";
    case Code::kEntityTooSmall: return "EntityTooSmall";
    case Code::kEntityTooLarge: return "EntityTooLarge";
    case Code::kBadDigest: return "BadDigest";
    case Code::kMalformedXml: return "MalformedXml";
    case Code::kIncompleteBody: return "IncompleteBody";
    case Code::kUnauthenticated: return "Unauthenticated";
    case Code::kAuthMalformed: return "AuthMalformed";
    case Code::kRequestTimeSkewed: return "RequestTimeSkewed";
    case Code::kContentSha256Mismatch: return "ContentSha256Mismatch";
    case Code::kInvalidRequest: return "InvalidRequest";
    case Code::kMissingContentLength: return "MissingContentLength";
    case Code::kKeyTooLong: return "KeyTooLong";
    case Code::kInvalidAccessKey: return "InvalidAccessKey";
    case Code::kSignatureMismatch: return "SignatureMismatch";
    case Code::kExpired: return "Expired";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kQuotaExceeded: return "QuotaExceeded";
    case Code::kInsufficientStorage: return "InsufficientStorage";
    case Code::kBusy: return "Busy";
    case Code::kUnavailable: return "Unavailable";
    case Code::kTimeout: return "Timeout";
    case Code::kNotImplemented: return "NotImplemented";
    case Code::kMethodNotAllowed: return "MethodNotAllowed";
    case Code::kInvalidHeader: return "InvalidHeader";
    case Code::kMissingHeader: return "MissingHeader";
    case Code::kInvalidQueryParam: return "InvalidQueryParam";
    case Code::kUnsupportedCondition: return "UnsupportedCondition";
    case Code::kInvalidBlockList: return "InvalidBlockList";
    case Code::kInvalidBlockId: return "InvalidBlockId";
    case Code::kWrongObjectKind: return "WrongObjectKind";
    case Code::kObjectSealed: return "ObjectSealed";
    case Code::kAppendPositionMismatch: return "AppendPositionMismatch";
    case Code::kMaxSizeExceeded: return "MaxSizeExceeded";
    case Code::kBlockCountExceeded: return "BlockCountExceeded";
    case Code::kLeaseIdMissing: return "LeaseIdMissing";
    case Code::kLeaseIdMismatch: return "LeaseIdMismatch";
    case Code::kLeaseNotPresent: return "LeaseNotPresent";
    case Code::kLeaseAlreadyPresent: return "LeaseAlreadyPresent";
    case Code::kLeaseOpIdMismatch: return "LeaseOpIdMismatch";
    case Code::kLeaseOpNotPresent: return "LeaseOpNotPresent";
    case Code::kLeaseBrokenCannotRenew: return "LeaseBrokenCannotRenew";
    case Code::kLeaseBreakingCannotAcquire: return "LeaseBreakingCannotAcquire";
    case Code::kCopySourceFailed: return "CopySourceFailed";
    case Code::kNoPendingCopy: return "NoPendingCopy";
    case Code::kCopyIdMismatch: return "CopyIdMismatch";
    case Code::kCorruption: return "Corruption";
    case Code::kIOError: return "IOError";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

std::string Status::toString() const {
  if (isOk()) {
    return "Ok";
  }
  return message_.empty() ? std::string(codeName(code_))
                          : fmt::format("{}: {}", codeName(code_), message_);
}

}  // namespace ember
