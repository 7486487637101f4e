#pragma once
// The tier's durable state, in its own small RocksDB (<data_dir>/tier/db), apart from the object
// index: the write-back queue (one entry per dirty key), what is known about clean copies, the
// mappings seen before (so a new mapping of a bucket with data uploads that data), and the write
// sequence high-water mark. docs/tiering.md ("Durable state") gives the layout.
//
// Blocking and thread-safe, like the ObjectStore: call it from the blocking pool, never from a
// network thread or the tier thread. Writes of queue entries are synced (WAL fsync) before they
// return; clean-copy records are written without a sync (losing one costs a re-validation or a
// repeated upload, never data).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rocksdb {
class DB;
}

namespace ember::tier {

enum class Op : uint8_t { kPut = 1, kDelete = 2 };

// A dirty key: its latest acknowledged write is not (known to be) in the cold store yet.
struct DirtyEntry {
  Op op = Op::kPut;
  uint64_t seq = 0;          // sequence number of the key's latest write
  uint64_t uploadedSeq = 0;  // the newest write of the key known to be in cold (0 = none)
  uint64_t size = 0;         // bytes to upload (the object's size; 0 for deletes)
  int64_t dirtySinceMs = 0;  // when the key became dirty (the age of its oldest dirty byte)
};

// What is known about the warm copy of a clean key.
struct CleanEntry {
  std::string versionId;   // the warm version that matches the cold object
  std::string coldEtag;    // the cold object's ETag for that version
  int64_t validatedMs = 0; // when the cold ETag was last seen to be this one
};

// Keys of the tier's maps: bucket + '\0' + key (bucket names never hold a NUL).
std::string tierKey(std::string_view bucket, std::string_view key);
std::pair<std::string_view, std::string_view> splitTierKey(std::string_view tk);

class StateDb {
 public:
  static Result<std::unique_ptr<StateDb>> open(const std::string& path);
  ~StateDb();

  // --- write-back queue (synced) ---
  Status putDirty(std::string_view tk, const DirtyEntry& e, uint64_t seqHighWater);
  Status eraseDirty(std::string_view tk);
  // Removes the dirty entry and records the clean copy in one atomic write.
  Status markClean(std::string_view tk, const CleanEntry& c);
  Status forEachDirty(const std::function<void(std::string_view tk, const DirtyEntry&)>& fn);
  uint64_t seqHighWater() const { return seqHighWater_.load(); }

  // --- clean copies (not synced) ---
  Result<std::optional<CleanEntry>> getClean(std::string_view tk);
  Status putClean(std::string_view tk, const CleanEntry& c);
  Status eraseClean(std::string_view tk);

  // --- pins (synced): bucket\0prefix -> value bytes owned by PinSet ---
  Status putPin(std::string_view id, std::string_view value);
  Status erasePin(std::string_view id);
  Status forEachPin(const std::function<void(std::string_view id, std::string_view value)>& fn);

  // --- mappings seen (synced) ---
  // The location recorded for a mapping id ("bucket\0prefix"), if any.
  Result<std::optional<std::string>> getMapping(std::string_view id);
  Status putMapping(std::string_view id, std::string_view location);

  // --- staging jobs (synced; the value is the stager's JSON record, stage.cc) ---
  Status putJob(std::string_view id, std::string_view record);
  Status eraseJob(std::string_view id);
  Status forEachJob(const std::function<void(std::string_view id, std::string_view record)>& fn);

 private:
  StateDb() = default;
  Status write(std::string_view key, std::optional<std::string_view> value, bool sync);
  std::unique_ptr<rocksdb::DB> db_;
  std::atomic<uint64_t> seqHighWater_{0};
};

}  // namespace ember::tier
