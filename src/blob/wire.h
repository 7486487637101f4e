#pragma once
// Small pure helpers for the Azure Blob wire format: x-ms-version, ranges, metadata headers,
// conditional headers, ETag/date formats and block ids. No I/O, no clock; unit-tested in
// wire_test.cc. Behaviour follows docs/reference azure-blob.md §1 and §3 ("Azurite logic matches
// Azure" for conditions); where Azure's behaviour is not documented the choice is stated here.
//
// Errors that must surface with a specific Azure code that has no core Code of its own carry that
// code at the start of the message ("InvalidMetadata: ...", "UnsatisfiableCondition: ..."); the
// error table (errors.h) honours such prefixes for a fixed list of codes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/headers.h"
#include "common/status.h"
#include "core/types.h"
#include "store/object_store.h"

namespace ember::blob {

// --- versions ---

// The oldest x-ms-version accepted (reference §0: accept any version >= 2017-11-09, never reject a
// newer date).
inline constexpr std::string_view kMinApiVersion = "2017-11-09";

// Checks the request's x-ms-version ("" = header absent). Absent is OK: Azure serves anonymous
// and SAS requests without the header at its default version (SAS carries its own sv=), and the
// callers that need one (Bearer, reference §5.1) check it themselves. "YYYY-MM-DD" >= 2017-11-09
// is OK. Errors: kInvalidHeader (older, or not a date) with a message naming x-ms-version.
Status checkApiVersion(std::string_view xMsVersion);

// --- ranges ---

// The byte range of a Get Blob. `x-ms-range` wins over `Range` when both are present (an empty
// x-ms-range counts as absent). Accepted forms: "bytes=s-e" and "bytes=s-" (the only two Azure
// documents).
//   nullopt          no range header, or a `Range` Azure cannot use: malformed, a suffix range
//                    ("bytes=-n"), several ranges, or e < s. RFC 9110 §14.2 says to ignore those
//                    and serve the whole blob (200), which current Azurite does too.
//   kInvalidHeader   the same cases in `x-ms-range`: that header is Azure's own and has exactly
//                    the two forms above, so a bad value is a client bug worth reporting (400
//                    InvalidHeaderValue; the message names x-ms-range).
//   kInvalidRange    s >= size, which includes ANY range on a 0-byte blob (reference §3: 416,
//                    the caller adds "Content-Range: bytes */<size>").
// Otherwise e is clamped to size - 1 and the result is {s, e - s + 1}.
Result<std::optional<core::ByteRange>> parseBlobRange(const Headers& headers, uint64_t size);

// --- metadata ---

inline constexpr size_t kMaxMetadataBytes = 8 * 1024;  // names + values

// Collects the x-ms-meta-* headers in arrival order: name after the prefix with its case as sent,
// value as received. Errors:
//   kInvalidHeader "InvalidMetadata: ..."  a name that is not a C# identifier (ASCII letter or
//                                          '_' first, then letters, digits, '_'), an empty name,
//                                          or two names equal ignoring case (400 InvalidMetadata)
//   kMetadataTooLarge                      names + values over 8 KiB
Result<store::StringPairs> parseBlobMetadata(const Headers& headers);

// True for a C# identifier in the ASCII subset Azure accepts as a metadata name.
bool validMetadataName(std::string_view name);

// --- conditional headers ---

// Reads If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since, or with `source` their
// x-ms-source-if-* forms (the copy source's conditions). ETag lists are kept raw. Dates are
// RFC 1123 (any HTTP-date form is accepted). Errors: kInvalidHeader "InvalidHeaderValue: ..."
// naming the header when a date does not parse. (RFC 9110 would ignore such a header; Azure is
// strict about the typed headers it reads, and ignoring a condition would silently turn a
// conditional write unconditional.)
Result<core::Conditions> parseBlobConditions(const Headers& headers, bool source);

// Evaluates conditions against a blob (`current` null = the blob does not exist), comparing times
// at 1-second granularity and ETags quoted or unquoted (W/ prefixes ignored).
// Reads (`read` = true; Get Blob, Get Blob Properties, Get Metadata, Get Block List), in order:
//   blob missing: If-Match present             → kPreconditionFailed (412)
//   If-None-Match: *                           → kUnsupportedCondition "UnsatisfiableCondition:"
//                                                (400 UnsatisfiableCondition), existing or not
//   blob missing: anything else                → OK (the caller answers 404)
//   If-Match fails / If-Unmodified-Since fails → kPreconditionFailed (412 ConditionNotMet)
//   If-None-Match matches or If-Modified-Since not newer → kNotModified (304), unless the other
//                                                one of the two is present and passes
// (No combination check on reads, as in Azurite.)
// Writes (`read` = false):
//   combination check first: more than two headers, more than one ETag in If-Match or
//   If-None-Match, or a pair other than (If-Match, If-Unmodified-Since) / (If-None-Match,
//   If-Modified-Since) → kUnsupportedCondition (400 MultipleConditionHeadersNotSupported)
//   blob missing: If-Match (also "*")          → kPreconditionFailed; everything else OK
//   blob exists, first header present decides, in the order If-None-Match, If-Match,
//   If-Modified-Since, If-Unmodified-Since:
//     If-None-Match: *                         → kAlreadyExists (409 BlobAlreadyExists through
//                                                blobErrorForBlob)
//     If-None-Match matches                    → kPreconditionFailed
//     If-Match neither * nor matching          → kPreconditionFailed
//     If-Modified-Since not older than blob    → kPreconditionFailed
//     If-Unmodified-Since older than blob      → kPreconditionFailed
Status checkBlobConditions(const core::Conditions& c, const store::ObjectRecord* current,
                           bool read);

// Containers only honour If-Modified-Since / If-Unmodified-Since (Delete Container, Set Container
// Metadata). If-Match or If-None-Match → kInvalidHeader "UnsupportedHeader:" (400
// UnsupportedHeader, as Azure documents for container operations). Failures → kPreconditionFailed.
Status checkContainerConditions(const core::Conditions& c, const store::BucketRecord& current);

// --- formats ---

// Adds double quotes unless already quoted ("0x8D.." -> "\"0x8D..\"").
std::string quoteEtag(std::string_view etag);
// Removes one pair of surrounding double quotes if present.
std::string_view unquoteEtag(std::string_view etag);
// "Sun, 06 Nov 1994 08:49:37 GMT".
std::string rfc1123(int64_t ms);
// "2026-11-22T23:30:00.1230000Z": ISO 8601, UTC, 7 fractional digits (100 ns ticks, the last four
// always 0 since times are kept in ms).
std::string iso8601Ticks(int64_t ms);

// The container's ETag (unquoted): its stored etag, or for containers created before etags were
// stored a stable one derived from its modification time ("0x" + 15 uppercase hex digits, the
// shape Azure uses). Used by the XML writer and must be used for the ETag header too.
std::string containerEtag(const store::BucketRecord& bucket);
// The container's Last-Modified in ms: mtimeMs, or createdMs when never modified.
int64_t containerLastModifiedMs(const store::BucketRecord& bucket);

// --- block ids ---

inline constexpr size_t kMaxBlockIdBytes = 64;

// Decodes a block id as sent (strict, padded base64; the query parameter must already be
// percent-decoded). Errors: kInvalidBlockId "InvalidBlockId: ..." when it is not base64, or
// decodes to 0 or more than 64 bytes (400 InvalidBlockId). Ids of one blob that differ in length
// are the caller's check (kInvalidBlockId without a prefix: 400 InvalidBlobOrBlock).
Result<std::string> decodeBlockId(std::string_view b64);

// --- list include= ---

struct ListInclude {
  bool metadata = false;
  bool copy = false;
  bool uncommittedBlobs = false;
  bool snapshots = false;
  bool deleted = false;
  bool versions = false;
  bool tags = false;
};

// Parses a comma-separated include= value (case-insensitive, blanks ignored). Values this server
// does not act on (deleted, versions, tags, immutabilitypolicy, legalhold, system, permissions,
// deletedwithversions, ...) are accepted and ignored, as reference §3 asks, so newer SDKs keep
// working; so are unknown ones (Azure would answer 400, but rejecting a value added by a newer
// API version breaks clients for no gain).
ListInclude parseListInclude(std::string_view value);

}  // namespace ember::blob
