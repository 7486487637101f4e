#pragma once
// The storage seam under the namespace core: buckets, object versions, multipart uploads and the
// data extents they point to. Two implementations: store/local (RocksDB index + data files, the
// warm tier's disks) and store/mem (an in-memory twin for unit tests).
//
// Every method here is BLOCKING and thread-safe; the core calls them through io/offload.h, never
// on a network thread. Durability: when a mutating method returns OK, its effect survives a crash
// (kill -9 or power loss), see docs/durability.md. A mutating method that fails leaves no trace.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ember::store {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

// A lease on a bucket or object (Blob leases): while one is active, writes and deletes must name
// its id. The state is derived from the fields and the clock, see core/lease.h.
struct LeaseRecord {
  std::string id;            // the current or last lease id ("" = never leased)
  int32_t durationSec = -1;  // -1 infinite, else the fixed term (15..60 s)
  int64_t expiresMs = 0;     // fixed leases: end of the current term
  int64_t breakAtMs = 0;     // breaking: when the break completes (0 = no break requested)
  bool released = false;     // released: available again
};

struct BucketRecord {
  std::string name;
  int64_t createdMs = 0;
  std::string owner;   // access-key user name that created it
  std::string region;  // location constraint given at creation ("" = default)
  StringPairs userMeta;    // container metadata (Blob x-ms-meta-*), names as given
  std::string etag;        // changes with every metadata write ("" on buckets made before)
  int64_t mtimeMs = 0;     // last metadata write (createdMs when never written)
  LeaseRecord lease;
};

// Where a run of an object's bytes lives. Inline extents carry their bytes (small objects are
// stored in the index itself); file extents name a data file by id. Records returned by metadata
// calls (getObject, CommitCheck's `current`, deleteObject, iterators) carry inline extents
// WITHOUT their bytes (data empty, size set): read bytes through openObject.
struct Extent {
  enum class Kind : uint8_t { kInline = 0, kFile = 1 };
  Kind kind = Kind::kInline;
  std::string id;      // file extents: 32 lowercase hex chars, unique forever
  uint64_t size = 0;
  std::string data;    // inline extents only
};

struct ContentHeaders {
  std::string contentType;
  std::string contentEncoding;
  std::string contentDisposition;
  std::string contentLanguage;
  std::string cacheControl;
  std::string expires;
};

// Block objects are written whole (PUT, multipart, block lists); append objects grow by appends.
enum class ObjectKind : uint8_t { kBlock = 0, kAppend = 1 };

struct ObjectRecord {
  std::string bucket;
  std::string key;
  uint64_t size = 0;
  std::string etag;         // without quotes: 32 hex chars, or "<hex>-<parts>" for multipart
  int64_t mtimeMs = 0;      // last-modified, ms since the epoch
  std::string owner;
  ContentHeaders content;
  StringPairs userMeta;     // names lower-cased, without the x-amz-meta- prefix
  StringPairs checksums;    // algorithm ("CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME") -> base64
  std::string checksumType; // "FULL_OBJECT" or "COMPOSITE" when checksums is not empty
  std::vector<uint64_t> partSizes;  // multipart objects: size of each part in order; else empty
  std::vector<Extent> extents;      // the bytes, in order; sizes sum to `size`
  std::string versionId;    // internal, unique per committed version (32 hex chars); the
                            // committer's fresh id, or assigned by the store when empty
  ObjectKind kind = ObjectKind::kBlock;
  int64_t createdMs = 0;    // when the key was created (kept by metadata-only rewrites)
  std::string contentMd5;   // the Content-MD5 property, base64 ("" = none stored)
  bool sealed = false;      // append objects: no more appends
  uint32_t blockCount = 0;  // append objects: committed appends
  std::vector<std::string> blockIds;  // objects committed from a block list: the id of each
                                      // entry of partSizes (raw, as decoded from base64)
  LeaseRecord lease;
  StringPairs attrs;        // adapter-owned system attributes, kept verbatim (Blob copy status)
};

// Precondition evaluated atomically with a commit, under the store's per-key serialization:
// `current` is the committed record for the key or nullptr. A non-OK status aborts the commit
// and is returned unchanged by the mutating call.
using CommitCheck = std::function<Status(const ObjectRecord* current)>;

// appendObject's precondition and update, run under the per-key serialization: `current` is the
// committed record (inline extents without bytes); `next` arrives as a copy of it whose size and
// extents already include the appended bytes, with a fresh versionId. The callback validates the
// append (kind, seal, position and size conditions, lease) and sets the fields the store does not
// own (etag, mtimeMs, blockCount). A non-OK status aborts the append, leaving no trace.
using AppendCheck = std::function<Status(const ObjectRecord& current, ObjectRecord& next)>;
// updateObject's mutation of a full record (see there).
using RecordUpdate = std::function<Status(ObjectRecord& record)>;
using BucketUpdate = std::function<Status(BucketRecord& bucket)>;

// Buffers/streams one run of bytes to stable storage. Not thread-safe: one writer per upload.
// Destroying a writer without finish() discards its bytes.
class DataWriter {
 public:
  virtual ~DataWriter() = default;
  // Errors: kInsufficientStorage when the volume is full (nothing is kept), kIOError.
  virtual Status append(std::span<const char> data) = 0;
  // Makes the bytes durable (fdatasync for file extents) and returns the extent describing them.
  // Small runs (<= the store's inline threshold) come back as inline extents. The extent is
  // not referenced by anything until a commit names it; unreferenced extents are reclaimed on
  // recovery, so a crash between finish() and the commit leaks nothing.
  virtual Result<Extent> finish() = 0;
  virtual uint64_t size() const = 0;
  // Discards the bytes now (blocking: removes a spilled file). The destructor discards too, but
  // may defer the file removal to the store's next call because it can run on a network thread;
  // callers on the blocking pool that give up on a write call abort() so nothing lingers.
  virtual void abort() {}
};

// A consistent view of one committed object version. The extents it references are not
// reclaimed while the reader is alive, even if the key is overwritten or deleted meanwhile.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual const ObjectRecord& record() const = 0;
  // Reads up to buf.size() bytes at `offset` (object coordinates). Returns 0 only at the end.
  virtual Result<size_t> readAt(uint64_t offset, std::span<char> buf) = 0;
};

// Ordered iteration over one bucket's object records, in byte order of keys. A new iterator is
// positioned at the bucket's first key.
class ObjectIterator {
 public:
  virtual ~ObjectIterator() = default;
  virtual void seek(std::string_view key) = 0;  // first key >= `key`
  virtual bool valid() const = 0;
  virtual void next() = 0;
  virtual std::string_view key() const = 0;
  // The record without extents/userMeta-heavy fields guaranteed (listing needs key, size, etag,
  // mtime, owner, checksums); implementations may return the full record.
  virtual const ObjectRecord& record() = 0;
  virtual Status status() const = 0;
};

struct UploadRecord {
  std::string bucket;
  std::string key;
  std::string uploadId;     // unique; 32+ url-safe chars
  int64_t initiatedMs = 0;
  std::string owner;
  ContentHeaders content;
  StringPairs userMeta;
  std::string checksumAlgorithm;  // requested at CreateMultipartUpload, may be empty
  std::string checksumType;       // "COMPOSITE" / "FULL_OBJECT" / ""
};

struct PartRecord {
  uint32_t number = 0;      // 1..10000 for multipart uploads; any >= 1 for block staging
  std::string blockId;      // block staging: the block's id (raw); "" for multipart parts
  uint64_t size = 0;
  std::string etag;         // hex MD5 of the part, without quotes
  int64_t mtimeMs = 0;
  StringPairs checksums;    // algorithm -> base64
  Extent extent;
};

// Ordered iteration over a bucket's in-progress uploads by (key, uploadId), positioned at the
// first one when created.
class UploadIterator {
 public:
  virtual ~UploadIterator() = default;
  virtual void seek(std::string_view key, std::string_view uploadId) = 0;
  virtual bool valid() const = 0;
  virtual void next() = 0;
  virtual const UploadRecord& record() = 0;
  virtual Status status() const = 0;
};

struct Capacity {
  uint64_t totalBytes = 0;
  uint64_t freeBytes = 0;
  uint64_t objectCount = 0;  // may be approximate
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // --- buckets ---
  // Errors: kAlreadyExists.
  virtual Status createBucket(const BucketRecord& bucket) = 0;
  // Errors: kNoSuchBucket.
  virtual Result<BucketRecord> getBucket(std::string_view name) = 0;
  // Errors: kNoSuchBucket, kBucketNotEmpty (objects or in-progress uploads remain).
  virtual Status deleteBucket(std::string_view name) = 0;
  virtual Result<std::vector<BucketRecord>> listBuckets() = 0;  // sorted by name

  // --- objects ---
  virtual Result<std::unique_ptr<DataWriter>> newWriter() = 0;
  // Errors: kNoSuchBucket, kNoSuchKey.
  virtual Result<ObjectRecord> getObject(std::string_view bucket, std::string_view key) = 0;
  // Errors: kNoSuchBucket, kNoSuchKey.
  virtual Result<std::unique_ptr<ObjectReader>> openObject(std::string_view bucket,
                                                           std::string_view key) = 0;
  // Like openObject, but never blocks: answers from memory or fails with kBusy ("would need the
  // disk"), and the caller then uses openObject on the blocking pool. May be called on a network
  // thread. Other errors are final (kNoSuchKey, kNoSuchBucket). Default: always kBusy.
  virtual Result<std::unique_ptr<ObjectReader>> tryOpenObjectCached(std::string_view bucket,
                                                                    std::string_view key) {
    (void)bucket;
    (void)key;
    return unexpected(Code::kBusy, "no cache-only path");
  }
  // Commits `record`. Its file extents come from finish() of writers of this store, or are
  // extents of the key's current version (a metadata-only rewrite); never extents of another key
  // or upload: the store reference-counts nothing, so callers copy data for CopyObject.
  // Atomically replaces the previous version; the previous version's extents are reclaimed once
  // no reader holds them. A record whose lease id is empty keeps the previous version's lease
  // (a lease belongs to the key until the key is deleted). `check` runs under the per-key lock first. The call consumes the
  // record's writer extents: on failure they are reclaimed (a failed call leaves no trace).
  // Errors: kNoSuchBucket, the check's error, kInvalidArgument (malformed record, a file extent
  // this call does not own, versionId equal to the current one's), kInsufficientStorage, kIOError.
  virtual Status putObject(ObjectRecord record, const CommitCheck& check) = 0;
  // Deletes the key. Returns the deleted record, or nullopt if there was none (not an error).
  virtual Result<std::optional<ObjectRecord>> deleteObject(std::string_view bucket,
                                                           std::string_view key,
                                                           const CommitCheck& check) = 0;
  // `fullRecords`: records carry every field (content headers, user metadata, kind, lease …),
  // not only what an S3 listing needs. Errors: kNoSuchBucket.
  virtual Result<std::unique_ptr<ObjectIterator>> listObjects(std::string_view bucket,
                                                              bool fullRecords = false) = 0;
  // Appends `data` to the key's object and commits the record `check` completes, atomically: the
  // bytes are durable before the record that covers them, and a reader sees the object before or
  // after the append, never part of it. The store grows the object's last file extent in place
  // (append objects own their files) or starts a new file extent, so an append costs O(appended
  // bytes), not O(object). Returns the committed record (inline extents without bytes).
  // Errors: kNoSuchBucket, kNoSuchKey, the check's error, kInsufficientStorage, kIOError.
  virtual Result<ObjectRecord> appendObject(std::string_view bucket, std::string_view key,
                                            std::span<const char> data,
                                            const AppendCheck& check) = 0;
  // Metadata-only rewrite: `mutate` edits a copy of the current record (size, extents, partSizes
  // and blockIds must stay as they are) which is committed as a new version sharing the bytes.
  // Optimistic: when the key changes between the read and the commit, the update is retried.
  // Returns the committed record. Errors: kNoSuchBucket, kNoSuchKey, mutate's error, kBusy (the
  // key kept changing), kInvalidArgument (mutate changed the bytes' layout).
  Result<ObjectRecord> updateObject(std::string_view bucket, std::string_view key,
                                    const RecordUpdate& mutate);
  // Rewrites a bucket's record (metadata, lease) atomically; `mutate` may not rename it.
  // Errors: kNoSuchBucket, mutate's error.
  virtual Status updateBucket(std::string_view name, const BucketUpdate& mutate) = 0;

  // --- multipart uploads ---
  virtual Status createUpload(const UploadRecord& upload) = 0;  // kNoSuchBucket
  // Errors: kNoSuchUpload (also when bucket/key do not match the upload).
  virtual Result<UploadRecord> getUpload(std::string_view bucket, std::string_view key,
                                         std::string_view uploadId) = 0;
  // Stores or replaces a part; a replaced part's extent is reclaimed. Like putObject, consumes
  // part.extent (reclaimed on failure). Errors: kNoSuchUpload, kInvalidArgument (number outside
  // 1..10000, malformed extent), kInsufficientStorage.
  virtual Status putPart(std::string_view uploadId, PartRecord part) = 0;
  // Parts with number > `afterPart`, ascending, at most `max`. Errors: kNoSuchUpload.
  virtual Result<std::vector<PartRecord>> listParts(std::string_view uploadId, uint32_t afterPart,
                                                    uint32_t max) = 0;
  // Commits `record` (built from the chosen parts' extents, in order) as the object, removes the
  // upload, and reclaims parts not named in record.extents. Atomic like putObject. On failure the
  // upload and its parts stay as they were.
  // Errors: kNoSuchUpload, the check's error, kInvalidPart (a file extent that is not one of
  // the upload's current parts), kInvalidArgument.
  virtual Status completeUpload(std::string_view uploadId, ObjectRecord record,
                                const CommitCheck& check) = 0;
  // Removes the upload and reclaims its parts. Errors: kNoSuchUpload.
  virtual Status abortUpload(std::string_view uploadId) = 0;
  virtual Result<std::unique_ptr<UploadIterator>> listUploads(std::string_view bucket) = 0;

  virtual Result<Capacity> capacity() = 0;
};

using ObjectStorePtr = std::shared_ptr<ObjectStore>;

// Inline/file extent reader shared by implementations: reads `rec`'s bytes at `offset` by walking
// its extents; `readFile(extent, offsetInExtent, buf)` handles file extents.
Result<size_t> readExtents(const ObjectRecord& rec, uint64_t offset, std::span<char> buf,
                           const std::function<Result<size_t>(const Extent&, uint64_t,
                                                              std::span<char>)>& readFile);

}  // namespace ember::store
