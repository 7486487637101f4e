#pragma once
// The write-back queue: which keys are dirty, in what order they go to the cold store, and the
// per-key serialization that keeps the queue and the warm store in step.
//
// Protocol (docs/durability.md, "Write-back"): a write to a key under a write-back or
// write-through mapping runs, under the key's stripe lock,
//   1. begin(): the key's queue entry {op, seq} is written and synced (the intent);
//   2. the store commit (the foundation's durability protocol);
//   3. commit() on success, or abort() restoring the previous entry on failure;
// and only then is the write acknowledged. So every acknowledged write has a durable queue entry,
// and an entry whose commit never happened is harmless: the uploader reconciles the key, it does
// not replay a log. To upload, the uploader takes the same stripe, reads the entry's seq and
// opens the warm version (or sees it gone, for a delete) atomically, releases the stripe, and
// sends that version. Afterwards the entry is removed if no newer write came in (else it stays,
// with uploadedSeq recording what is covered). One upload per key at a time, each sending the
// newest version, so an older version never overwrites a newer one in cold.
//
// Blocking and thread-safe: begin/commit/abort/snapshot/finish run on blocking-pool threads.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/object_store.h"
#include "tier/admin.h"
#include "tier/mapping.h"
#include "tier/state_db.h"

namespace ember::tier {

struct WriteBackOptions {
  uint64_t maxDirtyBytes = 0;  // writes beyond this are refused with kBusy (0 = no limit)
  std::chrono::milliseconds retryBase{1'000};  // per-key backoff after a failed upload
  std::chrono::milliseconds retryMax{60'000};
};

// What the uploader sends for one key (see the protocol above).
struct UploadTask {
  std::string tk;                                // tierKey(bucket, key)
  const Mapping* mapping = nullptr;
  Op op = Op::kPut;
  uint64_t seq = 0;                              // the write this task covers
  std::unique_ptr<store::ObjectReader> reader;   // kPut: the warm version to send
  bool nothingToDo = false;                      // the entry is gone or needs no transfer
};

struct MappingCounters {
  uint64_t uploadedObjects = 0;
  uint64_t uploadedBytes = 0;
  uint64_t deletedObjects = 0;
  uint64_t failedUploads = 0;
  std::string lastError;
};

class WriteBack {
 public:
  WriteBack(store::ObjectStore& inner, StateDb& db, const MappingTable& table,
            WriteBackOptions options);

  // Loads the queue from the state db and refreshes entry sizes from the store. Blocking.
  Status recover();
  // Called (from any thread) when keys become ready to upload; set once before use.
  void setNotify(std::function<void()> fn) { notify_ = std::move(fn); }

  // --- the write path (tier_store.cc) ---
  // The stripe lock of a key: held across begin → store commit → commit/abort.
  std::unique_lock<std::mutex> lockKey(const std::string& tk);
  // Refuses a write the mapping or the dirty-data bound does not allow: kPermissionDenied under
  // a read-only mapping, kBusy ("SlowDown") when dirty data is at its limit.
  Status admit(const Mapping& m, uint64_t addBytes) const;
  struct Intent {
    std::string tk;
    uint64_t seq = 0;
    std::optional<DirtyEntry> previous;
  };
  // Step 1: writes and syncs the key's entry. REQUIRES: the key's stripe is held.
  Result<Intent> begin(const Mapping& m, std::string tk, Op op, uint64_t size);
  // Step 3 on success: `size` is the committed object's size (0 for a delete).
  void commit(const Intent& in, uint64_t size);
  // Step 3 on failure: restores the previous entry (or none). REQUIRES: the stripe is held.
  Status abort(const Intent& in);
  // Write-through: waits until the key's write `seq` is in cold, or `timeout`. True when it is.
  bool waitUploaded(const std::string& tk, uint64_t seq, std::chrono::milliseconds timeout);

  // --- the uploader ---
  // Pops the next key ready to upload (not in flight, not backing off) and marks it in flight.
  // nullopt when none is ready; `wakeAt` then says when a backing-off key becomes ready.
  std::optional<std::string> nextReady(std::chrono::steady_clock::time_point* wakeAt);
  // Under the key's stripe: the entry and the warm version (or absence) to send. Blocking.
  Result<UploadTask> snapshot(const std::string& tk);
  // The task's outcome: on success the entry is removed (or keeps covering newer writes), the
  // clean copy recorded; on failure the key backs off. Clears the in-flight mark.
  void finish(const UploadTask& task, const Result<std::string>& coldEtag, uint64_t bytes);
  bool idle() const;  // no dirty keys at all

  // --- queries ---
  std::optional<DirtyEntry> dirty(const std::string& tk) const;
  bool inFlight(const std::string& tk) const;
  std::string lastError(const std::string& tk) const;
  bool pendingDelete(const std::string& tk) const;
  // Flush barrier (admin.h): a new barrier is the current sequence number.
  uint64_t currentSeq() const;
  FlushReport flushReport(const std::string& bucket, const std::string& prefix,
                          uint64_t barrier) const;
  void mappingTotals(const Mapping& m, uint64_t& objects, uint64_t& bytes,
                     int64_t& oldestMs) const;
  MappingCounters counters(size_t mapping) const;
  uint64_t dirtyBytes() const;
  size_t dirtyCount() const;

 private:
  struct KeyState {
    DirtyEntry e;
    const Mapping* mapping = nullptr;
    bool inFlight = false;
    bool queued = false;  // in ready_ or delayed_
    bool removeAfterFlight = false;  // aborted while an upload ran: forget it when that ends
    uint64_t firstSeq = 0;  // the write that made the key dirty (0 = before a restart: unknown)
    int failures = 0;
    std::string lastError;
  };
  void enqueueLocked(const std::string& tk, KeyState& ks);
  std::mutex& stripe(const std::string& tk);

  store::ObjectStore& inner_;
  StateDb& db_;
  const MappingTable& table_;
  WriteBackOptions options_;
  std::function<void()> notify_;

  std::array<std::mutex, 256> stripes_;
  mutable std::mutex mu_;  // guards everything below; never held across a store call
  std::condition_variable uploaded_;
  std::map<std::string, KeyState> keys_;  // ordered: flush reports scan a prefix
  std::deque<std::string> ready_;
  std::multimap<std::chrono::steady_clock::time_point, std::string> delayed_;
  uint64_t seq_ = 0;
  uint64_t dirtyBytes_ = 0;
  std::vector<MappingCounters> counters_;
};

}  // namespace ember::tier
