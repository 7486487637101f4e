#pragma once
// The upload body pipeline: HTTP body -> optional aws-chunked decoding (with chunk signature
// verification) -> the core, plus the verifier that checks Content-MD5, x-amz-checksum-*
// (header or trailer) and a signed payload hash once the whole body has been received.

#include <memory>
#include <optional>
#include <set>

#include "auth/chunked.h"
#include "s3/context.h"

namespace ember::s3 {

struct UploadBody {
  std::unique_ptr<auth::AwsChunkedSource> chunked;  // set for STREAMING-* payloads
  ByteSource* source = nullptr;                      // what the core reads
  std::optional<uint64_t> expectedSize;              // decoded length
  std::set<ChecksumAlgo> store;                      // checksums to compute and store
  std::set<ChecksumAlgo> verifyOnly;                 // e.g. SHA-256 of a signed payload
  core::BodyVerifier verify;
};

// Errors: kMissingContentLength, kInvalidRequest (unknown checksum algorithm), kInvalidArgument
// (malformed Content-MD5 or checksum header).
Result<std::unique_ptr<UploadBody>> makeUploadBody(Ctx& c);

// Checks Content-MD5 and x-amz-checksum-* headers against a body already in memory (XML
// requests). With `required`, one of them must be present (S3 requires it for DeleteObjects).
// Errors: kInvalidRequest (missing), kInvalidDigest (malformed), kBadDigest (mismatch).
Status verifySmallBody(const Ctx& c, std::string_view body, bool required);

// Adds x-amz-checksum-* headers for stored checksums.
void addChecksumHeaders(http::Headers& h, const store::StringPairs& checksums);

}  // namespace ember::s3
