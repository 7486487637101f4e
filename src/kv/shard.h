#pragma once
// One shard of the KV engine: its index, its slice of the RAM value cache and its log (segment files plus
// the tail buffer of records not yet written to them). Engine (engine.cc) routes each key to a shard by the
// top bits of its hash and runs the background threads; everything here is per shard.
//
// Locking: `mu` guards all state except the atomics. Methods marked REQUIRES(mu) expect the caller to hold
// it (update() holds several shards' mutexes, in index order); the others take it themselves. writeOut()
// writes with mu released: the records being written stay readable in inflight_ meanwhile.
//
// Log positions: appendSeq_ counts every byte appended to this shard's log since open. A WriteSet mark is the
// appendSeq_ after a write; durableSeq_ is the highest position known fdatasync'ed.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <xxhash.h>

#include "common/status.h"
#include "kv/engine.h"
#include "kv/index.h"
#include "kv/segment.h"

namespace ember::kv {

// Engine-wide settings and counters every shard reads or bumps.
struct Shared {
  Options opt;
  unsigned shardBits = 0;
  std::atomic<uint64_t> indexBytes{0};  // sum of Index::entryCost over all keys (maxIndexBytes)
  std::atomic<uint64_t> compactions{0};
  std::atomic<uint64_t> expiredKeys{0};
  std::atomic<uint64_t> fsyncs{0};
  std::atomic<uint64_t> lastFsyncUnixMs{0};
  std::atomic<uint64_t> recoveredKeys{0};
  std::atomic<uint64_t> truncatedBytes{0};
};

inline uint64_t hashKey(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

struct Segment {
  std::shared_ptr<SegFile> file;
  uint64_t bytes = 0;    // appended so far, header included
  uint64_t written = 0;  // of which are in the file
  uint64_t live = 0;     // bytes of records the index points at
  uint64_t tomb = 0;     // bytes of tombstones
  bool sealed = false;
};

// Records of one segment not yet written to it: file offset `base` onward.
struct Chunk {
  std::shared_ptr<SegFile> file;
  uint64_t base = 0;
  std::string buf;
};

// Where the log stood before an update, to undo its appends if the update fails.
struct LogMark {
  size_t chunks = 0;
  size_t lastSize = 0;
  uint64_t seq = 0;
};

using ScanFn = std::function<void(std::string_view key, uint32_t valueLen, int64_t expireAtMs)>;

class Shard {
 public:
  Shard(Shared* shared, uint32_t index);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Creates the directory or replays it (recovery). Before any other call; not thread safe.
  Status open();

  std::mutex mu;

  // ---- Index and values. REQUIRES(mu).
  Entry* find(uint64_t hash, std::string_view key) const { return index_.find(hash, key); }
  static bool expired(const Entry* e, int64_t now) { return e->expireAt != 0 && e->expireAt <= now; }
  // Removes a key whose record is superseded or gone (DEL, FLUSH, expiry); `byExpiry` counts it expired.
  void removeEntry(Entry* e, bool byExpiry);
  // The value when it is in RAM (cache, or a record not yet written out); counts a cache hit.
  bool valueInMemory(Entry* e, std::string_view* out);
  std::shared_ptr<SegFile> fileOf(uint32_t segId) const;
  // The value wherever it is (a pread with mu held when it is only on disk; cached afterwards).
  Status loadValue(Entry* e, std::string* out);
  // A value read from disk for e: cached (when it fits) and counted as a miss.
  void noteDiskRead(Entry* e, std::string_view value);
  // The record at (segId, offset) if it is still in RAM (tail or being written), else null.
  const char* memoryRecord(uint32_t segId, uint32_t offset) const;

  // ---- Log appends. REQUIRES(mu).
  LogMark mark() const;
  void rollback(const LogMark& m);
  // Appends one record, rolling to a new segment first when the active one is full. Fails (appending
  // nothing) on a sticky write error or when a new segment cannot be created.
  Status append(RecordType type, std::string_view key, std::string_view value, int64_t expireAt,
                uint32_t* segId, uint32_t* offset);
  // Records the effect of appended records in the index, the cache and the segment accounting. e: the
  // key's entry or null (a new key). value: the new value's bytes to cache, or null (drop any cached one).
  Entry* applyPut(Entry* e, uint64_t hash, std::string_view key, uint32_t segId, uint32_t offset,
                  uint32_t valueLen, int64_t expireAt, const char* value);
  void applyTombstone(Entry* e, uint32_t segId, size_t keyLen);
  // Write coalescing: when e's previous record (prevSeg, prevOff) is still in the unwritten tail, has the
  // same size as its new record, and the new record is the last thing in the tail, the new record replaces
  // the old one in place and the tail shrinks back (a key overwritten faster than the tail is written
  // out costs one record on disk, not one per write). Call right after applyPut.
  void coalesce(Entry* e, uint32_t prevSeg, uint32_t prevOff);
  uint64_t appendSeq() const { return appendSeq_; }
  bool tailOverLimit() const { return tailBytes_ > shared_->opt.tailBufferBytes; }
  Status writeError() const { return writeError_; }

  // ---- Durability. Take mu.
  // Writes every appended record out (and fdatasyncs when `sync`); the caller's marks so far are then
  // written (durable). One writer at a time; others wait for it.
  Status writeOut(bool sync);
  // Back-pressure for a writer whose update left the tail over tailBufferBytes: writes the tail out, unless
  // a write-out (a flusher's or compaction's, whose fdatasync may take long) is already in progress and the
  // tail is still under the hard cap (8 x tailBufferBytes, at most 256 MiB over all shards): that write-out,
  // the next writer or the flusher's next tick takes it. So a writer does not wait for someone else's
  // fdatasync, and the tail's RAM stays bounded.
  Status writeOutForWriter();
  uint64_t durableSeq() const { return durableSeq_.load(std::memory_order_acquire); }
  bool needsWriteOut(bool sync);

  // ---- Maintenance. Take mu unless marked.
  size_t sweepExpired(size_t budget, int64_t now);
  // Rewrites the sealed segment with the most garbage over the ratio; *did tells whether one was found.
  Status compactOnce(bool* did);
  // Visits whole buckets from `*cursor` (a hash inside this shard's range) until `*visited` reaches count.
  // Returns true when the shard's end was reached; otherwise *cursor is where the next call resumes.
  bool scan(uint64_t* cursor, size_t count, size_t* visited, const ScanFn& fn);
  bool randomKey(uint64_t rnd, int64_t now, std::string* out);
  // FLUSHALL for this shard: drops every key and unlinks every segment. REQUIRES(mu).
  Status clearLocked();
  Status syncDir();

  void addStats(Stats* st);
  uint64_t keyCount() const { return keys_.load(std::memory_order_relaxed); }
  uint32_t index() const { return index_id_; }

 private:
  Status replaySegment(uint32_t id, int64_t now);
  uint64_t bucketStart(size_t bucket) const;
  Status roll();
  // Makes room for a record of `size` bytes in the active segment's tail chunk (rolling when full).
  Status prepareAppend(uint64_t size, std::string** buf, uint32_t* segId, uint32_t* offset);
  Status appendRaw(std::string_view record, uint32_t* segId, uint32_t* offset);
  void addLive(uint32_t segId, int64_t delta);
  Entry* insertEntry(uint64_t hash, std::string_view key);
  void cacheStore(Entry* e, std::string_view value);
  void cacheDrop(Entry* e);
  std::string segPath(uint32_t id) const;
  bool olderSegmentExists(uint32_t id) const { return !segs_.empty() && segs_.begin()->first < id; }
  uint64_t garbageOf(uint32_t id, const Segment& s) const;
  Status copyLiveRecords(uint32_t id, const std::shared_ptr<SegFile>& file, uint64_t size);

  Shared* shared_;
  uint32_t index_id_;
  std::string dir_;
  int dirFd_ = -1;

  Index index_;
  std::atomic<uint64_t> keys_{0};
  uint64_t keysWithExpiry_ = 0;
  uint64_t charged_ = 0;  // this shard's part of Shared::indexBytes
  size_t sweepBucket_ = 0;

  // CLOCK cache: ring_ holds the cached entries; the hand sweeps it clearing reference bits.
  std::vector<Entry*> ring_;
  size_t hand_ = 0;
  uint64_t cacheUsed_ = 0;
  uint64_t cacheBudget_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;

  // Log.
  std::map<uint32_t, Segment> segs_;
  uint32_t activeId_ = 0;
  bool haveActive_ = false;
  uint32_t nextSegId_ = 1;
  std::vector<Chunk> tail_;      // appended, not yet handed to a writer
  std::vector<Chunk> inflight_;  // being written by writeOut (immutable until it finishes)
  uint64_t tailBytes_ = 0;
  std::string spare_;            // a recycled chunk buffer
  std::vector<std::shared_ptr<SegFile>> dirty_;  // written but not fdatasync'ed
  bool newFiles_ = false;        // a segment was created or removed since the last directory fsync
  uint64_t appendSeq_ = 0;
  uint64_t writtenSeq_ = 0;
  std::atomic<uint64_t> durableSeq_{0};
  bool flushing_ = false;
  std::condition_variable flushCv_;
  Status writeError_;  // sticky until a write-out succeeds
};

}  // namespace ember::kv
