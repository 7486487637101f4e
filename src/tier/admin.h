#pragma once
// What the admin HTTP API (/tier/...) and emberctl ask the tier manager. The HTTP routes and the
// JSON shapes are in src/app/emberd/tier_json.cc and docs/tiering.md ("Admin API").

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/status.h"

namespace ember::tier {

namespace asio = boost::asio;

// The flush barrier on a prefix: has everything acknowledged under bucket/prefix before the
// barrier was taken reached the cold store?
struct FlushReport {
  uint64_t barrier = 0;          // the write sequence number the barrier stands at
  uint64_t pendingObjects = 0;   // keys under the prefix still to write back for this barrier
  uint64_t pendingBytes = 0;
  int64_t oldestPendingMs = 0;   // age of the oldest pending write (0 when none)
  bool done = false;             // pendingObjects == 0
  std::string lastError;         // the last upload failure under the prefix, if any
};

struct ObjectTierStatus {
  std::string bucket;
  std::string key;
  std::string state;      // "cold" | "clean" | "dirty" | "uploading" | "absent" | "unmapped"
  bool pinned = false;
  uint64_t size = 0;
  std::string warmEtag;   // "" when not warm
  std::string coldEtag;   // "" when unknown or not in cold
  int64_t dirtySinceMs = 0;  // dirty: when it became dirty
  std::string lastError;  // dirty: the last upload failure
};

struct MappingReport {
  std::string bucket;
  std::string prefix;
  std::string location;   // az://... or s3://...
  std::string mode;       // write-back | write-through | read-only
  std::string breaker;    // closed | open | half-open
  uint64_t dirtyObjects = 0;
  uint64_t dirtyBytes = 0;
  int64_t oldestDirtyMs = 0;  // age of the oldest dirty byte (0 when clean)
  uint64_t uploadedObjects = 0;
  uint64_t uploadedBytes = 0;
  uint64_t deletedObjects = 0;
  uint64_t failedUploads = 0;
  uint64_t coldReads = 0;       // objects opened from cold
  uint64_t coldBytesRead = 0;
  std::string lastError;
};

struct PinReport {
  std::string bucket;
  std::string prefix;
  int64_t createdMs = 0;
  int64_t expiresMs = 0;   // 0 = until unpinned
  uint64_t warmBytes = 0;  // warm bytes under the prefix now
};

class TierAdmin {
 public:
  virtual ~TierAdmin() = default;
  // Takes a new barrier (barrier absent) or reports on an earlier one. Errors: kNoSuchBucket,
  // kInvalidArgument (the bucket/prefix is not under any mapping).
  virtual asio::awaitable<Result<FlushReport>> flush(std::string bucket, std::string prefix,
                                                     std::optional<uint64_t> barrier) = 0;
  virtual asio::awaitable<Result<ObjectTierStatus>> objectStatus(std::string bucket,
                                                                 std::string key) = 0;
  virtual std::vector<MappingReport> mappings() = 0;

  // Pins bucket/prefix (eviction never takes what is under it) until unpinned or for ttlMs.
  // Errors: kInvalidArgument (not under a mapping), kInsufficientStorage (the pinned data would
  // be more than the warm tier may hold: its high watermark).
  virtual asio::awaitable<Result<PinReport>> pin(std::string bucket, std::string prefix,
                                                 std::optional<int64_t> ttlMs) = 0;
  // Errors: kNotFound (no pin on exactly that bucket and prefix).
  virtual asio::awaitable<Status> unpin(std::string bucket, std::string prefix) = 0;
  virtual asio::awaitable<std::vector<PinReport>> pins() = 0;
};

}  // namespace ember::tier
