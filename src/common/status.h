#pragma once
// Errors as values. Every fallible operation in Ember returns Status or Result<T>; exceptions are
// reserved for startup and configuration errors. Protocol adapters map a Status to their wire
// error through one table each (src/s3/errors.cc), so the code set below is protocol neutral.

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace ember {

enum class Code : int {
  kOk = 0,
  kNotFound,            // a bucket, object, upload or part that does not exist
  kNoSuchBucket,        // the bucket named by the request does not exist
  kNoSuchKey,           // the object does not exist
  kNoSuchUpload,        // the multipart upload does not exist (or was completed/aborted)
  kAlreadyExists,       // create of something that exists and is owned by someone else
  kAlreadyOwned,        // create of a bucket the caller already owns
  kBucketNotEmpty,      // delete of a bucket that still holds objects or uploads
  kPreconditionFailed,  // If-Match / If-Unmodified-Since / If-None-Match(*) on write failed
  kNotModified,         // If-None-Match / If-Modified-Since on read matched (304)
  kInvalidArgument,     // a request parameter or header is malformed or out of range
  kInvalidBucketName,
  kInvalidKey,          // key too long or not valid UTF-8
  kInvalidRange,        // a Range that does not overlap the object (416)
  kInvalidPartNumber,   // a partNumber read beyond the object's parts (416)
  kMetadataTooLarge,    // user metadata over the limit
  kInvalidDigest,       // a Content-MD5 / checksum header that is not well-formed
  kAuthQueryMalformed,  // presigned-URL query parameters malformed
  kInvalidPart,         // CompleteMultipartUpload names a part that is missing or whose ETag differs
  kInvalidPartOrder,
  kEntityTooSmall,      // a non-final part below the minimum part size
  kEntityTooLarge,
  kBadDigest,           // Content-MD5 or x-amz-checksum-* did not match the body
  kMalformedXml,
  kIncompleteBody,      // the body ended before Content-Length bytes
  kUnauthenticated,     // credentials required but absent (anonymous request to a private resource)
  kAuthMalformed,       // Authorization header / presigned query parameters malformed
  kRequestTimeSkewed,   // x-amz-date too far from the server clock
  kContentSha256Mismatch,  // x-amz-content-sha256 does not match the body
  kInvalidRequest,      // request is well-formed but not acceptable (S3 InvalidRequest)
  kMissingContentLength,
  kKeyTooLong,
  kInvalidAccessKey,    // unknown access key id
  kSignatureMismatch,   // the signature does not match
  kExpired,             // a presigned request past its expiry
  kPermissionDenied,
  kQuotaExceeded,
  kInsufficientStorage, // the data volume is full; nothing was written
  kBusy,                // try again later (back-pressure)
  kUnavailable,
  kTimeout,
  kNotImplemented,
  kMethodNotAllowed,
  // Header / query validation by an adapter (the detail names the header or parameter).
  kInvalidHeader,       // a header value that is malformed or out of range
  kMissingHeader,       // a required header is absent
  kInvalidQueryParam,   // a query parameter value that is malformed or out of range
  kUnsupportedCondition,  // a condition combination the operation cannot evaluate
  // Block and append objects (Blob block blobs / append blobs).
  kInvalidBlockList,    // a block list names a block that is not staged/committed, or is malformed
  kInvalidBlockId,      // a block id that is not base64 or whose length differs from the others
  kWrongObjectKind,     // an append to a block object or a block op on an append object
  kObjectSealed,        // an append object that was sealed
  kAppendPositionMismatch,  // append-position condition failed
  kMaxSizeExceeded,     // append max-size condition failed
  kBlockCountExceeded,  // too many committed blocks
  // Leases: a write without / with the wrong lease, and lease operations in the wrong state.
  kLeaseIdMissing,      // the object/bucket is leased and the request names no lease
  kLeaseIdMismatch,     // the request's lease id is not the active lease
  kLeaseNotPresent,     // the request names a lease but none is active
  kLeaseAlreadyPresent,         // acquire/change on a resource leased by someone else
  kLeaseOpIdMismatch,           // renew/release/change with the wrong lease id
  kLeaseOpNotPresent,           // renew/release/change when no lease is held
  kLeaseBrokenCannotRenew,      // renew of a broken lease
  kLeaseBreakingCannotAcquire,  // acquire while a break is in progress
  // Copies.
  kCopySourceFailed,    // the copy source could not be read (detail carries its status)
  kNoPendingCopy,       // abort of a copy that is not pending
  kCopyIdMismatch,      // abort with a copy id that is not the destination's
  kCorruption,          // on-disk data failed a check
  kIOError,
  kInternal,            // keep last: tables size themselves by it
};

std::string_view codeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  // Lets EMBER_TRY return from functions whose return type is Status.
  Status(tl::unexpected<Status> u) : Status(std::move(u.value())) {}  // NOLINT(implicit)

  static Status ok() { return {}; }

  bool isOk() const { return code_ == Code::kOk; }
  explicit operator bool() const { return isOk(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string toString() const;

  // Marks a Status as deliberately dropped; grep for ignoreError() to audit them.
  void ignoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status makeError(Code code, std::string message = {}) {
  return Status(code, std::move(message));
}

template <typename T>
using Result = tl::expected<T, Status>;

inline tl::unexpected<Status> unexpected(Status s) { return tl::unexpected<Status>(std::move(s)); }
inline tl::unexpected<Status> unexpected(Code code, std::string message = {}) {
  return tl::unexpected<Status>(Status(code, std::move(message)));
}

namespace detail {
inline Status toStatus(const Status& s) { return s; }
template <typename T>
Status toStatus(const Result<T>& r) {
  return r ? Status() : r.error();
}
}  // namespace detail

}  // namespace ember

// EMBER_TRY(expr): return the error of a Status / Result expression from the enclosing function,
// which must return Status or Result<U>.
#define EMBER_TRY(expr)                                           \
  do {                                                            \
    auto&& ember_try_ = (expr);                                   \
    if (!ember_try_) {                                            \
      return ::ember::unexpected(::ember::detail::toStatus(ember_try_)); \
    }                                                             \
  } while (0)

// Same for coroutines returning asio::awaitable<Status> / awaitable<Result<U>>.
#define EMBER_CO_TRY(expr)                                        \
  do {                                                            \
    auto&& ember_try_ = (expr);                                   \
    if (!ember_try_) {                                            \
      co_return ::ember::unexpected(::ember::detail::toStatus(ember_try_)); \
    }                                                             \
  } while (0)
