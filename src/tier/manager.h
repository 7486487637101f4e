#pragma once
// The tier manager: Ember's warm tier over cold stores. It owns the mappings, one ColdStore per
// mapping, the tier thread those run on, the read-through fills, the cold-listing cache, the
// durable write-back queue and its uploader, and the ObjectStore decorator (tier_store.h) that the
// namespace core uses in place of the local store. It answers the core's TierHooks (reads, heads
// and listings of mapped buckets) and the admin API's TierAdmin. docs/tiering.md describes the
// object states and every rule here.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/tier_hooks.h"
#include "io/offload.h"
#include "store/object_store.h"
#include "tier/admin.h"
#include "tier/evict.h"
#include "tier/fill.h"
#include "tier/list_merge.h"
#include "tier/mapping.h"
#include "tier/pins.h"
#include "tier/stage.h"
#include "tier/state_db.h"
#include "tier/tier_store.h"
#include "tier/writeback.h"

namespace ember::tier {

struct TierOptions {
  std::string dir;                        // <data_dir>/tier: state db and fill files
  std::vector<MappingConfig> mappings;
  std::string owner;                      // owner of mapped buckets created at start
  unsigned uploadConcurrency = 4;         // uploads in flight, all mappings together
  uint64_t maxDirtyBytes = 0;             // 0 = no bound (the caller derives it from the volume)
  std::chrono::milliseconds writeThroughTimeout{60'000};
  std::chrono::milliseconds retryBase{1'000};
  std::chrono::milliseconds retryMax{60'000};
  uint64_t chunkBytes = 8ull << 20;       // read-through chunk
  unsigned readAhead = 4;
  uint64_t fillCacheBytes = 1ull << 30;   // partial fills kept for later range reads
  unsigned blockingThreads = 16;          // the tier's own pool (store, state db; fsync waits)
  EvictOptions evict;                     // capacity watermarks
  std::chrono::milliseconds evictInterval{10'000};  // how often they are checked
};

class TierManager : public core::TierHooks, public TierAdmin {
 public:
  // Opens the state db and builds the cold stores. Errors: bad mappings, a state db that does
  // not open, a cold store that cannot be configured.
  static Result<std::unique_ptr<TierManager>> open(store::ObjectStorePtr inner, TierOptions options);
  ~TierManager() override;

  // The decorated store: give this to core::Namespace.
  store::ObjectStorePtr store() { return tierStore_; }
  // Creates missing mapped buckets, recovers the write-back queue, queues the objects of
  // mappings new to this data directory (their warm objects are not in cold yet), and starts the
  // tier thread and the uploader.
  Status start();
  // Stops the uploader and the tier thread (queued work stays queued on disk).
  void stop();

  // --- core::TierHooks ---
  bool bucketMapped(std::string_view bucket) const override;
  bool keyMapped(std::string_view bucket, std::string_view key) const override;
  asio::awaitable<Result<core::ObjectRecord>> onWarmHit(core::ObjectRecord record) override;
  asio::awaitable<Result<core::ObjectRecord>> headCold(std::string bucket, std::string key) override;
  asio::awaitable<Result<std::unique_ptr<core::AsyncObjectReader>>> openCold(
      std::string bucket, std::string key) override;
  asio::awaitable<Result<core::ListOutput>> mergeList(const core::ListInput& in,
                                                      core::ListOutput local) override;

  // --- TierAdmin ---
  asio::awaitable<Result<FlushReport>> flush(std::string bucket, std::string prefix,
                                             std::optional<uint64_t> barrier) override;
  asio::awaitable<Result<ObjectTierStatus>> objectStatus(std::string bucket,
                                                         std::string key) override;
  std::vector<MappingReport> mappings() override;
  asio::awaitable<Result<PinReport>> pin(std::string bucket, std::string prefix,
                                         std::optional<int64_t> ttlMs) override;
  asio::awaitable<Status> unpin(std::string bucket, std::string prefix) override;
  asio::awaitable<std::vector<PinReport>> pins() override;
  // The pin check and write, blocking (staging jobs call it): refuses with kInsufficientStorage
  // when the pinned data, counting max(warm bytes under the prefix, expectBytes) for this one,
  // would exceed the warm tier's high watermark.
  Result<PinReport> pinNow(const std::string& bucket, const std::string& prefix, int64_t expiresMs,
                           uint64_t expectBytes);
  asio::awaitable<Result<StageReport>> startStage(StageRequest request) override;
  asio::awaitable<Result<StageReport>> stageStatus(std::string id) override;
  asio::awaitable<std::vector<StageReport>> listStages() override;
  asio::awaitable<Result<StageReport>> cancelStage(std::string id) override;

  // Publishes the ember_tier_* series on the global metrics registry (called before /metrics).
  void publishMetrics();
  WriteBack& writeBack() { return *wb_; }

 private:
  struct Counters {
    std::atomic<uint64_t> warmHits{0};
    std::atomic<uint64_t> coldOpens{0};
    std::atomic<uint64_t> coldBytes{0};
    std::atomic<uint64_t> ingested{0};
    std::atomic<uint64_t> revalidations{0};
    std::atomic<uint64_t> staleDropped{0};
  };
  struct HeadFlight;

  TierManager() = default;
  // Runs `fn` (a coroutine factory) on the tier thread and awaits it from any executor.
  template <typename T, typename F>
  asio::awaitable<T> onTier(F fn);
  asio::awaitable<Result<cold::ColdObjectInfo>> headOnTier(const Mapping& m, std::string coldKey);
  void ingest(std::shared_ptr<ColdFill> fill, const Mapping* m, std::string bucket,
              std::string key);
  core::ObjectRecord coldRecord(const std::string& bucket, const std::string& key,
                                const cold::ColdObjectInfo& info) const;
  Status queueExisting(const Mapping& m);
  asio::awaitable<void> uploaderLoop();
  asio::awaitable<void> evictLoop();
  bool covered(const std::string& bucket, const std::string& prefix) const;
  asio::awaitable<void> uploadOne(std::string tk);
  void poke();

  TierOptions options_;
  MappingTable table_;
  std::unique_ptr<StateDb> db_;
  std::unique_ptr<WriteBack> wb_;
  std::unique_ptr<PinSet> pins_;
  std::unique_ptr<Evictor> evictor_;
  store::ObjectStorePtr inner_;
  std::shared_ptr<TierStore> tierStore_;

  // Staging jobs (stage.h). Declared before ioc_ so it outlives the job coroutines' frames,
  // which ioc_'s destruction frees.
  std::unique_ptr<Stager> stager_;
  asio::io_context ioc_{1};
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::unique_ptr<BlockingPool> pool_;
  std::vector<std::unique_ptr<cold::ColdStore>> cold_;  // by mapping index
  std::unique_ptr<FillRegistry> fills_;
  ListCache listCache_{512};  // pages of up to ~5000 entries each
  std::map<std::string, std::shared_ptr<HeadFlight>> heads_;  // tier thread only
  std::vector<std::unique_ptr<Counters>> counters_;            // by mapping index

  // The uploader (tier thread only).
  std::unique_ptr<asio::steady_timer> wake_;
  std::unique_ptr<asio::steady_timer> evictTimer_;
  unsigned uploading_ = 0;
  bool stopping_ = false;
};

}  // namespace ember::tier
