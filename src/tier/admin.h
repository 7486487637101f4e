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

// A staging job (docs/tiering.md, "Staging"): pulls every cold object under bucket/prefix into the
// warm tier, `parallel` at a time, optionally pinning the prefix first.
struct StageRequest {
  std::string bucket;
  std::string prefix;           // must be under a mapping of the bucket
  bool pin = false;
  std::optional<int64_t> ttlSeconds;  // pin: how long the pin lasts (absent: until unpinned)
  unsigned parallel = 16;       // objects in flight, 1..256
  uint64_t maxRate = 0;         // bytes/s fetched from cold, 0 = unlimited
};

struct StageFailure {
  std::string key;     // the local key
  std::string reason;
  unsigned attempts = 0;
};

struct StageReport {
  std::string id;
  StageRequest request;
  int64_t pinExpiresMs = 0;     // pin with a ttl: when the pin ends (unix ms), else 0
  std::string state;            // queued | listing | running | done | failed | cancelled
  std::string error;            // failed: why the job as a whole failed
  bool listingComplete = false;
  uint64_t objectsListed = 0;   // the total once listingComplete
  uint64_t objectsDone = 0;     // pulled into the warm tier
  uint64_t objectsSkipped = 0;  // already warm with the cold ETag, or written locally
  uint64_t objectsFailed = 0;
  uint64_t bytesListed = 0;
  uint64_t bytesDone = 0;       // pulled from cold
  uint64_t bytesSkipped = 0;
  uint64_t rateBytesPerSec = 0; // over the last few seconds
  int64_t etaSeconds = -1;      // -1: unknown (listing not complete, or no rate yet)
  int64_t createdMs = 0;
  int64_t startedMs = 0;
  int64_t finishedMs = 0;       // 0 while not finished
  uint64_t resumes = 0;         // times the job was resumed after a restart
  std::vector<StageFailure> failures;  // capped (the first kMaxStageFailures)
};

inline constexpr size_t kMaxStageFailures = 1000;

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
  // --- staging jobs ---
  // Creates and starts a job. Errors: kInvalidArgument (not under a mapping, parallel out of
  // range), kUnavailable (the tier is not running).
  virtual asio::awaitable<Result<StageReport>> startStage(StageRequest request) = 0;
  // Errors: kNotFound (no such job).
  virtual asio::awaitable<Result<StageReport>> stageStatus(std::string id) = 0;
  virtual asio::awaitable<std::vector<StageReport>> listStages() = 0;
  // Cancels a queued or running job (a finished one is returned as it is). Errors: kNotFound.
  virtual asio::awaitable<Result<StageReport>> cancelStage(std::string id) = 0;
};

}  // namespace ember::tier
