#pragma once
// The local store's metadata index: one RocksDB database at <dataDir>/index with a column family
// per record kind (docs/formats/local-store.md). This wrapper owns the database, its tuning and
// the translation of rocksdb::Status into ember::Status; it knows nothing about objects.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "common/status.h"

namespace ember::store::local {

enum class Cf : size_t {
  kBuckets = 0,  // bucket name -> BucketRecord
  kObjects,      // bucket '\0' key -> ObjectRecord (listing fields first)
  kUploads,      // bucket '\0' key '\0' uploadId -> UploadRecord (listing order)
  kUploadIds,    // uploadId -> UploadRecord (lookup by id)
  kParts,        // uploadId '\0' BE32(number) -> PartRecord
  kData,         // versionId BE32(index) -> inline bytes / external tail (blob files)
  kPending,      // 'F' fileId | 'R' versionId -> reclaim work that recovery must finish
  kCount,
};

struct IndexOptions {
  size_t blockCacheBytes = 256u << 20;
  bool syncWrites = true;
};

class Index {
 public:
  // Opens (creating if needed) the database at `path` with all column families.
  static Result<std::unique_ptr<Index>> open(const std::string& path, const IndexOptions& options);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  rocksdb::DB& db() { return *db_; }
  rocksdb::ColumnFamilyHandle* cf(Cf which) { return cfs_[static_cast<size_t>(which)]; }

  // Point lookup; nullopt when absent. Inside a CacheOnlyScope, kBusy when the answer is not in
  // memory (memtable, block or blob cache) and would need a disk read.
  Result<std::optional<std::string>> get(Cf which, std::string_view key);
  // Read options for this thread: default, or cache-only inside a CacheOnlyScope.
  static rocksdb::ReadOptions readOptions();

  // While alive, this thread's reads through the Index never touch the disk (network threads use
  // it to answer hot reads without a hop to the blocking pool).
  class CacheOnlyScope {
   public:
    CacheOnlyScope();
    ~CacheOnlyScope();
    CacheOnlyScope(const CacheOnlyScope&) = delete;
    CacheOnlyScope& operator=(const CacheOnlyScope&) = delete;
  };
  // Writes `batch` atomically; synced (WAL fsync) when the store's syncWrites is set. This is
  // the acknowledgement point of every mutating store call.
  Status commit(rocksdb::WriteBatch& batch);
  // Writes `batch` without waiting for the WAL to reach the disk: only for work that recovery
  // would redo anyway (removing reclaim marks).
  Status writeUnsynced(rocksdb::WriteBatch& batch);
  // True when the half-open key range [lower, upper) of `which` holds at least one key.
  Result<bool> anyInRange(Cf which, const std::string& lower, const std::string& upper);
  uint64_t estimateKeys(Cf which);

 private:
  Index() = default;

  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<size_t>(Cf::kCount)> cfs_{};
  rocksdb::ColumnFamilyHandle* defaultCf_ = nullptr;
  bool syncWrites_ = true;
};

// A forward scan over [lower, upper) of one column family. The bounds are handed to RocksDB as
// iterate bounds, so the scan never reads past them; the object is pinned in memory because the
// RocksDB iterator points into its bound strings.
class RangeScan {
 public:
  RangeScan(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::string lower,
            std::string upper);
  RangeScan(const RangeScan&) = delete;
  RangeScan& operator=(const RangeScan&) = delete;

  rocksdb::Iterator& it() { return *it_; }
  const rocksdb::Iterator& it() const { return *it_; }

 private:
  const std::string lower_;
  const std::string upper_;
  const rocksdb::Slice lowerSlice_;
  const rocksdb::Slice upperSlice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// rocksdb::Status -> ember::Status: NoSpace -> kInsufficientStorage, Corruption -> kCorruption,
// Busy/TryAgain -> kBusy, anything else -> kIOError.
Status fromRocks(const rocksdb::Status& s);

inline rocksdb::Slice toSlice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view toView(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace ember::store::local
