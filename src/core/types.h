#pragma once
// Protocol-neutral request and result types of the namespace core. Adapters (S3 now, Blob next)
// translate wire requests into these and results back to the wire; nothing here knows either.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/status.h"
#include "store/object_store.h"

namespace ember::core {

using store::BucketRecord;
using store::ContentHeaders;
using store::ObjectRecord;
using store::PartRecord;
using store::StringPairs;
using store::UploadRecord;

// The attribute the core sets on records it returns for buckets mapped to a cold store (never
// stored): the object's tier state, "cold" | "clean" | "dirty" | "uploading". Adapters show it as
// the x-ember-tier-state response header.
inline constexpr std::string_view kTierStateAttr = "x-ember-tier-state";

// HTTP-style preconditions (RFC 7232) with the precedence S3 and Azure apply.
struct Conditions {
  std::optional<std::string> ifMatch;       // raw header: "*", or a list of (quoted) ETags
  std::optional<std::string> ifNoneMatch;
  std::optional<int64_t> ifModifiedSinceMs;
  std::optional<int64_t> ifUnmodifiedSinceMs;
  bool empty() const { return !ifMatch && !ifNoneMatch && !ifModifiedSinceMs && !ifUnmodifiedSinceMs; }
};

// Digests of a body, computed while it streams to disk.
struct Digests {
  uint64_t size = 0;
  std::string md5;                              // raw 16 bytes, always computed
  std::map<ChecksumAlgo, std::string> sums;     // raw digests for the requested algorithms
};

// Called after the whole body was received and before anything is committed: the adapter checks
// Content-MD5, x-amz-checksum-* (header or trailer) and signed payload hashes here. A non-OK
// status aborts the write; nothing becomes visible.
using BodyVerifier = std::function<Status(const Digests&)>;

struct PutInput {
  std::string bucket;
  std::string key;
  std::string owner;
  ContentHeaders content;
  StringPairs userMeta;
  Conditions conditions;                 // If-Match / If-None-Match on write
  std::set<ChecksumAlgo> checksums;      // algorithms to compute and store
  std::set<ChecksumAlgo> verifyOnly;     // computed for `verify` only (e.g. signed payload hash)
  std::optional<uint64_t> expectedSize;  // Content-Length (decoded), if known
  BodyVerifier verify;
  store::ObjectKind kind = store::ObjectKind::kBlock;
  std::string contentMd5;                // Content-MD5 property to store (base64); "" = body MD5
  store::CommitCheck check;              // replaces the `conditions` check when set (Blob:
                                         // Azure's condition rules and leases)
};

struct ByteRange {
  uint64_t first = 0;
  uint64_t length = 0;
};

struct ReadInput {
  std::string bucket;
  std::string key;
  Conditions conditions;
  std::optional<std::string> range;  // raw Range header ("bytes=0-99")
  std::optional<uint32_t> partNumber;
};

enum class MetadataDirective { kCopy, kReplace };

struct CopyInput {
  std::string srcBucket;
  std::string srcKey;
  Conditions srcConditions;   // x-amz-copy-source-if-*
  PutInput dst;               // destination; content/userMeta used only with kReplace
  MetadataDirective directive = MetadataDirective::kCopy;
};

struct ListInput {
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  std::string startAfter;     // exclusive: V1 marker, V2 start-after or continuation
  uint32_t maxKeys = 1000;
  bool fullRecords = false;   // records with every field (Blob listings), see listObjects
};

struct ListOutput {
  std::vector<ObjectRecord> objects;     // extents/userMeta may be absent
  std::vector<std::string> commonPrefixes;
  bool truncated = false;
  std::string nextMarker;                // last key or prefix returned, when truncated
};

struct ListUploadsInput {
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  std::string keyMarker;
  std::string uploadIdMarker;
  uint32_t maxUploads = 1000;
};

struct ListUploadsOutput {
  std::vector<UploadRecord> uploads;
  std::vector<std::string> commonPrefixes;
  bool truncated = false;
  std::string nextKeyMarker;
  std::string nextUploadIdMarker;
};

struct CompletePart {
  uint32_t number = 0;
  std::string etag;           // as sent (quotes stripped by the adapter)
  StringPairs checksums;      // algorithm -> base64, as sent
};

struct PartInput {
  std::string bucket;
  std::string key;
  std::string uploadId;
  uint32_t partNumber = 0;
  std::set<ChecksumAlgo> checksums;
  std::set<ChecksumAlgo> verifyOnly;
  std::optional<uint64_t> expectedSize;
  BodyVerifier verify;
};

// --- block objects (Blob block blobs) ---

struct StageBlockInput {
  std::string bucket;
  std::string key;
  std::string blockId;                   // raw (base64-decoded), 1..64 bytes
  std::string owner;                     // recorded on the implicit staging upload
  std::optional<uint64_t> expectedSize;
  std::set<ChecksumAlgo> verifyOnly;
  BodyVerifier verify;                   // Content-MD5 / x-ms-content-crc64 checks
};

struct BlockInfo {
  std::string id;                        // raw
  uint64_t size = 0;
};

struct BlockListView {
  std::optional<ObjectRecord> object;    // the committed object, when one exists
  std::vector<BlockInfo> committed;      // its block list (empty unless committed from blocks)
  std::vector<BlockInfo> uncommitted;    // staged blocks, in staging order when known
};

enum class BlockSource { kCommitted, kUncommitted, kLatest };

struct BlockRefInput {
  BlockSource source = BlockSource::kLatest;
  std::string id;                        // raw
};

struct CommitBlocksInput {
  std::string bucket;
  std::string key;
  std::string owner;
  std::vector<BlockRefInput> blocks;     // in object order; an id may repeat
  ContentHeaders content;
  StringPairs userMeta;
  std::string contentMd5;                // x-ms-blob-content-md5 (base64) or "" (none stored)
  store::CommitCheck check;              // conditions and lease on the current object
};

// --- append objects (Blob append blobs) ---

struct AppendInput {
  std::string bucket;
  std::string key;
  std::optional<uint64_t> appendPosition;  // x-ms-blob-condition-appendpos
  std::optional<uint64_t> maxSize;         // x-ms-blob-condition-maxsize
  std::optional<uint64_t> expectedSize;    // Content-Length
  BodyVerifier verify;
  // Conditions and lease on the current object, run under the per-key serialization.
  std::function<Status(const ObjectRecord& current)> check;
};

// --- leases (Blob leases on objects and buckets) ---

enum class LeaseAction { kAcquire, kRenew, kChange, kRelease, kBreak };

struct LeaseInput {
  LeaseAction action = LeaseAction::kAcquire;
  std::string leaseId;                   // x-ms-lease-id (renew, change, release)
  std::string proposedId;                // x-ms-proposed-lease-id (acquire, change)
  int32_t durationSec = -1;              // acquire: -1 infinite or 15..60
  std::optional<int32_t> breakPeriodSec; // break: 0..60 (absent: the remaining fixed term)
};

struct LeaseResult {
  std::string leaseId;                   // acquire/renew/change: the active id
  int32_t leaseTimeSec = 0;              // break: seconds until the break completes
  std::string etag;                      // the resource's (unchanged) ETag and mtime
  int64_t mtimeMs = 0;
};

}  // namespace ember::core
