#include "store/local/index.h"

#include <algorithm>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

namespace ember::store::local {

namespace {

constexpr std::array<const char*, static_cast<size_t>(Cf::kCount)> kCfNames = {
    "buckets", "objects", "uploads", "upload_ids", "parts", "data", "pending"};

// Identifies the layout in the default column family; see docs/formats/local-store.md.
constexpr std::string_view kFormatKey = "ember.format";
constexpr std::string_view kFormatValue = "ember-local-store/1";

rocksdb::CompressionType metadataCompression() {
  std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  for (auto want : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), want) != supported.end()) {
      return want;
    }
  }
  return rocksdb::kNoCompression;
}

rocksdb::ColumnFamilyOptions cfOptions(Cf which, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  t.format_version = 5;
  // Listing scans long runs of small records: bigger blocks compress better and need fewer
  // reads. Point-lookup-only families keep the default 4 KiB.
  if (which == Cf::kObjects || which == Cf::kUploads) {
    t.block_size = 16 * 1024;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.compression = metadataCompression();
  o.level_compaction_dynamic_level_bytes = true;
  if (which == Cf::kData) {
    // Inline object bytes (up to the inline threshold, 64 KiB by default) live in blob files so
    // that compaction moves small blob references, not the bytes; GC rewrites blob files whose
    // objects were overwritten or deleted.
    o.compression = rocksdb::kNoCompression;
    o.enable_blob_files = true;
    o.min_blob_size = 4096;
    o.blob_compression_type = rocksdb::kNoCompression;
    o.enable_blob_garbage_collection = true;
    o.blob_garbage_collection_age_cutoff = 0.25;
    o.blob_cache = cache;
  }
  if (which == Cf::kBuckets || which == Cf::kPending || which == Cf::kUploadIds) {
    o.write_buffer_size = 8u << 20;
  }
  return o;
}

}  // namespace

RangeScan::RangeScan(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::string lower,
                     std::string upper)
    : lower_(std::move(lower)),
      upper_(std::move(upper)),
      lowerSlice_(toSlice(lower_)),
      upperSlice_(toSlice(upper_)) {
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lowerSlice_;
  ro.iterate_upper_bound = &upperSlice_;
  it_.reset(db.NewIterator(ro, cf));
}

Status fromRocks(const rocksdb::Status& s) {
  if (s.ok()) {
    return Status::ok();
  }
  if (s.IsNoSpace()) {
    return makeError(Code::kInsufficientStorage, "index: " + s.ToString());
  }
  if (s.IsCorruption()) {
    return makeError(Code::kCorruption, "index: " + s.ToString());
  }
  if (s.IsBusy() || s.IsTryAgain()) {
    return makeError(Code::kBusy, "index: " + s.ToString());
  }
  return makeError(Code::kIOError, "index: " + s.ToString());
}

Result<std::unique_ptr<Index>> Index::open(const std::string& path, const IndexOptions& options) {
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.blockCacheBytes);

  rocksdb::DBOptions db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  db.max_background_jobs = 4;
  db.bytes_per_sync = 1u << 20;
  // Concurrent committers form write groups: one WAL append + fsync acknowledges them all.
  // (Pipelined writes split the group between WAL and memtable stages; with synced WAL writes
  // that made groups smaller, so they are off.)
  db.enable_pipelined_write = false;
  // Spinning for the write-group leader wastes the few cores a storage node gives the index.
  db.enable_write_thread_adaptive_yield = false;
  // Rarely written families (buckets, pending) would otherwise pin old WAL files forever.
  db.max_total_wal_size = 256u << 20;
  db.db_write_buffer_size = 256u << 20;
  db.keep_log_file_num = 4;

  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  descs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (size_t i = 0; i < kCfNames.size(); ++i) {
    descs.emplace_back(kCfNames[i], cfOptions(static_cast<Cf>(i), cache));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db, path, descs, &handles, &raw);
  if (!s.ok()) {
    return unexpected(fromRocks(s));
  }
  std::unique_ptr<Index> index(new Index());
  index->db_.reset(raw);
  index->defaultCf_ = handles[0];
  for (size_t i = 0; i < kCfNames.size(); ++i) {
    index->cfs_[i] = handles[i + 1];
  }
  index->syncWrites_ = options.syncWrites;

  std::string format;
  s = raw->Get(rocksdb::ReadOptions(), index->defaultCf_, toSlice(kFormatKey), &format);
  if (s.IsNotFound()) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = raw->Put(wo, index->defaultCf_, toSlice(kFormatKey), toSlice(kFormatValue));
  } else if (s.ok() && format != kFormatValue) {
    return unexpected(Code::kCorruption, "index at " + path + " has unsupported format '" +
                                             format + "'");
  }
  if (!s.ok()) {
    return unexpected(fromRocks(s));
  }
  return index;
}

Index::~Index() {
  if (!db_) {
    return;
  }
  for (rocksdb::ColumnFamilyHandle* h : cfs_) {
    if (h != nullptr) {
      db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
  }
  if (defaultCf_ != nullptr) {
    db_->DestroyColumnFamilyHandle(defaultCf_).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

namespace {
thread_local bool tCacheOnly = false;
}  // namespace

Index::CacheOnlyScope::CacheOnlyScope() { tCacheOnly = true; }
Index::CacheOnlyScope::~CacheOnlyScope() { tCacheOnly = false; }

rocksdb::ReadOptions Index::readOptions() {
  rocksdb::ReadOptions ro;
  if (tCacheOnly) {
    ro.read_tier = rocksdb::kBlockCacheTier;
  }
  return ro;
}

Result<std::optional<std::string>> Index::get(Cf which, std::string_view key) {
  std::string value;
  rocksdb::Status s = db_->Get(readOptions(), cf(which), toSlice(key), &value);
  if (s.IsNotFound()) {
    return std::optional<std::string>();
  }
  if (s.IsIncomplete()) {
    return unexpected(Code::kBusy, "not in memory");
  }
  if (!s.ok()) {
    return unexpected(fromRocks(s));
  }
  return std::optional<std::string>(std::move(value));
}

Status Index::commit(rocksdb::WriteBatch& batch) {
  rocksdb::WriteOptions wo;
  wo.sync = syncWrites_;
  return fromRocks(db_->Write(wo, &batch));
}

Status Index::writeUnsynced(rocksdb::WriteBatch& batch) {
  return fromRocks(db_->Write(rocksdb::WriteOptions(), &batch));
}

Result<bool> Index::anyInRange(Cf which, const std::string& lower, const std::string& upper) {
  RangeScan scan(*db_, cf(which), lower, upper);
  scan.it().SeekToFirst();
  if (scan.it().Valid()) {
    return true;
  }
  EMBER_TRY(fromRocks(scan.it().status()));
  return false;
}

uint64_t Index::estimateKeys(Cf which) {
  uint64_t n = 0;
  if (!db_->GetIntProperty(cf(which), rocksdb::DB::Properties::kEstimateNumKeys, &n)) {
    return 0;
  }
  return n;
}

}  // namespace ember::store::local
