// LocalStore::appendObject and updateBucket.
//
// Append protocol (docs/durability.md, "Appends"): appends to one key are serialized by an append
// lock. The new bytes are written past the end of the object's last data file (or into a new one)
// and fdatasync()ed; only then is the record that covers them committed, with the same commit path
// as putObject and a check that the key still holds the version the append extended. A crash
// before the commit leaves bytes past every recorded extent end: invisible, and overwritten by
// the next append. The replaced version's retirement keeps the shared file, since the new version
// names it (retiredFor keeps the files of the new record).

#include <mutex>

#include "store/local/data_files.h"
#include "store/local/index.h"
#include "store/local/local_internal.h"
#include "store/local/local_store.h"
#include "store/local/record_codec.h"
#include "store/record_util.h"

namespace ember::store {

using local::Cf;
using local::toSlice;

namespace {
constexpr int kAppendAttempts = 8;
}  // namespace

std::mutex& LocalStore::appendLock(std::string_view bucket, std::string_view key) {
  size_t h = std::hash<std::string_view>{}(key) * 0x9e3779b97f4a7c15ull ^
             std::hash<std::string_view>{}(bucket);
  return appendLocks_[h % kKeyStripes];
}

Result<ObjectRecord> LocalStore::appendObject(std::string_view bucket, std::string_view key,
                                              std::span<const char> data,
                                              const AppendCheck& check) {
  maybeReclaim();
  std::unique_lock appendGuard(appendLock(bucket, key));
  for (int attempt = 0; attempt < kAppendAttempts; ++attempt) {
    std::optional<ObjectRecord> current;
    {
      std::shared_lock bucketGuard(bucketLock(bucket));
      EMBER_TRY(requireBucket(bucket));
      auto loaded = loadObject(bucket, key);
      if (!loaded) {
        return unexpected(loaded.error());
      }
      current = std::move(*loaded);
    }
    if (!current) {
      return unexpected(Code::kNoSuchKey, "no such key: " + std::string(key));
    }
    ObjectRecord next = *current;
    const std::string currentRaw = *local::rawFromHexId(current->versionId);
    EMBER_TRY(loadInlineData(next, currentRaw));  // carried inline extents need their bytes
    std::optional<Extent> fresh;
    if (!data.empty()) {
      if (!next.extents.empty() && next.extents.back().kind == Extent::Kind::kFile) {
        Extent& tail = next.extents.back();
        EMBER_TRY(files_->space().reserve(data.size()));
        EMBER_TRY(files_->appendAt(tail.id, tail.size, data));
        tail.size += data.size();
      } else {
        std::unique_ptr<DataWriter> w = local::makeWriter(shared_from_this(), true);
        EMBER_TRY(w->append(data));
        auto x = w->finish();
        if (!x) {
          return unexpected(x.error());
        }
        fresh = *x;
        next.extents.push_back(*x);
      }
      next.size += data.size();
    }
    next.versionId = newHexId();
    Status s = check(*current, next);
    bool raced = false;
    CommitPlan plan;
    if (s) {
      std::shared_lock bucketGuard(bucketLock(bucket));
      s = requireBucket(bucket);
      if (s) {
        s = commitObject(next, [&](const ObjectRecord* now) -> Status {
          if (now == nullptr || now->versionId != current->versionId) {
            raced = true;
            return makeError(Code::kBusy, "the object changed during the append");
          }
          return Status::ok();
        }, plan);
      }
    }
    if (s) {
      stripInlineData(next);
      return next;
    }
    if (fresh && !plan.attempted) {
      discardFresh({*fresh});
    }
    if (!raced) {
      return unexpected(s);
    }
  }
  return unexpected(Code::kBusy, "the object kept changing; append not applied");
}

Status LocalStore::updateBucket(std::string_view name, const BucketUpdate& mutate) {
  maybeReclaim();
  std::unique_lock lock(bucketLock(name));
  auto value = index_->get(Cf::kBuckets, name);
  if (!value) {
    return value.error();
  }
  if (!*value) {
    return makeError(Code::kNoSuchBucket, "no such bucket: " + std::string(name));
  }
  auto rec = local::decodeBucket(name, **value);
  if (!rec) {
    return rec.error();
  }
  EMBER_TRY(mutate(*rec));
  if (rec->name != name) {
    return makeError(Code::kInvalidArgument, "updateBucket may not rename a bucket");
  }
  rocksdb::WriteBatch batch;
  batch.Put(index_->cf(Cf::kBuckets), toSlice(rec->name), toSlice(local::encodeBucket(*rec)))
      .PermitUncheckedError();
  return index_->commit(batch);
}

}  // namespace ember::store
