#pragma once
// The warm tier's object store: a RocksDB metadata index plus one data file per large run of
// bytes, on the node's local disks. Implements the ObjectStore contract (store/object_store.h);
// the durability protocol is docs/durability.md ("Object store") and the on-disk layout
// docs/formats/local-store.md.
//
//   <dataDir>/index/              RocksDB: buckets, objects, uploads, parts, inline data, pending
//   <dataDir>/data/<2 hex>/<id>   immutable data files, one per file extent
//
// Thread-safety: every method is blocking and may be called from any number of threads.
// Writers, readers and iterators keep the store alive (they hold a shared_ptr to it).

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/object_store.h"

namespace ember::store {

namespace local {
class DataFiles;
class Index;
class Reclaimer;
class LocalWriter;
class LocalReader;
}  // namespace local

struct LocalStoreOptions {
  std::string dataDir;                    // created if missing
  uint64_t inlineThreshold = 64 * 1024;   // runs up to this size live in the index
  uint64_t reserveBytes = 256ull << 20;   // free-space floor: writes below it are refused
  bool syncWrites = true;                 // false only for tests and benchmarks of the CPU path
  size_t blockCacheBytes = 256u << 20;    // RocksDB block + blob cache
};

class LocalStore final : public ObjectStore, public std::enable_shared_from_this<LocalStore> {
  struct Passkey {};

 public:
  // Opens or creates the store in options.dataDir and runs crash recovery (reclaims every
  // pending file and retired version) before returning.
  // Errors: kInvalidArgument (empty dataDir), kIOError, kCorruption (unknown index format).
  static Result<std::shared_ptr<LocalStore>> open(const LocalStoreOptions& options);

  LocalStore(Passkey, LocalStoreOptions options);
  ~LocalStore() override;
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  Status createBucket(const BucketRecord& bucket) override;
  Result<BucketRecord> getBucket(std::string_view name) override;
  Status deleteBucket(std::string_view name) override;
  Result<std::vector<BucketRecord>> listBuckets() override;

  Result<std::unique_ptr<DataWriter>> newWriter() override;
  Result<ObjectRecord> getObject(std::string_view bucket, std::string_view key) override;
  Result<std::unique_ptr<ObjectReader>> openObject(std::string_view bucket,
                                                   std::string_view key) override;
  Result<std::unique_ptr<ObjectReader>> tryOpenObjectCached(std::string_view bucket,
                                                           std::string_view key) override;
  Status putObject(ObjectRecord record, const CommitCheck& check) override;
  Result<std::optional<ObjectRecord>> deleteObject(std::string_view bucket, std::string_view key,
                                                   const CommitCheck& check) override;
  Result<std::unique_ptr<ObjectIterator>> listObjects(std::string_view bucket,
                                                      bool fullRecords = false) override;
  Result<ObjectRecord> appendObject(std::string_view bucket, std::string_view key,
                                    std::span<const char> data,
                                    const AppendCheck& check) override;
  Status updateBucket(std::string_view name, const BucketUpdate& mutate) override;

  Status createUpload(const UploadRecord& upload) override;
  Result<UploadRecord> getUpload(std::string_view bucket, std::string_view key,
                                 std::string_view uploadId) override;
  Status putPart(std::string_view uploadId, PartRecord part) override;
  Result<std::vector<PartRecord>> listParts(std::string_view uploadId, uint32_t afterPart,
                                            uint32_t max) override;
  Status completeUpload(std::string_view uploadId, ObjectRecord record,
                        const CommitCheck& check) override;
  Status abortUpload(std::string_view uploadId) override;
  Result<std::unique_ptr<UploadIterator>> listUploads(std::string_view bucket) override;

  Result<Capacity> capacity() override;

  const LocalStoreOptions& options() const { return options_; }
  // Runs deferred reclamation now (normally done lazily by later calls). For tests and shutdown.
  void reclaimNow();
  // Pending marks (files being written or awaiting reclaim) in the index. For tests.
  Result<size_t> pendingMarkCountForTest();

 private:
  friend class local::LocalWriter;
  friend class local::LocalReader;

  static constexpr size_t kKeyStripes = 1024;
  static constexpr size_t kBucketStripes = 64;
  static constexpr size_t kUploadStripes = 256;

  Status recover();
  std::mutex& keyLock(std::string_view bucket, std::string_view key);
  std::shared_mutex& bucketLock(std::string_view bucket);
  std::mutex& uploadLock(std::string_view uploadId);
  // Serializes appends to one key (held across the data write and the commit).
  std::mutex& appendLock(std::string_view bucket, std::string_view key);
  Status requireBucket(std::string_view bucket);
  // openObject without the reclaim step (shared by the blocking and the cache-only paths).
  Result<std::unique_ptr<ObjectReader>> openVersion(std::string_view bucket, std::string_view key);
  // Runs queued reclamation if any; called at the start of store calls (blocking threads).
  void maybeReclaim();

  // Loads the committed record (full depth, inline extents without bytes) or nullopt.
  Result<std::optional<ObjectRecord>> loadObject(std::string_view bucket, std::string_view key);
  // Reads the bytes of the inline extents of `rec` (version `versionRaw`) into the record.
  Status loadInlineData(ObjectRecord& rec, std::string_view versionRaw);
  // The shared commit path of putObject and completeUpload; see local_objects.cc.
  struct CommitPlan;
  Status commitObject(ObjectRecord& record, const CommitCheck& check, CommitPlan& plan);
  // Failed putObject/putPart: reclaims the writer files `record` brought that nothing took.
  void discardFresh(const std::vector<Extent>& extents);
  // True when `idRaw` has a pending writer mark, i.e. came from finish() and is uncommitted.
  Result<bool> isFreshFile(const std::string& idRaw);

  const LocalStoreOptions options_;
  std::unique_ptr<local::Index> index_;
  std::unique_ptr<local::DataFiles> files_;
  std::unique_ptr<local::Reclaimer> reclaimer_;
  // Lock order: append -> bucket (shared, or exclusive for create/delete bucket) -> upload -> key.
  std::array<std::shared_mutex, kBucketStripes> bucketLocks_;
  std::array<std::mutex, kUploadStripes> uploadLocks_;
  std::array<std::mutex, kKeyStripes> keyLocks_;
  std::array<std::mutex, kKeyStripes> appendLocks_;
};

}  // namespace ember::store
