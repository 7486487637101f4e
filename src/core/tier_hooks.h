#pragma once
// The seam between the namespace core and the tier manager (src/tier): how reads, heads and
// listings of buckets mapped to a cold store reach it. The core knows nothing about cold stores;
// it asks these hooks only for buckets the hooks say are mapped, so an unmapped bucket pays one
// lookup per request. Writes do not come through here: the tier manager wraps the ObjectStore
// (tier/tier_store.h) and sees every commit, whichever path made it.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/status.h"
#include "core/types.h"
#include "store/object_store.h"

namespace ember::core {

namespace asio = boost::asio;

// kTierStateAttr (core/types.h) is the attribute these hooks set on the records they return.

// Reads an object that is not (wholly) warm: bytes come from the cold store as they are needed.
// The ObjectReader half (record(), blocking readAt()) serves callers on the blocking pool
// (copies); the coroutine half serves streaming GETs without tying up a pool thread.
class AsyncObjectReader : public store::ObjectReader {
 public:
  // The byte window the caller is going to read, so the reader can fetch ahead inside it and no
  // further (a range read fetches the chunks of its range, not the whole object).
  virtual void setWindow(uint64_t offset, uint64_t length) = 0;
  // Reads up to buf.size() bytes at `offset`; 0 only at the end. Errors: kUnavailable /
  // kTimeout (cold store unreachable), kPreconditionFailed (the cold object changed mid-read).
  virtual asio::awaitable<Result<size_t>> readAsync(uint64_t offset, std::span<char> buf) = 0;
};

class TierHooks {
 public:
  virtual ~TierHooks() = default;

  // Whether any mapping covers part of `bucket` (cheap; called on every request).
  virtual bool bucketMapped(std::string_view bucket) const = 0;
  // Whether (bucket, key) lies inside a mapping.
  virtual bool keyMapped(std::string_view bucket, std::string_view key) const = 0;

  // A warm record was found for a mapped key. Returns the record to serve (with kTierStateAttr
  // set), or kNoSuchKey when the warm copy was stale (the cold object changed behind Ember's back,
  // per the mapping's freshness policy) and was dropped: the caller then reads as on a miss.
  virtual asio::awaitable<Result<ObjectRecord>> onWarmHit(ObjectRecord record) = 0;

  // No warm record for a mapped key. Returns the cold object's record (size, ETag, mtime,
  // content type; kTierStateAttr "cold"), kNoSuchKey when the cold store lacks it too (or a
  // delete of it is waiting to be written back), kUnavailable / kTimeout when the cold store
  // cannot answer (fail fast: the breaker is open or the call failed after its retries).
  virtual asio::awaitable<Result<ObjectRecord>> headCold(std::string bucket, std::string key) = 0;
  // Like headCold, and opens the object for reading from cold (single-flight: concurrent readers
  // of one object share the chunks being fetched, and a fully read object becomes warm).
  virtual asio::awaitable<Result<std::unique_ptr<AsyncObjectReader>>> openCold(std::string bucket,
                                                                                std::string key) = 0;

  // Merges the cold listing into `local` (the warm listing of the same request): one namespace,
  // sorted, each key once (the warm record wins), keys with a pending delete hidden, and the page
  // cut at in.maxKeys. Errors: kUnavailable / kTimeout when the cold listing cannot be read.
  virtual asio::awaitable<Result<ListOutput>> mergeList(const ListInput& in, ListOutput local) = 0;
};

}  // namespace ember::core
