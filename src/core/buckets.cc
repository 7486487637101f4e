// Bucket operations of the namespace core.
#include <chrono>

#include "common/time_util.h"
#include "core/namespace.h"

namespace ember::core {


Namespace::Namespace(store::ObjectStorePtr store, BlockingPool& pool, NamespaceOptions options)
    : store_(std::move(store)), pool_(pool), options_(options) {}

asio::awaitable<Status> Namespace::createBucket(std::string name, std::string owner,
                                                std::string region, StringPairs userMeta) {
  if (!validBucketName(name)) {
    co_return makeError(Code::kInvalidBucketName, "The specified bucket is not valid.");
  }
  store::BucketRecord rec;
  rec.name = name;
  rec.createdMs = nowMillis();
  rec.mtimeMs = rec.createdMs;
  rec.owner = owner;
  rec.region = region;
  rec.userMeta = std::move(userMeta);
  rec.etag = newBucketEtag();
  {
    std::unique_lock lock(bucketsMu_);
    ++bucketGen_;  // a racing miss must not cache a stale "absent -> present" answer either way
  }
  co_return co_await offload(pool_, [this, rec]() -> Status {
    Status s = store_->createBucket(rec);
    if (s.code() == Code::kAlreadyExists) {
      auto existing = store_->getBucket(rec.name);
      if (existing && existing->owner == rec.owner) {
        return makeError(Code::kAlreadyOwned, "Your previous request to create the named bucket "
                                              "succeeded and you already own it.");
      }
    }
    return s;
  });
}

asio::awaitable<Result<BucketRecord>> Namespace::getBucket(std::string name) {
  uint64_t gen;
  {
    std::shared_lock lock(bucketsMu_);
    if (auto it = buckets_.find(name); it != buckets_.end()) {
      co_return it->second;
    }
    gen = bucketGen_;
  }
  auto rec = co_await offload(pool_, [this, name] { return store_->getBucket(name); });
  if (rec) {
    std::unique_lock lock(bucketsMu_);
    if (gen == bucketGen_) {
      buckets_.emplace(name, *rec);
    }
  }
  co_return rec;
}

asio::awaitable<Status> Namespace::deleteBucket(std::string name) {
  Status s = co_await offload(pool_, [this, name] { return store_->deleteBucket(name); });
  if (s) {
    std::unique_lock lock(bucketsMu_);
    ++bucketGen_;
    buckets_.erase(name);
  }
  co_return s;
}

asio::awaitable<Result<std::vector<BucketRecord>>> Namespace::listBuckets() {
  co_return co_await offload(pool_, [this] { return store_->listBuckets(); });
}

asio::awaitable<Status> Namespace::requireBucket(const std::string& bucket) {
  auto b = co_await getBucket(bucket);
  co_return b ? Status::ok() : b.error();
}

}  // namespace ember::core
