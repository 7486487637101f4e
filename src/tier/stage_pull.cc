// Staging jobs: pulling one object from cold into the warm store (with retries), and the rate
// limit.
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "common/time_util.h"
#include "core/tier_hooks.h"
#include "tier/stage_internal.h"

namespace ember::tier {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kAppendBytes = 1 << 20;  // bytes gathered before one store append

bool retryableCode(Code c) {
  switch (c) {
    case Code::kNotFound:
    case Code::kNoSuchKey:
    case Code::kPermissionDenied:
    case Code::kInvalidArgument:
    case Code::kInvalidRange:
      return false;
    default:
      return true;
  }
}

std::string coldReason(const Status& s) {
  if (s.code() == Code::kNotFound) {
    return "not found in cold (deleted after it was listed?)";
  }
  return "cold GET: " + s.toString();
}

// Gathers what the cold GET delivers and appends it to a store writer from the blocking pool.
class WriterSink final : public ByteSink {
 public:
  using Throttle = std::function<asio::awaitable<void>(uint64_t)>;
  WriterSink(Throttle throttle, BlockingPool& pool, std::shared_ptr<store::DataWriter> w)
      : throttle_(std::move(throttle)), pool_(pool), w_(std::move(w)) {}

  asio::awaitable<Status> write(std::span<const char> data) override {
    co_await throttle_(data.size());
    buf_.append(data.data(), data.size());
    written_ += data.size();
    if (buf_.size() >= kAppendBytes) {
      co_return co_await flush();
    }
    co_return Status::ok();
  }
  asio::awaitable<Status> flush() {
    if (buf_.empty()) {
      co_return Status::ok();
    }
    std::string b = std::move(buf_);
    buf_.clear();
    auto w = w_;
    co_return co_await offload(pool_, [w, b = std::move(b)]() {
      return w->append(std::span<const char>(b.data(), b.size()));
    });
  }
  uint64_t written() const { return written_; }

 private:
  Throttle throttle_;
  BlockingPool& pool_;
  std::shared_ptr<store::DataWriter> w_;
  std::string buf_;
  uint64_t written_ = 0;
};

// Keeps a range in memory.
class StringSink final : public ByteSink {
 public:
  using Throttle = std::function<asio::awaitable<void>(uint64_t)>;
  StringSink(Throttle throttle, std::string& out) : throttle_(std::move(throttle)), out_(out) {}
  asio::awaitable<Status> write(std::span<const char> data) override {
    co_await throttle_(data.size());
    out_.append(data.data(), data.size());
    co_return Status::ok();
  }

 private:
  Throttle throttle_;
  std::string& out_;
};

// One batch of range fetches of a large object.
struct Batch {
  explicit Batch(asio::any_io_executor ex, size_t n)
      : bufs(n), results(n), left(n), done(ex, Clock::time_point::max()) {}
  std::vector<std::string> bufs;
  std::vector<Result<cold::ColdObjectInfo>> results;
  size_t left;
  asio::steady_timer done;
};

}  // namespace

// --- the token bucket ---

TokenBucket::TokenBucket(uint64_t rate, Clock::time_point now, uint64_t burst)
    : rate_(static_cast<double>(std::max<uint64_t>(rate, 1))),
      burst_(static_cast<double>(burst ? burst : std::max<uint64_t>(rate / 4, 64 << 10))),
      tokens_(burst_),
      last_(now) {}

TokenBucket::Clock::duration TokenBucket::take(uint64_t n, Clock::time_point now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
    last_ = now;
  }
  tokens_ -= static_cast<double>(n);
  if (tokens_ >= 0) {
    return Clock::duration::zero();
  }
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-tokens_ / rate_));
}

asio::awaitable<void> Stager::throttle(std::shared_ptr<Run> run, uint64_t bytes) {
  Job& job = *run->job;
  if (!job.bucket) {
    co_return;
  }
  auto wait = job.bucket->take(bytes, Clock::now());
  if (wait > Clock::duration::zero()) {
    asio::steady_timer t(deps_.executor);
    t.expires_after(wait);
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }
}

// --- one object ---

asio::awaitable<Stager::Outcome> Stager::pull(std::shared_ptr<Run> run,
                                              const cold::ColdObjectInfo& listed) {
  Outcome o;
  for (unsigned attempt = 1;; ++attempt) {
    o = co_await pullOnce(run, listed);
    o.attempts = attempt;
    if (o.kind != Outcome::kFailed || !o.retryable || attempt >= options_.attempts ||
        run->job->cancel) {
      co_return o;
    }
    asio::steady_timer t(deps_.executor);
    t.expires_after(options_.retryBase * (1 << std::min(attempt - 1, 10u)));
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }
}

asio::awaitable<Stager::Outcome> Stager::pullOnce(std::shared_ptr<Run> run,
                                                  const cold::ColdObjectInfo& listed) {
  std::shared_ptr<Job> job = run->job;
  const Mapping* m = job->mapping;
  const std::string bucket = m->cfg.bucket;
  const std::string key = m->localKey(listed.key);
  const std::string tk = tierKey(bucket, key);
  store::ObjectStore* inner = deps_.inner;
  StateDb* db = deps_.db;
  WriteBack* wb = deps_.wb;
  auto failed = [](const Status& s, std::string reason) {
    Outcome o;
    o.kind = Outcome::kFailed;
    o.reason = std::move(reason);
    o.retryable = retryableCode(s.code());
    return o;
  };
  auto skipped = [](std::string reason) {
    Outcome o;
    o.kind = Outcome::kSkipped;
    o.reason = std::move(reason);
    return o;
  };

  // 1. Already warm with this cold ETag, or written locally: nothing to pull.
  struct Pre {
    Status error;
    std::string skip;
    std::optional<std::string> staleVersion;  // a stale clean copy to replace
  };
  const std::string listedEtag = listed.etag;
  Pre pre = co_await offload(*deps_.pool, [=]() {
    Pre p;
    if (wb->dirty(tk)) {
      p.skip = "written locally";
      return p;
    }
    auto rec = inner->getObject(bucket, key);
    if (!rec) {
      if (rec.error().code() != Code::kNoSuchKey && rec.error().code() != Code::kNotFound) {
        p.error = rec.error();
      }
      return p;
    }
    auto clean = db->getClean(tk);
    bool same = rec->etag == listedEtag ||
                (clean && *clean && (*clean)->versionId == rec->versionId &&
                 (*clean)->coldEtag == listedEtag);
    if (same) {
      p.skip = "already warm";
    } else {
      p.staleVersion = rec->versionId;
    }
    return p;
  });
  if (!pre.error) {
    co_return failed(pre.error, "local store: " + pre.error.toString());
  }
  if (!pre.skip.empty()) {
    co_return skipped(pre.skip);
  }

  // 2. Fetch into a store writer.
  auto nw = co_await offload(*deps_.pool, [inner]() { return inner->newWriter(); });
  if (!nw) {
    co_return failed(nw.error(), "local store: " + nw.error().toString());
  }
  std::shared_ptr<store::DataWriter> w(std::move(*nw));
  auto abortWriter = [this, w]() -> asio::awaitable<void> {
    co_await offload(*deps_.pool, [w]() { w->abort(); });
  };
  WriterSink::Throttle thr = [this, run](uint64_t n) { return throttle(run, n); };
  const std::string coldKey = listed.key;
  cold::ColdStore* cold = run->cold;
  const uint64_t chunk = std::max<uint64_t>(options_.chunkBytes, 1);
  Result<cold::ColdObjectInfo> got = unexpected(Code::kInternal, "not fetched");
  if (listed.size >= 2 * chunk) {
    // Ranges, a few at a time, appended in order.
    const uint64_t n = (listed.size + chunk - 1) / chunk;
    const uint64_t k = std::max(1u, options_.chunkParallel);
    std::optional<cold::ColdObjectInfo> first;
    Status bad;
    for (uint64_t b = 0; b < n && bad && !job->cancel; b += k) {
      const size_t cnt = static_cast<size_t>(std::min(k, n - b));
      auto batch = std::make_shared<Batch>(deps_.executor, cnt);
      for (size_t i = 0; i < cnt; ++i) {
        cold::ByteRange range{(b + i) * chunk, chunk};
        asio::co_spawn(
            deps_.executor,
            [batch, i, cold, coldKey, range, thr]() -> asio::awaitable<void> {
              StringSink sink(thr, batch->bufs[i]);
              batch->results[i] = co_await cold->get(coldKey, range, sink);
              if (--batch->left == 0) {
                batch->done.cancel();
              }
            },
            asio::detached);
      }
      while (batch->left > 0) {
        auto [ec] = co_await batch->done.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)ec;
      }
      for (size_t i = 0; i < cnt && bad; ++i) {
        if (!batch->results[i]) {
          bad = batch->results[i].error();
          break;
        }
        if (!first) {
          first = *batch->results[i];
        } else if (batch->results[i]->etag != first->etag) {
          bad = makeError(Code::kPreconditionFailed, "the cold object changed while staging");
          break;
        }
        std::string bytes = std::move(batch->bufs[i]);
        bad = co_await offload(*deps_.pool, [w, bytes = std::move(bytes)]() {
          return w->append(std::span<const char>(bytes.data(), bytes.size()));
        });
      }
    }
    if (job->cancel && bad) {
      bad = makeError(Code::kUnavailable, "cancelled");
    }
    if (!bad) {
      got = unexpected(bad);
    } else if (first->size != listed.size) {
      got = unexpected(Code::kPreconditionFailed, "the cold object changed since it was listed");
    } else {
      got = *first;
    }
  } else {
    WriterSink sink(thr, *deps_.pool, w);
    got = co_await cold->get(coldKey, std::nullopt, sink);
    if (got) {
      Status flushed = co_await sink.flush();
      if (!flushed) {
        got = unexpected(flushed);
      } else if (sink.written() != got->size) {
        got = unexpected(Code::kIncompleteBody,
                         fmt::format("got {} of {} bytes", sink.written(), got->size));
      }
    }
  }
  if (!got) {
    co_await abortWriter();
    const Status& e = got.error();
    bool local = e.code() == Code::kIOError || e.code() == Code::kInsufficientStorage;
    co_return failed(e, local ? "local store: " + e.toString() : coldReason(e));
  }

  // 3. Commit as a clean warm object, under the key's stripe: never over a local write.
  cold::ColdObjectInfo info = *got;
  std::optional<std::string> stale = pre.staleVersion;
  std::string owner = options_.owner;
  Outcome o = co_await offload(*deps_.pool, [=]() -> Outcome {
    auto lock = wb->lockKey(tk);
    if (wb->dirty(tk)) {
      w->abort();
      Outcome s;
      s.kind = Outcome::kSkipped;
      s.reason = "written locally meanwhile";
      return s;
    }
    auto extent = w->finish();
    if (!extent) {
      Outcome f;
      f.kind = Outcome::kFailed;
      f.reason = "local store: " + extent.error().toString();
      f.retryable = true;
      return f;
    }
    core::ObjectRecord rec = recordOfColdObject(bucket, key, info, owner);
    rec.extents.push_back(std::move(*extent));
    Status put = inner->putObject(std::move(rec), [&](const core::ObjectRecord* cur) -> Status {
      if (cur == nullptr || (stale && cur->versionId == *stale)) {
        return Status::ok();
      }
      return makeError(Code::kAlreadyExists, "a warm copy appeared meanwhile");
    });
    Outcome r;
    if (!put) {
      r.kind = put.code() == Code::kAlreadyExists ? Outcome::kSkipped : Outcome::kFailed;
      r.reason = put.code() == Code::kAlreadyExists ? put.message()
                                                    : "local store: " + put.toString();
      r.retryable = true;
      return r;
    }
    auto committed = inner->getObject(bucket, key);
    if (committed) {
      Status saved = db->putClean(tk, CleanEntry{committed->versionId, info.etag, nowMillis()});
      saved.ignoreError();  // losing it costs a revalidation
    }
    r.kind = Outcome::kDone;
    r.bytes = info.size;
    return r;
  });
  co_return o;
}

}  // namespace ember::tier
