#pragma once
// Read-through fills: one cold object version being copied into the warm tier while clients read
// it. The object is cut into aligned chunks (chunkSize); a chunk is fetched from cold once, into a
// sparse file, however many readers wait for it (single-flight), and readers are served each chunk
// as soon as it is there (the first byte does not wait for the whole object). A range read fetches
// only the chunks of its window, plus read-ahead inside that window. Once every chunk is present
// the fill is complete and the tier manager ingests the file as a clean warm object.
//
// Threading: all of a fill's state lives on one executor (the tier thread, single-threaded);
// read() may be awaited from any executor and resumes on the caller's; readBlocking() serves
// callers on other threads (never the tier thread itself).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cold/cold_store.h"
#include "common/status.h"
#include "core/tier_hooks.h"

namespace ember::tier {

struct FillOptions {
  std::filesystem::path dir;       // where fill files live (<data_dir>/tier/fill); emptied at start
  uint64_t chunkSize = 8ull << 20;
  unsigned readAhead = 4;          // chunks fetched ahead of a reader, inside its window
  unsigned maxFetchesPerObject = 8;
};

struct FillStats {
  uint64_t chunkFetches = 0;  // cold GETs started for chunks (each chunk at most once unless one failed)
  uint64_t bytesFetched = 0;
};

class ColdFill : public std::enable_shared_from_this<ColdFill> {
 public:
  // Creates the (sparse) fill file. `cold` must outlive the fill. Errors: kIOError.
  static Result<std::shared_ptr<ColdFill>> create(asio::any_io_executor executor,
                                                  cold::ColdStore& cold, std::string coldKey,
                                                  cold::ColdObjectInfo info, FillOptions options);
  ~ColdFill();  // closes and unlinks the file (a complete fill is ingested before that)

  const cold::ColdObjectInfo& info() const;
  const std::string& coldKey() const;

  // Reads up to buf.size() bytes at `offset` (0 only at the end of the object). Fetches the
  // chunk holding `offset` when absent, and starts fetches of up to readAhead following chunks
  // that begin before `windowEnd`. Errors: the cold fetch's (a failed chunk is fetched again by
  // the next reader that needs it), kPreconditionFailed when the cold object's ETag is no longer
  // info().etag (the fill is then stale()).
  asio::awaitable<Result<size_t>> read(uint64_t offset, std::span<char> buf, uint64_t windowEnd);
  // The same, blocking the calling thread. Never call it on the fill's executor.
  Result<size_t> readBlocking(uint64_t offset, std::span<char> buf, uint64_t windowEnd);

  bool complete() const;  // every chunk present (thread-safe)
  bool stale() const;     // the cold object changed under the fill (thread-safe)
  // Runs once, on the executor, when the last chunk arrives; the file then holds the object.
  // May be called from any thread; set on a fill that is already complete, it runs right away
  // (on the executor). A stale fill never completes.
  void setOnComplete(std::function<void()> fn);
  const std::filesystem::path& path() const;
  uint64_t presentBytes() const;  // bytes of chunks present (thread-safe)
  FillStats stats() const;        // thread-safe

 private:
  struct Impl;
  explicit ColdFill(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The reader a GET of a cold object gets: `record` describes the cold object (size, ETag, …);
// reads go through the fill.
std::unique_ptr<core::AsyncObjectReader> makeColdReader(std::shared_ptr<ColdFill> fill,
                                                         core::ObjectRecord record);

// Single-flight registry of fills, used on the tier executor only. One fill per (mapping, cold
// key) at a time; fills are kept after their readers leave (so later range reads of fetched
// chunks are served locally) while the files of fills nobody reads stay under `budgetBytes`,
// least recently used dropped first.
class FillRegistry {
 public:
  FillRegistry(asio::any_io_executor executor, FillOptions options, uint64_t budgetBytes);

  // The fill for (mapping, coldKey) when one exists with ETag info.etag and is not stale; else a
  // new one (replacing one with another ETag). Errors: ColdFill::create's.
  Result<std::shared_ptr<ColdFill>> acquire(size_t mapping, cold::ColdStore& cold,
                                            const std::string& coldKey,
                                            const cold::ColdObjectInfo& info);
  // Forgets the fill (after it was ingested, or when the key was written locally).
  void drop(size_t mapping, const std::string& coldKey);
  size_t size() const;
  uint64_t retainedBytes() const;  // presentBytes of the fills kept

 private:
  using Key = std::pair<size_t, std::string>;
  struct Entry {
    std::shared_ptr<ColdFill> fill;
    std::list<Key>::iterator lru;  // its place in lru_ (O(1) touch and erase)
  };
  asio::any_io_executor executor_;
  FillOptions options_;
  uint64_t budget_;
  std::map<Key, Entry> fills_;
  std::list<Key> lru_;  // front = most recently acquired
  void erase(std::map<Key, Entry>::iterator it);
  void trim();
};

}  // namespace ember::tier
