// TierManager's read side: warm hits (freshness), cold heads and opens (single-flight
// read-through), and merged listings.
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "common/time_util.h"
#include "tier/manager.h"

namespace ember::tier {

// Concurrent heads of one cold key share one request (tier thread only).
struct TierManager::HeadFlight {
  explicit HeadFlight(asio::any_io_executor ex) : done(ex, std::chrono::steady_clock::time_point::max()) {}
  asio::steady_timer done;  // cancelled when `result` is set
  std::optional<Result<cold::ColdObjectInfo>> result;
};

template <typename T, typename F>
asio::awaitable<T> TierManager::onTier(F fn) {
  co_return co_await asio::co_spawn(ioc_.get_executor(), std::move(fn), asio::use_awaitable);
}

asio::awaitable<Result<cold::ColdObjectInfo>> TierManager::headOnTier(const Mapping& m,
                                                                      std::string coldKey) {
  cold::ColdStore* store = cold_[m.index].get();
  std::string flightKey = std::to_string(m.index) + '\0' + coldKey;
  co_return co_await onTier<Result<cold::ColdObjectInfo>>(
      [this, store, flightKey, coldKey]() -> asio::awaitable<Result<cold::ColdObjectInfo>> {
        auto it = heads_.find(flightKey);
        if (it != heads_.end()) {
          std::shared_ptr<HeadFlight> f = it->second;
          while (!f->result) {
            boost::system::error_code ec;
            co_await f->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          }
          co_return *f->result;
        }
        auto f = std::make_shared<HeadFlight>(ioc_.get_executor());
        heads_[flightKey] = f;
        auto r = co_await store->head(coldKey);
        f->result = r;
        heads_.erase(flightKey);
        f->done.cancel();
        co_return r;
      });
}

core::ObjectRecord TierManager::coldRecord(const std::string& bucket, const std::string& key,
                                           const cold::ColdObjectInfo& info) const {
  core::ObjectRecord r = recordOfColdObject(bucket, key, info, options_.owner);
  r.attrs.emplace_back(std::string(core::kTierStateAttr), "cold");
  return r;
}

asio::awaitable<Result<core::ObjectRecord>> TierManager::onWarmHit(core::ObjectRecord record) {
  const Mapping* m = table_.find(record.bucket, record.key);
  if (!m) {
    co_return record;
  }
  counters_[m->index]->warmHits++;
  std::string tk = tierKey(record.bucket, record.key);
  evictor_->touch(tk);
  std::string pinned = pins_->pinned(record.bucket, record.key) ? ",pinned" : "";
  if (auto d = wb_->dirty(tk)) {
    record.attrs.emplace_back(std::string(core::kTierStateAttr),
                              (wb_->inFlight(tk) ? "uploading" : "dirty") + pinned);
    co_return record;
  }
  if (m->cfg.revalidateAfter) {
    auto clean = co_await offload(*pool_, [this, tk] { return db_->getClean(tk); });
    int64_t now = nowMillis();
    bool fresh = clean && *clean && (*clean)->versionId == record.versionId &&
                 now - (*clean)->validatedMs < m->cfg.revalidateAfter->count();
    if (!fresh) {
      counters_[m->index]->revalidations++;
      auto head = co_await headOnTier(*m, m->coldKey(record.key));
      bool known = clean && *clean && (*clean)->versionId == record.versionId;
      if (head && (!known || head->etag == (*clean)->coldEtag)) {
        // Unchanged (or first seen: the cold ETag becomes the reference for this version).
        CleanEntry c{record.versionId, head->etag, now};
        Status saved = co_await offload(*pool_, [this, tk, c] { return db_->putClean(tk, c); });
        saved.ignoreError();  // losing it costs one more revalidation
      } else if (head || head.error().code() == Code::kNotFound) {
        // Changed or deleted behind Ember's back: drop the warm copy unless a write raced in.
        std::string versionId = record.versionId;
        std::string bucket = record.bucket;
        std::string key = record.key;
        auto dropped = co_await offload(*pool_, [this, tk, bucket, key, versionId]() -> Status {
          auto lock = wb_->lockKey(tk);
          if (wb_->dirty(tk)) {
            return makeError(Code::kBusy, "written meanwhile");
          }
          auto r = inner_->deleteObject(bucket, key, [&](const core::ObjectRecord* cur) {
            return cur && cur->versionId == versionId
                       ? Status::ok()
                       : makeError(Code::kPreconditionFailed, "changed meanwhile");
          });
          if (r) {
            (void)db_->eraseClean(tk);
          }
          return r ? Status::ok() : r.error();
        });
        if (dropped) {
          counters_[m->index]->staleDropped++;
          spdlog::info("tier: {}/{} changed in {} ({}): the warm copy was dropped", bucket, key,
                       m->cfg.cold.location.toString(),
                       head ? "new ETag " + head->etag : std::string("deleted"));
          co_return unexpected(Code::kNoSuchKey, "the cold object changed");
        }
      }
      // The cold store could not answer: serve the warm copy (stale-if-error).
    }
  }
  record.attrs.emplace_back(std::string(core::kTierStateAttr), "clean" + pinned);
  co_return record;
}

asio::awaitable<Result<core::ObjectRecord>> TierManager::headCold(std::string bucket,
                                                                 std::string key) {
  const Mapping* m = table_.find(bucket, key);
  if (!m || wb_->pendingDelete(tierKey(bucket, key))) {
    co_return unexpected(Code::kNoSuchKey, "The specified key does not exist.");
  }
  auto info = co_await headOnTier(*m, m->coldKey(key));
  if (!info) {
    if (info.error().code() == Code::kNotFound) {
      co_return unexpected(Code::kNoSuchKey, "The specified key does not exist.");
    }
    co_return unexpected(info.error().code(),
                         "cold store " + m->cfg.cold.location.toString() + ": " +
                             info.error().message());
  }
  co_return coldRecord(bucket, key, *info);
}

asio::awaitable<Result<std::unique_ptr<core::AsyncObjectReader>>> TierManager::openCold(
    std::string bucket, std::string key) {
  auto rec = co_await headCold(bucket, key);
  EMBER_CO_TRY(rec);
  const Mapping* m = table_.find(bucket, key);
  counters_[m->index]->coldOpens++;
  cold::ColdObjectInfo info;
  info.key = m->coldKey(key);
  info.size = rec->size;
  info.etag = rec->etag;
  info.lastModifiedMs = rec->mtimeMs;
  info.contentType = rec->content.contentType;
  auto fill = co_await onTier<Result<std::shared_ptr<ColdFill>>>(
      [this, m, info, bucket, key]() -> asio::awaitable<Result<std::shared_ptr<ColdFill>>> {
        auto f = fills_->acquire(m->index, *cold_[m->index], info.key, info);
        if (f) {
          std::weak_ptr<ColdFill> weak = *f;
          (*f)->setOnComplete([this, weak, m, bucket, key] {
            if (auto strong = weak.lock()) {
              ingest(std::move(strong), m, bucket, key);
            }
          });
        }
        co_return f;
      });
  EMBER_CO_TRY(fill);
  co_return makeColdReader(std::move(*fill), std::move(*rec));
}

void TierManager::ingest(std::shared_ptr<ColdFill> fill, const Mapping* m, std::string bucket,
                         std::string key) {
  // On the tier thread; the copy into the store runs on the tier's pool. The fill stays alive
  // (and registered, so new readers share it) until the object is warm.
  asio::post(pool_->executor(), [this, fill, m, bucket, key] {
    std::string tk = tierKey(bucket, key);
    const cold::ColdObjectInfo& info = fill->info();
    Status s = [&]() -> Status {
      auto lock = wb_->lockKey(tk);
      if (wb_->dirty(tk)) {
        return makeError(Code::kAlreadyExists, "written locally meanwhile");
      }
      auto w = inner_->newWriter();
      EMBER_TRY(w);
      int fd = ::open(fill->path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        return makeError(Code::kIOError, "cannot open the fill file");
      }
      std::vector<char> buf(1 << 20);
      uint64_t done = 0;
      Status copied;
      while (done < info.size && copied) {
        ssize_t n = ::pread(fd, buf.data(), std::min<uint64_t>(buf.size(), info.size - done),
                            static_cast<off_t>(done));
        if (n <= 0) {
          copied = makeError(Code::kIOError, "short fill file");
          break;
        }
        copied = (*w)->append(std::span<const char>(buf.data(), static_cast<size_t>(n)));
        done += static_cast<uint64_t>(n);
      }
      ::close(fd);
      if (!copied) {
        (*w)->abort();
        return copied;
      }
      auto extent = (*w)->finish();
      EMBER_TRY(extent);
      core::ObjectRecord rec = coldRecord(bucket, key, info);
      rec.attrs.clear();
      rec.extents.push_back(std::move(*extent));
      EMBER_TRY(inner_->putObject(std::move(rec), [](const core::ObjectRecord* cur) {
        return cur ? makeError(Code::kAlreadyExists, "written locally meanwhile") : Status::ok();
      }));
      auto committed = inner_->getObject(bucket, key);
      EMBER_TRY(committed);
      return db_->putClean(tk, CleanEntry{committed->versionId, info.etag, nowMillis()});
    }();
    if (s) {
      evictor_->touch(tk);
      counters_[m->index]->ingested++;
      counters_[m->index]->coldBytes += info.size;
    } else if (s.code() != Code::kAlreadyExists) {
      spdlog::warn("tier: read-through of {}/{} could not become warm: {}", bucket, key,
                   s.toString());
    }
    // The fill stays registered a while after the object is warm: a reader that missed the warm
    // copy just before the ingest committed still joins this fill instead of fetching again.
    std::string coldKey = fill->coldKey();
    asio::post(ioc_, [this, m, coldKey] {
      auto later = std::make_shared<asio::steady_timer>(ioc_, std::chrono::seconds(30));
      later->async_wait([this, later, m, coldKey](boost::system::error_code ec) {
        if (!ec && !stopping_) {
          fills_->drop(m->index, coldKey);
        }
      });
    });
  });
}

asio::awaitable<Result<core::ListOutput>> TierManager::mergeList(const core::ListInput& in,
                                                                 core::ListOutput local) {
  std::vector<MergeSource> sources;
  for (const Mapping* m : table_.forBucket(in.bucket)) {
    cold::ColdStore* store = cold_[m->index].get();
    ColdLister direct = [this, store](std::string prefix, std::string marker, int maxKeys,
                                      std::optional<std::string> delimiter)
        -> asio::awaitable<Result<cold::ColdListPage>> {
      co_return co_await onTier<Result<cold::ColdListPage>>(
          [store, prefix, marker, maxKeys, delimiter]()
              -> asio::awaitable<Result<cold::ColdListPage>> {
            co_return co_await store->list(prefix, marker, maxKeys, delimiter);
          });
    };
    sources.push_back(MergeSource{m, listCache_.wrap(m->index, m->cfg.listTtl, std::move(direct)),
                                  listCache_.resumer(m->index, m->cfg.listTtl)});
  }
  auto hidden = [this, &in](std::string_view localKey) {
    return wb_->pendingDelete(tierKey(in.bucket, localKey));
  };
  auto merged = co_await mergeColdListing(in, std::move(local), sources, hidden, options_.owner);
  if (!merged) {
    co_return unexpected(merged.error().code(),
                         "listing the cold store: " + merged.error().message());
  }
  co_return merged;
}

}  // namespace ember::tier
