// TierManager: lifecycle, the admin answers and metrics. Reads are in read_path.cc, the uploader
// in uploader.cc.
#include "tier/manager.h"

#include <filesystem>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "common/metrics.h"
#include "common/time_util.h"

namespace ember::tier {

Result<std::unique_ptr<TierManager>> TierManager::open(store::ObjectStorePtr inner,
                                                       TierOptions options) {
  auto table = MappingTable::build(options.mappings);
  EMBER_TRY(table);
  std::unique_ptr<TierManager> t(new TierManager());
  t->options_ = std::move(options);
  t->table_ = std::move(*table);
  std::error_code ec;
  std::filesystem::create_directories(t->options_.dir, ec);
  if (ec) {
    return unexpected(Code::kIOError, "tier: cannot create " + t->options_.dir + ": " + ec.message());
  }
  auto db = StateDb::open(t->options_.dir + "/db");
  EMBER_TRY(db);
  t->db_ = std::move(*db);
  t->inner_ = std::move(inner);
  WriteBackOptions wo;
  wo.maxDirtyBytes = t->options_.maxDirtyBytes;
  wo.retryBase = t->options_.retryBase;
  wo.retryMax = t->options_.retryMax;
  t->wb_ = std::make_unique<WriteBack>(*t->inner_, *t->db_, t->table_, wo);
  t->pins_ = std::make_unique<PinSet>(*t->db_);
  store::ObjectStore* innerRaw = t->inner_.get();
  t->evictor_ = std::make_unique<Evictor>(*t->inner_, t->table_, *t->wb_, *t->pins_,
                                          t->options_.evict,
                                          [innerRaw] { return innerRaw->capacity(); });
  t->tierStore_ = std::make_shared<TierStore>(t->inner_, t->table_, *t->wb_,
                                              t->options_.writeThroughTimeout);
  for (const Mapping& m : t->table_.all()) {
    auto cs = cold::makeColdStore(t->ioc_.get_executor(), m.cfg.cold);
    if (!cs) {
      return unexpected(Code::kInvalidArgument,
                        "mapping " + m.cfg.bucket + "/" + m.cfg.prefix + " -> " +
                            m.cfg.cold.location.toString() + ": " + cs.error().message());
    }
    t->cold_.push_back(std::move(*cs));
    t->counters_.push_back(std::make_unique<Counters>());
  }
  FillOptions fo;
  fo.dir = t->options_.dir + "/fill";
  std::filesystem::remove_all(fo.dir, ec);  // partial fills do not survive a restart
  std::filesystem::create_directories(fo.dir, ec);
  if (ec) {
    return unexpected(Code::kIOError, "tier: cannot create " + fo.dir.string() + ": " + ec.message());
  }
  fo.chunkSize = t->options_.chunkBytes;
  fo.readAhead = t->options_.readAhead;
  t->fills_ = std::make_unique<FillRegistry>(t->ioc_.get_executor(), fo, t->options_.fillCacheBytes);
  t->pool_ = std::make_unique<BlockingPool>(std::max(1u, t->options_.blockingThreads));
  t->wake_ = std::make_unique<asio::steady_timer>(t->ioc_);
  t->evictTimer_ = std::make_unique<asio::steady_timer>(t->ioc_);
  StagerDeps sd;
  sd.executor = t->ioc_.get_executor();
  sd.inner = t->inner_.get();
  sd.db = t->db_.get();
  sd.wb = t->wb_.get();
  sd.table = &t->table_;
  for (auto& cs : t->cold_) {
    sd.cold.push_back(cs.get());
  }
  sd.pool = t->pool_.get();
  // A staging job with --pin pins its prefix before pulling: refused (the job fails) when it would
  // pin more than the warm tier may hold.
  TierManager* self = t.get();
  sd.pinner = [self](const std::string& bucket, const std::string& prefix,
                     std::optional<int64_t> expiresMs, uint64_t bytes) -> Status {
    auto pinned = self->pinNow(bucket, prefix, expiresMs.value_or(0), bytes);
    return pinned ? Status::ok() : pinned.error();
  };
  StagerOptions so;
  so.chunkBytes = t->options_.chunkBytes;
  so.owner = t->options_.owner;
  t->stager_ = std::make_unique<Stager>(std::move(sd), so);
  return t;
}

TierManager::~TierManager() { stop(); }

Status TierManager::start() {
  for (const Mapping& m : table_.all()) {
    if (auto b = inner_->getBucket(m.cfg.bucket); !b) {
      if (b.error().code() != Code::kNoSuchBucket) {
        return b.error();
      }
      store::BucketRecord rec;
      rec.name = m.cfg.bucket;
      rec.owner = options_.owner;
      rec.createdMs = nowMillis();
      rec.mtimeMs = rec.createdMs;
      if (Status s = inner_->createBucket(rec); !s && s.code() != Code::kAlreadyExists) {
        return s;
      }
      spdlog::info("tier: created bucket '{}' for its mapping to {}", m.cfg.bucket,
                   m.cfg.cold.location.toString());
    }
  }
  EMBER_TRY(wb_->recover());
  EMBER_TRY(pins_->load());
  for (const Mapping& m : table_.all()) {
    if (m.cfg.mode != Mode::kReadOnly) {
      EMBER_TRY(queueExisting(m));
    }
  }
  // Unfinished staging jobs resume (their coroutines run once the tier thread starts).
  EMBER_TRY(stager_->resume());
  wb_->setNotify([this] { poke(); });
  work_ = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      ioc_.get_executor());
  thread_ = std::thread([this] { ioc_.run(); });
  asio::co_spawn(ioc_, uploaderLoop(), asio::detached);
  asio::co_spawn(ioc_, evictLoop(), asio::detached);
  for (const Mapping& m : table_.all()) {
    spdlog::info("tier: {}/{} -> {} ({}, revalidate {})", m.cfg.bucket, m.cfg.prefix,
                 m.cfg.cold.location.toString(), modeName(m.cfg.mode),
                 m.cfg.revalidateAfter
                     ? std::to_string(m.cfg.revalidateAfter->count()) + " ms"
                     : std::string("never"));
  }
  return Status::ok();
}

void TierManager::stop() {
  if (!thread_.joinable()) {
    return;
  }
  asio::post(ioc_, [this] {
    stopping_ = true;
    wake_->cancel();
    evictTimer_->cancel();
  });
  work_.reset();
  // Uploads in flight are abandoned: their queue entries stay and run again after a restart.
  ioc_.stop();
  thread_.join();
  pool_->stop();
}

Status TierManager::queueExisting(const Mapping& m) {
  std::string id = m.cfg.bucket + std::string(1, '\0') + m.cfg.prefix;
  std::string loc = m.cfg.cold.location.toString();
  auto seen = db_->getMapping(id);
  EMBER_TRY(seen);
  if (*seen && **seen == loc) {
    return Status::ok();
  }
  // A mapping new to this data directory (or pointed elsewhere): what is warm under it is not in
  // that cold location yet, so all of it goes on the queue.
  auto it = inner_->listObjects(m.cfg.bucket, false);
  EMBER_TRY(it);
  uint64_t n = 0;
  for ((*it)->seek(m.cfg.prefix); (*it)->valid() && (*it)->key().starts_with(m.cfg.prefix);
       (*it)->next()) {
    std::string tk = tierKey(m.cfg.bucket, (*it)->key());
    auto lock = wb_->lockKey(tk);
    auto intent = wb_->begin(m, tk, Op::kPut, (*it)->record().size);
    EMBER_TRY(intent);
    wb_->commit(*intent, (*it)->record().size);
    ++n;
  }
  EMBER_TRY((*it)->status());
  EMBER_TRY(db_->putMapping(id, loc));
  if (n) {
    spdlog::info("tier: mapping {}/{} is new: {} warm object(s) queued for {}", m.cfg.bucket,
                 m.cfg.prefix, n, loc);
  }
  return Status::ok();
}

bool TierManager::bucketMapped(std::string_view bucket) const {
  return table_.bucketMapped(bucket);
}

bool TierManager::keyMapped(std::string_view bucket, std::string_view key) const {
  return table_.find(bucket, key) != nullptr;
}

// --- admin ---

bool TierManager::covered(const std::string& bucket, const std::string& prefix) const {
  for (const Mapping* m : table_.forBucket(bucket)) {
    if (prefix.starts_with(m->cfg.prefix) || m->cfg.prefix.starts_with(prefix)) {
      return true;
    }
  }
  return false;
}

asio::awaitable<Result<FlushReport>> TierManager::flush(std::string bucket, std::string prefix,
                                                       std::optional<uint64_t> barrier) {
  if (!covered(bucket, prefix)) {
    co_return unexpected(Code::kInvalidArgument,
                         "'" + bucket + "/" + prefix + "' is not under any cold mapping");
  }
  uint64_t b = barrier ? *barrier : wb_->currentSeq();
  co_return wb_->flushReport(bucket, prefix, b);
}

asio::awaitable<Result<ObjectTierStatus>> TierManager::objectStatus(std::string bucket,
                                                                   std::string key) {
  ObjectTierStatus st;
  st.bucket = bucket;
  st.key = key;
  const Mapping* m = table_.find(bucket, key);
  if (!m) {
    st.state = "unmapped";
    co_return st;
  }
  std::string tk = tierKey(bucket, key);
  st.pinned = pins_->pinned(bucket, key);
  if (auto d = wb_->dirty(tk)) {
    st.state = wb_->inFlight(tk) ? "uploading" : "dirty";
    st.size = d->size;
    st.dirtySinceMs = d->dirtySinceMs;
    st.lastError = wb_->lastError(tk);
    if (d->op == Op::kDelete) {
      st.state = "dirty";  // a delete waiting to be written back
      co_return st;
    }
  }
  auto warm = co_await offload(*pool_, [this, bucket, key, tk]() {
    auto rec = inner_->getObject(bucket, key);
    auto clean = db_->getClean(tk);
    return std::make_pair(std::move(rec), std::move(clean));
  });
  if (warm.first) {
    st.warmEtag = warm.first->etag;
    st.size = warm.first->size;
    if (st.state.empty()) {
      st.state = "clean";
    }
    if (warm.second && *warm.second && (*warm.second)->versionId == warm.first->versionId) {
      st.coldEtag = (*warm.second)->coldEtag;
    }
    co_return st;
  }
  if (!st.state.empty()) {
    co_return st;
  }
  auto head = co_await headOnTier(*m, m->coldKey(key));
  if (head) {
    st.state = "cold";
    st.size = head->size;
    st.coldEtag = head->etag;
  } else if (head.error().code() == Code::kNotFound) {
    st.state = "absent";
  } else {
    co_return unexpected(head.error());
  }
  co_return st;
}

std::vector<MappingReport> TierManager::mappings() {
  std::vector<MappingReport> out;
  for (const Mapping& m : table_.all()) {
    MappingReport r;
    r.bucket = m.cfg.bucket;
    r.prefix = m.cfg.prefix;
    r.location = m.cfg.cold.location.toString();
    r.mode = std::string(modeName(m.cfg.mode));
    switch (cold_[m.index]->breakerState()) {
      case cold::CircuitBreaker::State::kClosed: r.breaker = "closed"; break;
      case cold::CircuitBreaker::State::kOpen: r.breaker = "open"; break;
      case cold::CircuitBreaker::State::kHalfOpen: r.breaker = "half-open"; break;
    }
    wb_->mappingTotals(m, r.dirtyObjects, r.dirtyBytes, r.oldestDirtyMs);
    MappingCounters c = wb_->counters(m.index);
    r.uploadedObjects = c.uploadedObjects;
    r.uploadedBytes = c.uploadedBytes;
    r.deletedObjects = c.deletedObjects;
    r.failedUploads = c.failedUploads;
    r.lastError = c.lastError;
    r.coldReads = counters_[m.index]->coldOpens.load();
    r.coldBytesRead = counters_[m.index]->coldBytes.load();
    out.push_back(std::move(r));
  }
  return out;
}

Result<PinReport> TierManager::pinNow(const std::string& bucket, const std::string& prefix,
                                      int64_t expiresMs, uint64_t expectBytes) {
  if (!covered(bucket, prefix)) {
    return unexpected(Code::kInvalidArgument,
                      "'" + bucket + "/" + prefix + "' is not under any cold mapping");
  }
  auto limit = evictor_->capacityLimit();
  EMBER_TRY(limit);
  uint64_t others = 0;
  for (const Pin& p : pins_->list()) {
    if (p.bucket == bucket && p.prefix == prefix) {
      continue;
    }
    auto b = evictor_->warmBytesUnder(p.bucket, p.prefix);
    EMBER_TRY(b);
    others += *b;
  }
  auto warm = evictor_->warmBytesUnder(bucket, prefix);
  EMBER_TRY(warm);
  uint64_t mine = std::max(*warm, expectBytes);
  if (others + mine > *limit) {
    return unexpected(Code::kInsufficientStorage,
                      "pinning '" + bucket + "/" + prefix + "' (" + std::to_string(mine) +
                          " bytes) would pin " + std::to_string(others + mine) +
                          " bytes in all, more than the " + std::to_string(*limit) +
                          " bytes the warm tier may hold (its high watermark)");
  }
  EMBER_TRY(pins_->add(bucket, prefix, expiresMs));
  PinReport r;
  r.bucket = bucket;
  r.prefix = prefix;
  r.createdMs = nowMillis();
  r.expiresMs = expiresMs;
  r.warmBytes = *warm;
  return r;
}

asio::awaitable<Result<PinReport>> TierManager::pin(std::string bucket, std::string prefix,
                                                   std::optional<int64_t> ttlMs) {
  int64_t expires = ttlMs ? nowMillis() + *ttlMs : 0;
  co_return co_await offload(*pool_, [this, bucket, prefix, expires] {
    return pinNow(bucket, prefix, expires, 0);
  });
}

asio::awaitable<Status> TierManager::unpin(std::string bucket, std::string prefix) {
  co_return co_await offload(*pool_, [this, bucket, prefix] { return pins_->remove(bucket, prefix); });
}

asio::awaitable<std::vector<PinReport>> TierManager::pins() {
  co_return co_await offload(*pool_, [this] {
    std::vector<PinReport> out;
    for (const Pin& p : pins_->list()) {
      PinReport r;
      r.bucket = p.bucket;
      r.prefix = p.prefix;
      r.createdMs = p.createdMs;
      r.expiresMs = p.expiresMs;
      if (auto b = evictor_->warmBytesUnder(p.bucket, p.prefix)) {
        r.warmBytes = *b;
      }
      out.push_back(std::move(r));
    }
    return out;
  });
}

asio::awaitable<void> TierManager::evictLoop() {
  while (!stopping_) {
    evictTimer_->expires_after(options_.evictInterval);
    boost::system::error_code ec;
    co_await evictTimer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping_) {
      break;
    }
    auto pass = co_await offload(*pool_, [this] {
      pins_->expire();
      return evictor_->runOnce();
    });
    if (!pass) {
      spdlog::warn("tier: eviction pass failed: {}", pass.error().toString());
    }
  }
}

asio::awaitable<Result<StageReport>> TierManager::startStage(StageRequest request) {
  if (!thread_.joinable()) {
    co_return unexpected(Code::kUnavailable, "the tier is not running");
  }
  co_return stager_->start(std::move(request));
}

asio::awaitable<Result<StageReport>> TierManager::stageStatus(std::string id) {
  co_return stager_->status(id);
}

asio::awaitable<std::vector<StageReport>> TierManager::listStages() { co_return stager_->list(); }

asio::awaitable<Result<StageReport>> TierManager::cancelStage(std::string id) {
  co_return stager_->cancel(id);
}

namespace {

// Our totals are kept in our own counters; the registry's follow them (they only grow).
void follow(metrics::Counter& c, uint64_t v) {
  uint64_t have = c.value();
  if (v > have) {
    c.inc(v - have);
  }
}

}  // namespace

void TierManager::publishMetrics() {
  auto& reg = metrics::Registry::global();
  EvictPass last = evictor_->lastPass();
  reg.gauge("ember_tier_warm_bytes", "Warm bytes under mappings (at the last eviction check)")
      .set(static_cast<int64_t>(last.warmBytes));
  reg.gauge("ember_tier_pinned_bytes", "Warm bytes under pins (at the last eviction check)")
      .set(static_cast<int64_t>(last.pinnedBytes));
  follow(reg.counter("ember_tier_evicted_objects_total", "Clean warm copies evicted"),
         evictor_->evictedObjects());
  follow(reg.counter("ember_tier_evicted_bytes_total", "Bytes of clean warm copies evicted"),
         evictor_->evictedBytes());
  StagerTotals st = stager_->totals();
  follow(reg.counter("ember_tier_stage_bytes_total", "Bytes pulled from cold by staging jobs", {}),
         st.bytes);
  follow(reg.counter("ember_tier_stage_objects_total",
                     "Objects made warm by staging jobs", {}),
         st.objects);
  reg.gauge("ember_tier_stage_jobs_running", "Staging jobs queued or running", {})
      .set(static_cast<int64_t>(st.running));
  std::vector<MappingReport> reports = mappings();
  for (const Mapping& m : table_.all()) {
    const MappingReport& r = reports[m.index];
    const Counters& c = *counters_[m.index];
    metrics::Labels l{{"bucket", r.bucket}, {"prefix", r.prefix}, {"location", r.location}};
    reg.gauge("ember_tier_dirty_objects", "Objects waiting to be written back to cold", l)
        .set(static_cast<int64_t>(r.dirtyObjects));
    reg.gauge("ember_tier_dirty_bytes", "Bytes waiting to be written back to cold", l)
        .set(static_cast<int64_t>(r.dirtyBytes));
    reg.gauge("ember_tier_oldest_dirty_seconds", "Age of the oldest dirty byte, seconds", l)
        .set(r.oldestDirtyMs / 1000);
    reg.gauge("ember_tier_breaker_open", "1 while the cold store's circuit breaker is open", l)
        .set(r.breaker == "open" ? 1 : 0);
    follow(reg.counter("ember_tier_uploaded_objects_total", "Objects written back to cold", l),
           r.uploadedObjects);
    follow(reg.counter("ember_tier_uploaded_bytes_total", "Bytes written back to cold", l),
           r.uploadedBytes);
    follow(reg.counter("ember_tier_deleted_objects_total", "Deletes written back to cold", l),
           r.deletedObjects);
    follow(reg.counter("ember_tier_failed_uploads_total", "Write-back attempts that failed", l),
           r.failedUploads);
    follow(reg.counter("ember_tier_cold_reads_total",
                       "Reads of mapped objects that went to cold (read-through misses)", l),
           r.coldReads);
    follow(reg.counter("ember_tier_cold_read_bytes_total", "Bytes fetched from cold", l),
           r.coldBytesRead);
    follow(reg.counter("ember_tier_warm_hits_total", "Reads of mapped objects served warm", l),
           c.warmHits.load());
    follow(reg.counter("ember_tier_ingested_objects_total",
                       "Read-through objects that became warm", l),
           c.ingested.load());
    follow(reg.counter("ember_tier_stale_dropped_total",
                       "Warm copies dropped because the cold object changed", l),
           c.staleDropped.load());
    uint64_t hits = c.warmHits.load();
    uint64_t reads = hits + c.coldOpens.load();
    reg.gauge("ember_tier_hit_ratio_permille",
              "Warm hits per thousand reads of mapped objects since start", l)
        .set(reads ? static_cast<int64_t>(hits * 1000 / reads) : 0);
  }
}

}  // namespace ember::tier
