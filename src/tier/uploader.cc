// TierManager's uploader: drains the write-back queue into the cold stores, at most
// uploadConcurrency keys at a time, on the tier thread. Blocking steps (the snapshot under the
// key's stripe, reading the warm bytes, recording the outcome) run on the tier's pool.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "tier/manager.h"

namespace ember::tier {

namespace {

// The warm version's bytes, read on the blocking pool in 1 MiB steps.
class ReaderSource : public ByteSource {
 public:
  ReaderSource(store::ObjectReader& reader, BlockingPool& pool) : reader_(reader), pool_(pool) {}
  asio::awaitable<Result<size_t>> read(std::span<char> buf) override {
    uint64_t at = offset_;
    store::ObjectReader* r = &reader_;
    auto n = co_await offload(pool_, [r, at, buf] { return r->readAt(at, buf); });
    if (n) {
      offset_ += *n;
    }
    co_return n;
  }

 private:
  store::ObjectReader& reader_;
  BlockingPool& pool_;
  uint64_t offset_ = 0;
};

// Azure metadata names must be C# identifiers; S3 takes HTTP tokens. Names that the target
// cannot carry are left out (logged once per upload) rather than failing the upload forever.
bool metadataNameFits(const cold::ColdLocation& loc, std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    bool ok = std::isalnum(c) || c == '_' ||
              (loc.kind == cold::ColdLocation::Kind::kS3 && (c == '-' || c == '.'));
    if (!ok || (i == 0 && std::isdigit(c) && loc.kind == cold::ColdLocation::Kind::kAzure)) {
      return false;
    }
  }
  return true;
}

}  // namespace

void TierManager::poke() {
  asio::post(ioc_, [this] { wake_->cancel(); });
}

asio::awaitable<void> TierManager::uploaderLoop() {
  while (!stopping_) {
    std::chrono::steady_clock::time_point wakeAt = std::chrono::steady_clock::time_point::max();
    while (uploading_ < options_.uploadConcurrency) {
      auto tk = wb_->nextReady(&wakeAt);
      if (!tk) {
        break;
      }
      ++uploading_;
      asio::co_spawn(ioc_, uploadOne(std::move(*tk)), asio::detached);
    }
    if (uploading_ >= options_.uploadConcurrency) {
      wakeAt = std::chrono::steady_clock::time_point::max();  // an upload ending pokes us
    }
    wake_->expires_at(wakeAt);
    boost::system::error_code ec;
    co_await wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> TierManager::uploadOne(std::string tk) {
  auto task = co_await offload(*pool_, [this, tk] { return wb_->snapshot(tk); });
  UploadTask t;
  Result<std::string> outcome = std::string();
  uint64_t bytes = 0;
  if (!task) {
    t.tk = tk;
    outcome = unexpected(task.error());
  } else {
    t = std::move(*task);
  }
  if (task && !t.nothingToDo && t.mapping) {
    const Mapping& m = *t.mapping;
    cold::ColdStore& store = *cold_[m.index];
    auto [bucket, key] = splitTierKey(t.tk);
    std::string coldKey = m.coldKey(key);
    if (t.op == Op::kPut) {
      const store::ObjectRecord& rec = t.reader->record();
      cold::PutOptions po;
      if (!rec.content.contentType.empty()) {
        po.contentType = rec.content.contentType;
      }
      for (const auto& [name, value] : rec.userMeta) {
        if (metadataNameFits(m.cfg.cold.location, name)) {
          po.metadata.emplace_back(name, value);
        } else {
          spdlog::debug("tier: metadata '{}' of {}/{} cannot be stored in {}; left out", name,
                        bucket, key, m.cfg.cold.location.toString());
        }
      }
      ReaderSource src(*t.reader, *pool_);
      outcome = co_await store.put(coldKey, src, rec.size, std::move(po));
      bytes = rec.size;
    } else {
      Status s = co_await store.del(coldKey);
      if (s || s.code() == Code::kNotFound) {
        outcome = std::string();
      } else {
        outcome = unexpected(s);
      }
    }
    if (!outcome) {
      // A warning for a key's first failure; its retries (every key retries while the cold store
      // is down) log at debug level, or an outage would flood the log.
      auto level = wb_->lastError(t.tk).empty() ? spdlog::level::warn : spdlog::level::debug;
      spdlog::log(level, "tier: write-back of {}/{} to {} failed (will retry): {}", bucket, key,
                  m.cfg.cold.location.toString(), outcome.error().toString());
    }
    listCache_.invalidate(m.index);
  }
  co_await offload(*pool_, [this, &t, &outcome, bytes] { wb_->finish(t, outcome, bytes); });
  // The reader (which pins the version's bytes) is released here, on the tier thread.
  t.reader.reset();
  --uploading_;
  wake_->cancel();
}

}  // namespace ember::tier
