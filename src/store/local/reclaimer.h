#pragma once
// Space reclamation for the local store: per-version read pins, and the unlink-then-unmark
// sequence that frees data files and inline bytes once nothing can reference them.
//
// Every reclaimable thing first gets a durable mark in the pending CF, written in the same batch
// as the commit that made it unreferenced ('R' version marks for retired object versions, 'F'
// file marks for parts and discarded writes). Reclaiming then
//   1. waits until no ObjectReader pins the version (retired versions only),
//   2. unlinks the files and fsyncs their directories,
//   3. deletes the inline-data entries and the mark, in an unsynced batch that rides along with
//      the next commit (or is flushed when enough accumulate).
// A crash anywhere in 2-3 leaves the mark, and recovery repeats the work; see docs/durability.md.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/local/data_files.h"
#include "store/local/index.h"
#include "store/local/record_codec.h"

namespace ember::store::local {

struct IndexDelete {
  Cf cf;
  std::string key;
};

class Reclaimer {
 public:
  // Queued deletes are flushed in their own batch beyond this many.
  static constexpr size_t kFlushThreshold = 512;

  Reclaimer(Index& index, DataFiles& files) : index_(index), files_(files) {}

  // Keeps `versionRaw`'s files and inline bytes alive until the matching unpin().
  void pin(const std::string& versionRaw);
  // Records the files of a pinned version. Versions of one key can share files (append objects
  // grow a file in place; metadata-only rewrites keep the bytes), so a retired version whose
  // files a pinned version still reads waits for that pin to go away too.
  void pinFiles(const std::string& versionRaw, const std::vector<std::string>& fileIdsRaw);
  // Never does I/O (readers may be destroyed on any thread): a retired version whose last pin
  // goes away is queued for the next runPending().
  void unpin(const std::string& versionRaw);

  // `r` was retired by a committed batch that holds its 'R' mark. Reclaims it now, or when the
  // last reader of it goes away.
  void retire(RetiredVersion r);
  // Files whose 'F' marks are committed and that nothing references. With runNow false the
  // unlinks wait for the next runPending() (for callers that must not block, e.g. destructors).
  void dropFiles(std::vector<std::string> fileIdsRaw, bool runNow = true);
  // Does the queued reclamation (unlink, directory fsync). Blocking; cheap when idle.
  void runPending();
  bool hasPending() const { return hasPending_.load(std::memory_order_acquire); }

  // Index entries whose files are gone, to be deleted by the caller's next batch. A caller whose
  // batch fails gives them back with restoreDeletes().
  std::vector<IndexDelete> takeDeletes(size_t max);
  void restoreDeletes(std::vector<IndexDelete> deletes);
  // Writes all queued deletes now (unsynced: recovery redoes lost ones).
  Status flushDeletes();
  // Pinned versions, for tests.
  size_t pinnedCount();

 private:
  struct Pin {
    uint32_t refs = 0;
    std::optional<RetiredVersion> retired;
    std::vector<std::string> files;  // set once by pinFiles
    bool filesPinned = false;
  };
  // REQUIRES mu_: true when a live pin reads one of `r`'s files.
  bool filesInUse(const RetiredVersion& r) const;

  void queueDeletes(std::vector<IndexDelete> deletes);

  Index& index_;
  DataFiles& files_;
  std::mutex mu_;
  std::unordered_map<std::string, Pin> pins_;
  std::unordered_map<std::string, uint32_t> fileRefs_;  // file id -> pinned versions naming it
  std::vector<RetiredVersion> waiting_;                  // retired, files still read elsewhere
  std::vector<RetiredVersion> readyVersions_;
  std::vector<std::string> readyFiles_;
  std::vector<IndexDelete> deletes_;
  std::atomic<bool> hasPending_{false};
};

// The marks and files a retired version leaves behind, excluding file ids that `keep` reuses.
RetiredVersion retiredFor(const ObjectRecord& old, const std::string& oldVersionRaw,
                          const std::vector<std::string>& keepFileIdsRaw);

}  // namespace ember::store::local
