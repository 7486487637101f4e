#pragma once
// Eviction: keeps the warm tier under its capacity watermarks by dropping clean, unpinned warm
// copies of mapped objects (they are in cold; the next read fetches them again). Dirty objects
// (not yet written back) and pinned ones are never taken.
//
// Two kinds of watermark, either or both (docs/tiering.md, "Eviction"):
//   - percent of the data volume (total - free of the filesystem under the store);
//   - bytes of warm data under mappings.
// A pass starts when either high watermark is reached and evicts until both are under their low
// watermarks. Order: least recently read first, where each earlier read (up to 8) counts as 5
// minutes of recency, so objects read again and again outlive ones read once (a simple
// recency/frequency mix). Objects never read since the start are ranked by their mtime.
//
// Blocking and thread-safe: runOnce() scans the mapped prefixes of the store (O(mapped objects))
// and runs on the tier's blocking pool.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/object_store.h"
#include "tier/mapping.h"
#include "tier/pins.h"
#include "tier/writeback.h"

namespace ember::tier {

struct EvictOptions {
  uint32_t highPercent = 90;  // of the data volume; 0 = not used
  uint32_t lowPercent = 80;
  uint64_t highBytes = 0;     // warm bytes under mappings; 0 = not used
  uint64_t lowBytes = 0;
  size_t maxCandidates = 100'000;  // per pass (the oldest ones)
};

struct EvictPass {
  uint64_t warmBytes = 0;       // warm bytes under mappings before the pass
  uint64_t warmObjects = 0;
  uint64_t pinnedBytes = 0;
  uint64_t dirtyBytes = 0;
  int volumePercent = 0;        // data volume fill before the pass
  bool triggered = false;
  uint64_t evictedObjects = 0;
  uint64_t evictedBytes = 0;
};

class Evictor {
 public:
  Evictor(store::ObjectStore& inner, const MappingTable& table, WriteBack& wb, const PinSet& pins,
          EvictOptions options, std::function<Result<store::Capacity>()> capacity);

  // A read of a warm (or just warmed) object, for the ordering. Thread-safe; the table is bounded.
  void touch(const std::string& tk);
  // One pass; see the header comment.
  Result<EvictPass> runOnce();
  // Warm bytes under bucket/prefix (a scan). Blocking.
  Result<uint64_t> warmBytesUnder(const std::string& bucket, const std::string& prefix);
  // The most the warm tier may hold: the smaller of the enabled high watermarks (bytes).
  Result<uint64_t> capacityLimit();
  const EvictOptions& options() const { return options_; }
  uint64_t evictedObjects() const;
  uint64_t evictedBytes() const;
  EvictPass lastPass() const;

 private:
  struct Access {
    int64_t lastMs = 0;
    uint32_t hits = 0;
  };
  int64_t score(const std::string& tk, int64_t mtimeMs) const;  // REQUIRES: mu_ held

  store::ObjectStore& inner_;
  const MappingTable& table_;
  WriteBack& wb_;
  const PinSet& pins_;
  EvictOptions options_;
  std::function<Result<store::Capacity>()> capacity_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Access> access_;
  uint64_t evictedObjects_ = 0;
  uint64_t evictedBytes_ = 0;
  EvictPass last_;
};

}  // namespace ember::tier
