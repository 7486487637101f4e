#pragma once
// The namespace core: buckets, objects, conditions, listing and multipart uploads, independent of
// the wire protocol. The S3 adapter (src/s3) is its first caller and the Blob adapter its second.
//
// Every method is a coroutine that runs on the caller's executor and moves blocking store calls
// to the BlockingPool. Errors are core Status codes; adapters map them through their own table.

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/stream.h"
#include "core/tier_hooks.h"
#include "core/types.h"
#include "io/offload.h"
#include "store/object_store.h"

namespace ember::core {

struct NamespaceOptions {
  uint64_t minPartSize = 5ULL << 20;      // every part but the last (S3: 5 MiB)
  uint64_t maxPartSize = 5ULL << 30;      // 5 GiB
  uint64_t maxPutSize = 5ULL << 30;       // single PUT / copy (S3: 5 GiB)
  uint64_t maxObjectSize = 5ULL << 40;    // 5 TiB
  uint32_t maxParts = 10'000;
  uint32_t maxBlocks = 50'000;            // committed blocks of a block-list object
  uint32_t maxAppends = 50'000;           // appends to one append object
  uint64_t maxAppendBytes = 4ULL << 20;   // one append (Azure: 4 MiB before 2022-11-02)
  size_t ioChunkBytes = 1 << 20;          // streaming unit between network and disk
};

// An open object version positioned on the byte range to return.
struct ReadHandle {
  std::unique_ptr<store::ObjectReader> reader;
  uint64_t offset = 0;
  uint64_t length = 0;
  bool partial = false;        // a Range or partNumber selected part of the object
  uint32_t partsCount = 0;     // multipart objects: number of parts
  // Mapped buckets: the record as the tier shows it (kTierStateAttr set), and for an object read
  // through from cold, the coroutine side of its reader (streamRead uses it).
  std::optional<ObjectRecord> shown;
  AsyncObjectReader* async = nullptr;
  const ObjectRecord& record() const { return shown ? *shown : reader->record(); }
};

class Namespace {
 public:
  Namespace(store::ObjectStorePtr store, BlockingPool& pool, NamespaceOptions options = {});

  // --- buckets ---
  // Errors: kInvalidBucketName, kAlreadyOwned (same owner), kAlreadyExists.
  asio::awaitable<Status> createBucket(std::string name, std::string owner, std::string region,
                                       StringPairs userMeta = {});
  asio::awaitable<Result<BucketRecord>> getBucket(std::string name);
  asio::awaitable<Status> deleteBucket(std::string name);
  asio::awaitable<Result<std::vector<BucketRecord>>> listBuckets();

  // --- objects ---
  // Streams `body` to durable storage, verifies it, then commits atomically.
  asio::awaitable<Result<ObjectRecord>> putObject(PutInput in, ByteSource& body);
  // Evaluates conditions and the range; kNotModified / kPreconditionFailed / kInvalidRange.
  asio::awaitable<Result<ReadHandle>> openRead(ReadInput in);
  // Writes the handle's range to `sink` in ioChunkBytes pieces.
  asio::awaitable<Status> streamRead(ReadHandle& handle, ByteSink& sink);
  asio::awaitable<Result<ObjectRecord>> headObject(std::string bucket, std::string key);
  // Deleting a missing key succeeds (S3 semantics); kNoSuchBucket if the bucket is missing.
  // `check`, when set, replaces the S3-style If-Match check (Blob: Azure conditions, leases).
  asio::awaitable<Result<std::optional<ObjectRecord>>> deleteObject(
      std::string bucket, std::string key, Conditions conditions,
      store::CommitCheck check = nullptr);
  // Server-side copy (data is copied: versions never share extents). Returns the new record.
  asio::awaitable<Result<ObjectRecord>> copyObject(CopyInput in);
  asio::awaitable<Result<ListOutput>> list(ListInput in);

  // --- multipart ---
  asio::awaitable<Result<UploadRecord>> createUpload(UploadRecord upload);
  asio::awaitable<Result<PartRecord>> uploadPart(PartInput in, ByteSource& body);
  // Copies [range] of an existing object into a part.
  asio::awaitable<Result<PartRecord>> uploadPartCopy(PartInput in, std::string srcBucket,
                                                     std::string srcKey, Conditions srcConditions,
                                                     std::optional<std::string> srcRange);
  asio::awaitable<Result<ObjectRecord>> completeUpload(std::string bucket, std::string key,
                                                       std::string uploadId,
                                                       std::vector<CompletePart> parts,
                                                       Conditions conditions);
  asio::awaitable<Status> abortUpload(std::string bucket, std::string key, std::string uploadId);
  asio::awaitable<Result<UploadRecord>> getUpload(std::string bucket, std::string key,
                                                  std::string uploadId);
  asio::awaitable<Result<std::vector<PartRecord>>> listParts(std::string uploadId,
                                                             uint32_t afterPart, uint32_t max);
  asio::awaitable<Result<ListUploadsOutput>> listUploads(ListUploadsInput in);

  // --- buckets: metadata, leases, delete with contents (Blob containers) ---
  // Rewrites the bucket record (metadata, lease); the bucket cache follows.
  asio::awaitable<Status> updateBucket(std::string name, store::BucketUpdate mutate);
  // Applies a lease action to the bucket (core/lease.h rules).
  asio::awaitable<Result<LeaseResult>> leaseBucket(std::string name, LeaseInput in);
  // Deletes every object and upload of the bucket, then the bucket (Azure Delete Container).
  // `check` runs on the bucket record first (conditions, lease). Errors: kNoSuchBucket, check's.
  asio::awaitable<Status> deleteBucketWithContents(
      std::string name, std::function<Status(const BucketRecord&)> check);

  // --- block objects ---
  // Stages (or replaces) a block of the key's implicit staging upload (core/blocks.cc).
  asio::awaitable<Result<PartRecord>> stageBlock(StageBlockInput in, ByteSource& body);
  // Stages [range] (the whole object when absent) of an existing object as a block.
  asio::awaitable<Result<PartRecord>> stageBlockFromObject(StageBlockInput in, std::string srcBucket,
                                                          std::string srcKey,
                                                          std::optional<ByteRange> range);
  asio::awaitable<Result<BlockListView>> getBlockList(std::string bucket, std::string key,
                                                      bool committed, bool uncommitted);
  // Commits the listed blocks as the object and drops the other staged blocks. Errors:
  // kInvalidBlockList (a block that is neither staged nor committed), check's.
  asio::awaitable<Result<ObjectRecord>> commitBlockList(CommitBlocksInput in);
  // Drops the key's staged blocks (Put Blob and Delete Blob do this). Missing ones are fine.
  asio::awaitable<Status> dropStagedBlocks(std::string bucket, std::string key);
  // Drops every blob's staged blocks first staged before `olderThanMs` (Azure discards blocks
  // left uncommitted for a week). Returns how many blobs' blocks were dropped.
  asio::awaitable<Result<size_t>> reapStagedBlocks(int64_t olderThanMs);

  // --- append objects ---
  // Appends the body (at most maxAppendBytes) to an append object. Errors: kNoSuchKey,
  // kWrongObjectKind, kObjectSealed, kAppendPositionMismatch, kMaxSizeExceeded,
  // kBlockCountExceeded, kEntityTooLarge, check's.
  asio::awaitable<Result<ObjectRecord>> appendBlock(AppendInput in, ByteSource& body);

  // --- metadata-only writes and leases on objects ---
  asio::awaitable<Result<ObjectRecord>> updateObject(std::string bucket, std::string key,
                                                     store::RecordUpdate mutate);
  // Applies a lease action to the object. `check` runs on the current record first.
  asio::awaitable<Result<LeaseResult>> leaseObject(
      std::string bucket, std::string key, LeaseInput in,
      std::function<Status(const ObjectRecord&)> check);

  // Buckets mapped to a cold store are read through these (src/tier); set once, before serving.
  void setTierHooks(TierHooks* hooks) { tier_ = hooks; }

  const NamespaceOptions& options() const { return options_; }
  store::ObjectStore& store() { return *store_; }

 private:
  struct Written {
    store::Extent extent;
    Digests digests;
  };
  // Streams a body into a new extent, computing MD5 and the requested checksums.
  // `sums` are computed (and returned in Digests); the caller decides which ones to store.
  asio::awaitable<Result<Written>> writeBody(ByteSource& body, std::set<ChecksumAlgo> sums,
                                             std::optional<uint64_t> expectedSize,
                                             uint64_t maxSize);
  asio::awaitable<Result<Written>> streamInto(ByteSource& body,
                                              std::shared_ptr<store::DataWriter> w,
                                              std::set<ChecksumAlgo> sums,
                                              std::optional<uint64_t> expectedSize,
                                              uint64_t maxSize);
  asio::awaitable<Status> requireBucket(const std::string& bucket);

  asio::awaitable<Result<ReadHandle>> openMapped(ReadInput& in,
                                                 Result<std::unique_ptr<store::ObjectReader>> reader);
  asio::awaitable<Result<ListOutput>> listWarm(const ListInput& in);

  store::ObjectStorePtr store_;
  BlockingPool& pool_;
  NamespaceOptions options_;
  TierHooks* tier_ = nullptr;

  // Bucket records are few and every request needs one (existence, owner): they are cached here,
  // filled on first lookup and updated by createBucket/deleteBucket, the only writers. A lookup
  // that raced with a delete does not re-insert (bucketGen_ changed).
  std::shared_mutex bucketsMu_;
  std::unordered_map<std::string, BucketRecord> buckets_;
  uint64_t bucketGen_ = 0;

  // Block staging (core/blocks.cc): stage, commit and drop of one key's blocks hold the stripe
  // of its (bucket, key) around their store calls, so that two stages of one blob never pick the
  // same part number and a commit sees a stable set of staged blocks. Held on the blocking pool
  // only, never across a co_await.
  std::array<std::mutex, 64> blockStripes_;
  std::mutex& blockStripe(const std::string& bucket, const std::string& key);
};

// --- pure helpers (unit-tested without an io_context) ---

// Smallest string greater than every string that starts with `s` ("" if none exists).
std::string prefixSuccessor(std::string s);
// The common prefix `key` rolls up into when listing `prefix` with `delimiter` (key up to and
// including the first delimiter after the prefix), or "" when it does not roll up.
std::string_view rollUp(std::string_view key, std::string_view prefix, std::string_view delimiter);

// S3 bucket naming rules (also valid Blob container names when they contain no dots).
bool validBucketName(std::string_view name);
// Keys: 1..1024 bytes of valid UTF-8.
Status validateKey(std::string_view key);
// Read preconditions with S3's precedence. Returns kPreconditionFailed or kNotModified.
Status checkReadConditions(const Conditions& c, const ObjectRecord& rec);
// Write preconditions (If-Match / If-None-Match: *) against the current record (may be null).
Status checkWriteConditions(const Conditions& c, const ObjectRecord* current);
// Parses a single "bytes=" range against `size`. nullopt = serve the whole object (absent,
// unparsable or multi-range headers are ignored, as S3 does). kInvalidRange when unsatisfiable.
Result<std::optional<ByteRange>> parseRange(std::string_view header, uint64_t size);
// x-amz-copy-source-range: strictly "bytes=first-last" with last < size. kInvalidArgument else.
Result<ByteRange> parseCopyRange(std::string_view header, uint64_t size);
// True when the header list (comma separated, quoted or W/ ETags, or "*") matches `etag`.
bool etagMatches(std::string_view headerValue, std::string_view etag);
// New random 32-hex-char id.
std::string newId();
// A fresh opaque bucket ETag ("0x" + 16 uppercase hex chars, the shape Azure uses).
std::string newBucketEtag();

}  // namespace ember::core
