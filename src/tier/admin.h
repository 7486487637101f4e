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
};

}  // namespace ember::tier
