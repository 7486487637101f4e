#pragma once
// Staging jobs (docs/tiering.md, "Staging"): pull every cold object under a bucket/prefix into the
// warm tier ahead of reads, `parallel` objects at a time, optionally pinning the prefix first.
//
// A job lists the cold prefix page by page while pullers take objects from a bounded queue (the
// listing is never held whole). Each object is streamed from cold straight into a store writer
// (objects of two chunks or more are fetched as ranges, a few at a time, appended in order) and
// committed as a clean warm object, exactly like a read-through ingest: never over a local write
// (a dirty key is skipped), and over a warm copy only when that copy is a stale clean one with
// another cold ETag. Objects already warm with the cold ETag are skipped. Failed objects are
// retried (with backoff) and then listed in the job's failures; the job goes on.
//
// Jobs are persisted in the state db (key space 'j') when they start, every persistEvery while
// they run and when they end. The record keeps a resume point: the listing page marker and the
// last key such that it and every key before it are finished, with the counters of those
// objects. A job found queued/listing/running at start resumes from that point: objects after it
// that were already pulled are found warm and skipped, so nothing is fetched twice.
//
// Threading: the public methods are thread-safe (a mutex guards the reports); the jobs run as
// coroutines on the tier executor (the cold stores are used there only), store and state-db
// calls go to the blocking pool.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cold/cold_store.h"
#include "io/offload.h"
#include "store/object_store.h"
#include "tier/admin.h"
#include "tier/mapping.h"
#include "tier/state_db.h"
#include "tier/writeback.h"

namespace ember::tier {

// Asked before a pin job pulls anything: pin bucket/prefix (expiresMs: absolute unix ms, absent =
// no expiry) for `bytes` bytes of cold data. An error fails the job with its message.
using StagePinner = std::function<Status(const std::string& bucket, const std::string& prefix,
                                         std::optional<int64_t> expiresMs, uint64_t bytes)>;

// A token bucket over bytes with the time passed in (so it can be tested without sleeping).
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  // rate: bytes per second (> 0); burst: the most tokens kept (0: rate / 4, at least 64 KiB).
  TokenBucket(uint64_t rate, Clock::time_point now, uint64_t burst = 0);
  // Takes n tokens at `now` (the bucket may go into debt); returns how long the caller waits
  // before using the bytes (zero when there were enough tokens).
  Clock::duration take(uint64_t n, Clock::time_point now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

struct StagerOptions {
  uint64_t chunkBytes = 8ull << 20;  // objects of 2 chunks or more are fetched as ranges
  unsigned chunkParallel = 4;        // ranges of one object in flight (each held in memory)
  unsigned attempts = 3;             // per object
  std::chrono::milliseconds retryBase{500};  // backoff: retryBase, 2x, 4x ...
  std::chrono::milliseconds persistEvery{1000};
  std::chrono::milliseconds tick{500};       // rate/ETA refresh
  size_t queueCap = 1000;            // listed objects waiting for a puller
  int listPage = 1000;               // keys per cold list call
  std::string owner;                 // owner of the warm objects
};

struct StagerDeps {
  asio::any_io_executor executor;          // the tier thread (single-threaded)
  store::ObjectStore* inner = nullptr;     // the undecorated local store
  StateDb* db = nullptr;
  WriteBack* wb = nullptr;
  const MappingTable* table = nullptr;
  std::vector<cold::ColdStore*> cold;      // by mapping index (used on `executor` only)
  BlockingPool* pool = nullptr;
  StagePinner pinner;
};

struct StagerTotals {
  uint64_t bytes = 0;    // pulled from cold by staging jobs since start
  uint64_t objects = 0;  // pulled (made warm)
  uint64_t running = 0;  // jobs queued, listing or running
};

class Stager {
 public:
  Stager(StagerDeps deps, StagerOptions options);
  ~Stager();
  Stager(const Stager&) = delete;
  Stager& operator=(const Stager&) = delete;

  // Loads the persisted jobs and resumes the unfinished ones (they run once the executor runs).
  // Blocking (state db): call it at startup, not on a network or the tier thread.
  Status resume();

  // Creates a job and starts it. Errors: kInvalidArgument (not under a mapping of the bucket,
  // parallel outside 1..256, a negative ttl).
  Result<StageReport> start(StageRequest request);
  Result<StageReport> status(const std::string& id) const;  // kNotFound
  std::vector<StageReport> list() const;                     // by creation time
  // Asks a job to stop: no new objects are started, pulls in flight finish, and the job ends
  // cancelled (persisted). A finished job is returned unchanged. Errors: kNotFound.
  Result<StageReport> cancel(const std::string& id);
  StagerTotals totals() const;

 private:
  struct Job;
  struct Run;
  struct Item;
  struct Outcome;

  void launch(std::shared_ptr<Job> job);
  asio::awaitable<void> runJob(std::shared_ptr<Job> job);
  asio::awaitable<Status> pinPass(std::shared_ptr<Run> run);
  asio::awaitable<void> lister(std::shared_ptr<Run> run);
  asio::awaitable<void> worker(std::shared_ptr<Run> run);
  asio::awaitable<void> ticker(std::shared_ptr<Run> run);
  void finishItem(Run& run, Item& item, const Outcome& o);
  asio::awaitable<void> persist(std::shared_ptr<Job> job);
  void refreshRate(Job& job);

  // stage_pull.cc: one object, with retries.
  asio::awaitable<Outcome> pull(std::shared_ptr<Run> run, const cold::ColdObjectInfo& listed);
  asio::awaitable<Outcome> pullOnce(std::shared_ptr<Run> run, const cold::ColdObjectInfo& listed);
  asio::awaitable<void> throttle(std::shared_ptr<Run> run, uint64_t bytes);

  StagerDeps deps_;
  StagerOptions options_;
  mutable std::mutex mu_;  // guards jobs_ and every Job's report/committed state
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::atomic<uint64_t> bytesTotal_{0};
  std::atomic<uint64_t> objectsTotal_{0};
};

}  // namespace ember::tier
