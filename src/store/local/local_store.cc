// LocalStore: opening, crash recovery, buckets, locking and capacity. Objects are in
// local_objects.cc, multipart uploads in local_multipart.cc, the data writer in local_writer.cc.

#include "store/local/local_store.h"

#include <filesystem>
#include <functional>
#include <set>

#include <spdlog/spdlog.h>

#include "store/local/data_files.h"
#include "store/local/index.h"
#include "store/local/reclaimer.h"
#include "store/local/record_codec.h"

namespace ember::store {

using local::Cf;
using local::toSlice;
using local::toView;

Result<std::shared_ptr<LocalStore>> LocalStore::open(const LocalStoreOptions& options) {
  if (options.dataDir.empty()) {
    return unexpected(Code::kInvalidArgument, "local store: dataDir is empty");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dataDir, ec);
  if (ec) {
    return unexpected(local::errnoStatus(ec.value(), "create " + options.dataDir));
  }
  auto store = std::make_shared<LocalStore>(Passkey{}, options);
  store->files_ = std::make_unique<local::DataFiles>(options.dataDir, options.reserveBytes);
  EMBER_TRY(store->files_->prepare());
  local::IndexOptions io;
  io.blockCacheBytes = options.blockCacheBytes;
  io.syncWrites = options.syncWrites;
  auto index = local::Index::open(options.dataDir + "/index", io);
  if (!index) {
    return unexpected(index.error());
  }
  store->index_ = std::move(*index);
  store->reclaimer_ = std::make_unique<local::Reclaimer>(*store->index_, *store->files_);
  EMBER_TRY(store->recover());
  return store;
}

LocalStore::LocalStore(Passkey, LocalStoreOptions options) : options_(std::move(options)) {}

LocalStore::~LocalStore() {
  if (reclaimer_) {
    reclaimer_->runPending();
    reclaimer_->flushDeletes().ignoreError();  // recovery redoes whatever this loses
  }
  reclaimer_.reset();
  index_.reset();
}

// Recovery: everything named in the pending CF is, by construction, referenced by no committed
// record: 'F' marks name files that were being written (or whose parts were replaced, aborted
// or left out of a completed upload); 'R' marks name retired object versions. Unlinking them is
// idempotent, so a crash during recovery is harmless. Marks are removed only after the unlinks
// are durable (directory fsync).
Status LocalStore::recover() {
  rocksdb::WriteBatch batch;
  std::set<std::string> dirs;
  size_t files = 0;
  size_t versions = 0;
  auto removeFile = [&](std::string_view raw) -> Status {
    std::string hex = local::hexFromRawId(raw);
    EMBER_TRY(files_->remove(hex));
    dirs.insert(files_->dirFor(hex));
    ++files;
    return Status::ok();
  };
  {
    std::unique_ptr<rocksdb::Iterator> it(
        index_->db().NewIterator(rocksdb::ReadOptions(), index_->cf(Cf::kPending)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = toView(it->key());
      if (key.size() != 1 + local::kIdBytes) {
        return makeError(Code::kCorruption, "local store: malformed pending mark");
      }
      std::string_view raw = key.substr(1);
      if (key[0] == local::kPendingFileTag) {
        EMBER_TRY(removeFile(raw));
      } else if (key[0] == local::kPendingVersionTag) {
        auto retired = local::decodeRetired(raw, toView(it->value()));
        if (!retired) {
          return retired.error();
        }
        for (const std::string& id : retired->fileIdsRaw) {
          EMBER_TRY(removeFile(id));
        }
        for (uint32_t idx : retired->dataIndices) {
          batch.Delete(index_->cf(Cf::kData), toSlice(local::dataKey(raw, idx)))
              .PermitUncheckedError();
        }
        ++versions;
      } else {
        return makeError(Code::kCorruption, "local store: unknown pending mark");
      }
      batch.Delete(index_->cf(Cf::kPending), it->key()).PermitUncheckedError();
    }
    EMBER_TRY(local::fromRocks(it->status()));
  }
  for (const std::string& dir : dirs) {
    EMBER_TRY(local::syncDirectory(dir));
  }
  if (batch.Count() > 0) {
    EMBER_TRY(index_->commit(batch));
    spdlog::info("local store {}: recovery reclaimed {} files and {} retired versions",
                 options_.dataDir, files, versions);
  }
  return Status::ok();
}

void LocalStore::reclaimNow() {
  reclaimer_->runPending();
  reclaimer_->flushDeletes().ignoreError();
}

void LocalStore::maybeReclaim() {
  if (reclaimer_->hasPending()) {
    reclaimer_->runPending();
  }
}

Result<size_t> LocalStore::pendingMarkCountForTest() {
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db().NewIterator(rocksdb::ReadOptions(), index_->cf(Cf::kPending)));
  size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++n;
  }
  EMBER_TRY(local::fromRocks(it->status()));
  return n;
}

// --- locks ---

std::mutex& LocalStore::keyLock(std::string_view bucket, std::string_view key) {
  size_t h = std::hash<std::string_view>{}(bucket) * 0x9e3779b97f4a7c15ull ^
             std::hash<std::string_view>{}(key);
  return keyLocks_[h % kKeyStripes];
}

std::shared_mutex& LocalStore::bucketLock(std::string_view bucket) {
  return bucketLocks_[std::hash<std::string_view>{}(bucket) % kBucketStripes];
}

std::mutex& LocalStore::uploadLock(std::string_view uploadId) {
  return uploadLocks_[std::hash<std::string_view>{}(uploadId) % kUploadStripes];
}

// --- buckets ---

Status LocalStore::requireBucket(std::string_view bucket) {
  auto value = index_->get(Cf::kBuckets, bucket);
  if (!value) {
    return value.error();
  }
  if (!*value) {
    return makeError(Code::kNoSuchBucket, "no such bucket: " + std::string(bucket));
  }
  return Status::ok();
}

Status LocalStore::createBucket(const BucketRecord& bucket) {
  // NUL separates bucket and key in index keys, so it can never be part of a bucket name.
  if (bucket.name.empty() || bucket.name.find('\0') != std::string::npos) {
    return makeError(Code::kInvalidBucketName, "invalid bucket name");
  }
  maybeReclaim();
  std::unique_lock lock(bucketLock(bucket.name));
  auto existing = index_->get(Cf::kBuckets, bucket.name);
  if (!existing) {
    return existing.error();
  }
  if (*existing) {
    return makeError(Code::kAlreadyExists, "bucket exists: " + bucket.name);
  }
  rocksdb::WriteBatch batch;
  batch.Put(index_->cf(Cf::kBuckets), toSlice(bucket.name), toSlice(local::encodeBucket(bucket)))
      .PermitUncheckedError();
  return index_->commit(batch);
}

Result<BucketRecord> LocalStore::getBucket(std::string_view name) {
  maybeReclaim();
  auto value = index_->get(Cf::kBuckets, name);
  if (!value) {
    return unexpected(value.error());
  }
  if (!*value) {
    return unexpected(Code::kNoSuchBucket, "no such bucket: " + std::string(name));
  }
  return local::decodeBucket(name, **value);
}

Status LocalStore::deleteBucket(std::string_view name) {
  maybeReclaim();
  // Exclusive: no putObject/createUpload into this bucket can be between its existence check
  // and its commit while we look for remaining objects and uploads.
  std::unique_lock lock(bucketLock(name));
  EMBER_TRY(requireBucket(name));
  std::string lower = local::bucketLowerBound(name);
  std::string upper = local::bucketUpperBound(name);
  for (Cf cf : {Cf::kObjects, Cf::kUploads}) {
    auto any = index_->anyInRange(cf, lower, upper);
    if (!any) {
      return any.error();
    }
    if (*any) {
      return makeError(Code::kBucketNotEmpty, "bucket not empty: " + std::string(name));
    }
  }
  rocksdb::WriteBatch batch;
  batch.Delete(index_->cf(Cf::kBuckets), toSlice(name)).PermitUncheckedError();
  return index_->commit(batch);
}

Result<std::vector<BucketRecord>> LocalStore::listBuckets() {
  maybeReclaim();
  std::vector<BucketRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(
      index_->db().NewIterator(rocksdb::ReadOptions(), index_->cf(Cf::kBuckets)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto b = local::decodeBucket(toView(it->key()), toView(it->value()));
    if (!b) {
      return unexpected(b.error());
    }
    out.push_back(std::move(*b));
  }
  EMBER_TRY(local::fromRocks(it->status()));
  return out;
}

Result<Capacity> LocalStore::capacity() {
  maybeReclaim();
  auto c = files_->capacity();
  if (!c) {
    return c;
  }
  c->objectCount = index_->estimateKeys(Cf::kObjects);
  return c;
}

}  // namespace ember::store
