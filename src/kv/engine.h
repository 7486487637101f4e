#pragma once
// The KV engine behind the Redis-protocol endpoint (src/resp): keys of at most Options::maxKeyBytes map to
// values of at most Options::maxValueBytes, with an optional absolute expiry. Protocol neutral: it knows
// nothing of RESP; src/resp turns Redis commands into the calls below.
//
// Shape (docs/architecture.md, "KV engine"):
// - The key space is split into Options::shards shards by the top bits of a 64-bit key hash (XXH3). A shard
//   owns a mutex, a chained hash index (key -> where the newest value lives, its length and expiry), a slice of
//   the RAM value cache, and its own log: append-only segment files <dir>/shard-NNN/NNNNNNNN.seg.
// - Every write appends a checksummed record (put or tombstone, with key, expiry and the whole value) to the
//   shard's active segment; the index points at it. Values larger than RAM live on disk; the cache keeps hot
//   ones (CLOCK, hard byte budget split evenly across shards). Records not yet written to the file are read
//   from the shard's tail buffer.
// - Durability (docs/durability.md, "KV"): kNone never fsyncs (a crash may lose any suffix of recent writes; a
//   clean shutdown loses nothing); kBatch writes and fdatasyncs every shard's tail every batchIntervalMs (a
//   crash loses at most about that window of acknowledged writes); kSync acknowledges a write only after its
//   record is fdatasync'ed (group commit: one fdatasync covers every record that arrived while the previous one
//   ran). whenDurable() is how the adapter waits without blocking a network thread.
// - Recovery replays each shard's segments in order, stopping each segment at the first torn or corrupt record
//   (what follows it in that segment is dropped and the file truncated there). Later records win; a tombstone
//   or an expired record removes the key.
// - Compaction rewrites a sealed segment whose dead bytes exceed compactionGarbageRatio: live records are
//   appended to the active segment, tombstones are carried forward unless no older segment remains, and the
//   old file is unlinked once the copies are durable. Expiry is exact for readers (checked on every access)
//   and a background sweep reclaims expired keys so they do not hold memory.
//
// Thread safety: every public method may be called from any thread. Operations on one key are linearizable;
// update() over several keys is atomic with respect to every other operation (the shards involved are locked
// in index order).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ember::kv {

enum class Durability { kNone, kBatch, kSync };

struct Options {
  std::string dir;                         // created if missing
  unsigned shards = 0;                     // a power of two; 0: 4 per hardware thread, at least 8
  Durability durability = Durability::kBatch;
  uint32_t batchIntervalMs = 10;           // kBatch: group-commit period (also kNone's write-out period)
  uint64_t cacheBytes = 256ULL << 20;      // RAM for cached values, all shards together: a hard limit
  uint64_t maxIndexBytes = 0;              // 0: unlimited; else writes of new keys beyond it fail kQuotaExceeded
  uint64_t segmentBytes = 64ULL << 20;     // the active segment is sealed at this size
  uint32_t maxKeyBytes = 1024;
  uint32_t maxValueBytes = 64 * 1024;
  double compactionGarbageRatio = 0.5;     // dead share of a sealed segment that triggers its rewrite
  uint32_t expireSweepIntervalMs = 100;
  uint64_t tailBufferBytes = 1ULL << 20;   // per shard: written out early when larger (bounds memory)
};

// A key's expiry: absolute Unix time in milliseconds; 0 = none.
inline constexpr int64_t kNoExpiry = 0;

// The highest log position a write produced in each shard it touched; whenDurable() waits for them.
class WriteSet {
 public:
  void add(uint32_t shard, uint64_t seq);
  bool empty() const { return marks_.empty(); }
  void clear() { marks_.clear(); }
  struct Mark {
    uint32_t shard;
    uint64_t seq;
  };
  std::span<const Mark> marks() const { return marks_; }

 private:
  std::vector<Mark> marks_;  // at most one per shard; small
};

// What update()'s function sees and decides for each of its keys. Valid only inside that function.
class Txn {
 public:
  virtual size_t size() const = 0;
  virtual std::string_view key(size_t i) const = 0;
  // Whether key i exists (absent or expired: false). Cheap: no value load.
  virtual bool exists(size_t i) = 0;
  // The current value of key i; nullptr when absent or expired. Loaded from disk on first call; the view
  // stays valid until the function returns (or until put/erase of the same key).
  virtual const std::string* value(size_t i) = 0;
  virtual int64_t expireAt(size_t i) = 0;  // kNoExpiry when none or absent
  // Writes, applied when the function returns, in call order. put() with an expiry in the past deletes.
  // A value over maxValueBytes makes update() fail kEntityTooLarge with nothing applied.
  virtual void put(size_t i, std::string_view value, int64_t expireAtMs) = 0;
  virtual void erase(size_t i) = 0;

 protected:
  ~Txn() = default;
};

struct Stats {
  uint64_t keys = 0;
  uint64_t keysWithExpiry = 0;
  uint64_t indexBytes = 0;        // RAM held by the index (keys + entries + buckets)
  uint64_t cacheBytes = 0;        // RAM held by cached values
  uint64_t cacheHits = 0;
  uint64_t cacheMisses = 0;       // reads served from a segment file
  uint64_t diskBytes = 0;         // all segment files
  uint64_t liveBytes = 0;         // bytes of records the index still points at
  uint64_t segments = 0;
  uint64_t compactions = 0;
  uint64_t expiredKeys = 0;       // removed by access or by the sweep
  uint64_t fsyncs = 0;
  uint64_t lastFsyncUnixMs = 0;
  uint64_t recoveredKeys = 0;     // at open
  uint64_t truncatedBytes = 0;    // torn tails dropped at open
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> open(const Options& options);
  // Stops the background threads, writes out and fdatasyncs every tail: a clean shutdown loses nothing.
  virtual ~Engine() = default;

  virtual const Options& options() const = 0;

  // Calls fn(value, expireAtMs) with the shard locked and returns OK, or returns kNotFound (absent/expired)
  // without calling it. fn must be quick and must not call the engine.
  virtual Status read(std::string_view key,
                      const std::function<void(std::string_view value, int64_t expireAtMs)>& fn) = 0;
  // Expiry of a key without loading its value: kNoExpiry, or kNotFound.
  virtual Result<int64_t> expiry(std::string_view key) = 0;

  // Atomic read-modify-write of up to 1024 keys (duplicates allowed; they refer to the same key). fn runs once
  // with the keys' shards locked; it must not block or call the engine. Writes it makes are logged and their
  // positions added to `ws`. Errors: kInvalidKey (a key over maxKeyBytes), kEntityTooLarge (a value over
  // maxValueBytes), kQuotaExceeded (maxIndexBytes), kIOError / kInsufficientStorage (the log could not grow:
  // nothing of this update is applied).
  virtual Status update(std::span<const std::string_view> keys, const std::function<void(Txn&)>& fn,
                        WriteSet* ws) = 0;

  // Calls done() once every write in `ws` is as durable as the mode promises: at once (on the calling
  // thread) in kNone and kBatch, after the fdatasync in kSync (on an engine thread; on the calling thread
  // when `ws` is empty or an earlier fdatasync already covers it). done must not block.
  virtual void whenDurable(const WriteSet& ws, std::function<void()> done) = 0;
  // Writes out and fdatasyncs every shard now (SAVE, shutdown).
  virtual Status sync() = 0;

  // Keys, counting ones that expired but were not reclaimed yet (as Redis's DBSIZE does).
  virtual uint64_t size() const = 0;
  // Removes every key, durably as the mode promises (FLUSHALL / FLUSHDB).
  virtual Status clear(WriteSet* ws) = 0;

  // SCAN: start with cursor 0; each call visits at least `count` index entries where it can and returns the
  // next cursor, 0 at the end. A key present for the whole iteration is returned at least once, whatever
  // writes, deletes or index resizes happen meanwhile; expired keys are skipped. fn gets each key with its
  // value length and expiry.
  virtual uint64_t scan(uint64_t cursor, size_t count,
                        const std::function<void(std::string_view key, uint32_t valueLen,
                                                 int64_t expireAtMs)>& fn) = 0;
  // A uniformly-ish random live key; kNotFound when empty.
  virtual Result<std::string> randomKey() = 0;

  virtual Stats stats() const = 0;
};

// Redis Cluster's key slot: CRC16-XMODEM of the key (or of its first non-empty {hash tag}) mod 16384. The
// seam for CLUSTER / MOVED later; used today for nothing but CLUSTER KEYSLOT.
uint16_t keySlot(std::string_view key);

}  // namespace ember::kv
