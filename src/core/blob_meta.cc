// Metadata-only writes and leases on objects and buckets, and Delete Container (a bucket with its
// contents). Leases change neither the ETag nor the last-modified time of what they lock.
#include <chrono>

#include "common/time_util.h"
#include "core/lease.h"
#include "core/namespace.h"

namespace ember::core {

namespace {

constexpr int kDeleteAttempts = 5;     // delete-all passes while writers keep adding objects
constexpr size_t kDeleteBatch = 1000;  // keys collected per trip to the store

// Up to kDeleteBatch keys of `bucket` after `after` ("" = from the first).
Result<std::vector<std::string>> keysAfter(store::ObjectStore& store, const std::string& bucket,
                                           const std::string& after) {
  auto it = store.listObjects(bucket);
  EMBER_TRY(it);
  std::vector<std::string> keys;
  if (!after.empty()) {
    (*it)->seek(after);
  }
  for (; (*it)->valid() && keys.size() < kDeleteBatch; (*it)->next()) {
    if ((*it)->key() != after || after.empty()) {
      keys.emplace_back((*it)->key());
    }
  }
  EMBER_TRY((*it)->status());
  return keys;
}

// Aborts every in-progress upload (multipart and block staging) of `bucket`.
Status abortAllUploads(store::ObjectStore& store, const std::string& bucket) {
  auto it = store.listUploads(bucket);
  EMBER_TRY(it);
  std::vector<std::string> ids;
  for (; (*it)->valid(); (*it)->next()) {
    ids.push_back((*it)->record().uploadId);
  }
  EMBER_TRY((*it)->status());
  it->reset();
  for (const std::string& id : ids) {
    Status s = store.abortUpload(id);
    if (!s && s.code() != Code::kNoSuchUpload) {
      return s;
    }
  }
  return Status::ok();
}

}  // namespace

asio::awaitable<Result<ObjectRecord>> Namespace::updateObject(std::string bucket, std::string key,
                                                              store::RecordUpdate mutate) {
  auto work = [this, bucket = std::move(bucket), key = std::move(key),
               mutate = std::move(mutate)]() -> Result<ObjectRecord> {
    return store_->updateObject(bucket, key, mutate);
  };
  co_return co_await offload(pool_, std::move(work));
}

asio::awaitable<Result<LeaseResult>> Namespace::leaseObject(
    std::string bucket, std::string key, LeaseInput in,
    std::function<Status(const ObjectRecord&)> check) {
  auto work = [this, bucket = std::move(bucket), key = std::move(key), in = std::move(in),
               check = std::move(check)]() -> Result<LeaseResult> {
    const int64_t now = nowMillis();
    LeaseResult out;
    auto rec = store_->updateObject(bucket, key, [&](ObjectRecord& r) -> Status {
      if (check) {
        EMBER_TRY(check(r));
      }
      auto applied = applyLease(r.lease, in, now);
      EMBER_TRY(applied);
      out = std::move(*applied);
      return Status::ok();
    });
    EMBER_TRY(rec);
    out.etag = rec->etag;
    out.mtimeMs = rec->mtimeMs;
    return out;
  };
  co_return co_await offload(pool_, std::move(work));
}

asio::awaitable<Status> Namespace::updateBucket(std::string name, store::BucketUpdate mutate) {
  auto work = [this, name, mutate = std::move(mutate)]() -> Status {
    return store_->updateBucket(name, mutate);
  };
  Status s = co_await offload(pool_, std::move(work));
  if (s) {
    // The cached record is stale: drop it; a lookup that read the old record before this point
    // does not re-insert it (bucketGen_ changed).
    std::unique_lock lock(bucketsMu_);
    ++bucketGen_;
    buckets_.erase(name);
  }
  co_return s;
}

asio::awaitable<Result<LeaseResult>> Namespace::leaseBucket(std::string name, LeaseInput in) {
  auto result = std::make_shared<LeaseResult>();
  const int64_t now = nowMillis();
  store::BucketUpdate mutate = [result, in = std::move(in), now](BucketRecord& b) -> Status {
    auto applied = applyLease(b.lease, in, now);
    EMBER_TRY(applied);
    *result = std::move(*applied);
    result->etag = b.etag;
    result->mtimeMs = b.mtimeMs;
    return Status::ok();
  };
  Status s = co_await updateBucket(std::move(name), std::move(mutate));
  EMBER_CO_TRY(s);
  co_return *result;
}

asio::awaitable<Status> Namespace::deleteBucketWithContents(
    std::string name, std::function<Status(const BucketRecord&)> check) {
  if (tier_ && tier_->bucketMapped(name)) {
    co_return makeError(Code::kPermissionDenied,
                        "container '" + name +
                            "' is mapped to a cold store; remove its [[tier.mappings]] first");
  }
  auto work = [this, name, check = std::move(check)]() -> Status {
    auto bucket = store_->getBucket(name);  // the store's record: the cache may lag on leases
    EMBER_TRY(bucket);
    if (check) {
      EMBER_TRY(check(*bucket));
    }
    Status s;
    for (int attempt = 0; attempt < kDeleteAttempts; ++attempt) {
      std::string after;
      for (;;) {
        auto keys = keysAfter(*store_, name, after);
        EMBER_TRY(keys);
        if (keys->empty()) {
          break;
        }
        for (const std::string& key : *keys) {
          EMBER_TRY(store_->deleteObject(name, key, nullptr));
        }
        after = keys->back();
      }
      EMBER_TRY(abortAllUploads(*store_, name));
      s = store_->deleteBucket(name);
      if (s.code() != Code::kBucketNotEmpty) {
        return s;
      }
    }
    return s;
  };
  Status s = co_await offload(pool_, std::move(work));
  if (s || s.code() == Code::kNoSuchBucket) {
    std::unique_lock lock(bucketsMu_);
    ++bucketGen_;
    buckets_.erase(name);
  }
  co_return s;
}

}  // namespace ember::core
