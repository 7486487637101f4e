// Read-through fills (fill.h): chunk states, single-flight fetches into a sparse file, waiters.
#include "tier/fill.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <exception>
#include <limits>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>

namespace ember::tier {

namespace {

// kQueued: a reader needs it but maxFetchesPerObject fetches are in flight; it starts when one
// ends. kFailed behaves as kAbsent (the next reader that needs it fetches it again).
enum class ChunkState : uint8_t { kAbsent, kQueued, kFetching, kPresent, kFailed };

// One reader waiting for one chunk. The fetch sets `result` and cancels the timer to wake it.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex)
      : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  std::optional<Status> result;
};

Status ioError(std::string_view what) {
  return makeError(Code::kIOError, fmt::format("fill: {}: {}", what, std::strerror(errno)));
}

// Writes one chunk's bytes at their place in the fill file, in order; refuses bytes past it.
class ChunkSink final : public ByteSink {
 public:
  ChunkSink(int fd, uint64_t begin, uint64_t end) : fd_(fd), pos_(begin), end_(end) {}
  asio::awaitable<Status> write(std::span<const char> data) override { co_return writeNow(data); }
  uint64_t pos() const { return pos_; }

 private:
  Status writeNow(std::span<const char> data) {
    if (data.size() > end_ - pos_) {
      return makeError(Code::kCorruption, "fill: the cold store sent bytes past the range asked");
    }
    while (!data.empty()) {
      const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(pos_));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return ioError("pwrite");
      }
      pos_ += static_cast<uint64_t>(n);
      data = data.subspan(static_cast<size_t>(n));
    }
    return Status::ok();
  }
  int fd_;
  uint64_t pos_;
  uint64_t end_;
};

}  // namespace

struct ColdFill::Impl {
  Impl(asio::any_io_executor ex, cold::ColdStore& c, std::string key, cold::ColdObjectInfo i,
       FillOptions o, std::filesystem::path p, int f)
      : executor(std::move(ex)), cold(c), coldKey(std::move(key)), info(std::move(i)),
        options(std::move(o)), path(std::move(p)), fd(f),
        chunkCount((info.size + options.chunkSize - 1) / options.chunkSize),
        chunks(chunkCount, ChunkState::kAbsent), waiters(chunkCount) {
    complete = chunkCount == 0;
  }

  // Fixed at creation (readable from any thread).
  asio::any_io_executor executor;
  cold::ColdStore& cold;
  const std::string coldKey;
  const cold::ColdObjectInfo info;
  const FillOptions options;
  const std::filesystem::path path;
  const int fd;
  const uint64_t chunkCount;

  // Executor-only state.
  std::vector<ChunkState> chunks;
  std::vector<std::vector<std::shared_ptr<Waiter>>> waiters;  // per chunk
  std::deque<uint64_t> queued;                                // kQueued chunks, in order
  unsigned inFlight = 0;
  uint64_t presentChunks = 0;
  std::function<void()> onComplete;
  bool onCompleteRan = false;

  // Thread-safe mirrors.
  std::atomic<bool> complete{false};
  std::atomic<bool> stale{false};
  std::atomic<uint64_t> presentBytes{0};
  std::atomic<uint64_t> chunkFetches{0};
  std::atomic<uint64_t> bytesFetched{0};

  uint64_t chunkBegin(uint64_t c) const { return c * options.chunkSize; }
  uint64_t chunkLen(uint64_t c) const {
    return std::min(options.chunkSize, info.size - chunkBegin(c));
  }
  Status staleError() const {
    return makeError(Code::kPreconditionFailed,
                     fmt::format("cold object {} changed (ETag is no longer {})", coldKey,
                                 info.etag));
  }

  void wake(uint64_t c, const Status& s) {
    for (auto& w : waiters[c]) {
      w->result = s;
      w->timer.cancel();
    }
    waiters[c].clear();
  }

  void runOnComplete() {
    if (!onComplete || onCompleteRan) {
      return;
    }
    onCompleteRan = true;
    auto fn = std::move(onComplete);
    onComplete = nullptr;
    fn();
  }

  // Starts the fetch of chunk c now (the caller checked inFlight < maxFetchesPerObject).
  static void spawn(const std::shared_ptr<ColdFill>& self, uint64_t c) {
    Impl& d = *self->impl_;
    d.chunks[c] = ChunkState::kFetching;
    ++d.inFlight;
    ++d.chunkFetches;
    auto op = fetch(self, c);
    // The handler holds the fill weakly: the fetch frame holds it while the fetch runs, and a
    // fill nobody reads must be droppable as soon as its last fetch ended.
    std::weak_ptr<ColdFill> weak = self;
    asio::co_spawn(d.executor, std::move(op), [weak, c](std::exception_ptr e) {
      auto fill = weak.lock();
      if (e && fill) {  // fetch() reports errors as values; this is bad_alloc and the like
        fill->impl_->finish(fill, c, makeError(Code::kInternal, "fill: chunk fetch threw"), false);
      }
    });
  }

  // A reader needs chunk c (absent or failed): fetch it now, or queue it behind the fetches
  // in flight.
  static void need(const std::shared_ptr<ColdFill>& self, uint64_t c) {
    Impl& d = *self->impl_;
    if (d.inFlight < d.options.maxFetchesPerObject) {
      spawn(self, c);
    } else {
      d.chunks[c] = ChunkState::kQueued;
      d.queued.push_back(c);
    }
  }

  // Read-ahead: up to readAhead chunks after c that begin before windowEnd, only while fetch
  // slots are free (read-ahead never queues, so it never delays a chunk a reader waits for).
  static void readAhead(const std::shared_ptr<ColdFill>& self, uint64_t c, uint64_t windowEnd) {
    Impl& d = *self->impl_;
    for (uint64_t i = c + 1; i < d.chunkCount && i - c <= d.options.readAhead &&
                             d.chunkBegin(i) < windowEnd;
         ++i) {
      if (d.inFlight >= d.options.maxFetchesPerObject) {
        break;
      }
      if (d.chunks[i] == ChunkState::kAbsent || d.chunks[i] == ChunkState::kFailed) {
        spawn(self, i);
      }
    }
  }

  static asio::awaitable<void> fetch(std::shared_ptr<ColdFill> self, uint64_t c) {
    Impl& d = *self->impl_;
    const uint64_t begin = d.chunkBegin(c);
    const uint64_t len = d.chunkLen(c);
    ChunkSink sink(d.fd, begin, begin + len);
    auto op = d.cold.get(d.coldKey, cold::ByteRange{begin, len}, sink);
    auto got = co_await std::move(op);
    d.bytesFetched += sink.pos() - begin;
    Status s;
    bool staleNow = false;
    if (!got) {
      s = got.error();
      // The store's own If-Match on a resumed body failed: the object changed under us.
      staleNow = s.code() == Code::kPreconditionFailed;
    } else if (got->etag != d.info.etag) {
      s = d.staleError();
      staleNow = true;
    } else if (sink.pos() != begin + len) {
      s = makeError(Code::kIncompleteBody,
                    fmt::format("fill: cold store sent {} of {} bytes of chunk {} of {}",
                                sink.pos() - begin, len, c, d.coldKey));
    }
    d.finish(self, c, s, staleNow);
  }

  // A fetch of chunk c ended with `s`: record it, wake its waiters (all waiters when the fill
  // went stale), and start queued fetches in the freed slot.
  void finish(const std::shared_ptr<ColdFill>& self, uint64_t c, const Status& s, bool staleNow) {
    --inFlight;
    if (s.isOk()) {
      chunks[c] = ChunkState::kPresent;
      presentBytes += chunkLen(c);
      ++presentChunks;
      wake(c, s);
      if (presentChunks == chunkCount && !stale) {
        complete = true;
        runOnComplete();
      }
    } else {
      chunks[c] = ChunkState::kFailed;
      if (staleNow && !stale.exchange(true)) {
        const Status err = s.code() == Code::kPreconditionFailed ? s : staleError();
        for (uint64_t i = 0; i < chunkCount; ++i) {
          if (chunks[i] == ChunkState::kQueued) {
            chunks[i] = ChunkState::kAbsent;
          }
          wake(i, err);
        }
        queued.clear();
      } else {
        wake(c, s);
      }
    }
    while (!stale && inFlight < options.maxFetchesPerObject && !queued.empty()) {
      const uint64_t next = queued.front();
      queued.pop_front();
      if (chunks[next] == ChunkState::kQueued) {
        spawn(self, next);
      }
    }
  }

  // read()'s first half, on the fill's executor: fetches (or waits for) the chunk holding
  // `offset` and returns how many bytes from `offset` may be read now (0 at the end).
  static asio::awaitable<Result<size_t>> waitReadable(std::shared_ptr<ColdFill> self,
                                                      uint64_t offset, size_t size,
                                                      uint64_t windowEnd) {
    Impl& d = *self->impl_;
    if (d.stale) {
      co_return unexpected(d.staleError());
    }
    if (offset >= d.info.size || size == 0) {
      co_return size_t{0};
    }
    const uint64_t c = offset / d.options.chunkSize;
    if (d.chunks[c] == ChunkState::kAbsent || d.chunks[c] == ChunkState::kFailed) {
      need(self, c);
    }
    while (d.chunks[c] != ChunkState::kPresent) {
      if (d.stale) {
        co_return unexpected(d.staleError());
      }
      if (d.chunks[c] == ChunkState::kAbsent || d.chunks[c] == ChunkState::kFailed) {
        need(self, c);
      }
      auto w = std::make_shared<Waiter>(d.executor);
      d.waiters[c].push_back(w);
      auto waited = co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)waited;
      if (!w->result) {  // the caller's operation was cancelled, not woken by a fetch
        auto& list = d.waiters[c];
        list.erase(std::remove(list.begin(), list.end(), w), list.end());
        co_return unexpected(Code::kUnavailable, "fill: read cancelled");
      }
      if (!w->result->isOk()) {
        co_return unexpected(*w->result);
      }
    }
    // Read-ahead starts once the chunk asked for is here: a first read does not share the link
    // (and the cold store) with read-ahead fetches, so its first byte comes sooner; later chunks
    // are already in flight by the time a sequential reader gets to them.
    readAhead(self, c, windowEnd);
    const uint64_t end = d.chunkBegin(c) + d.chunkLen(c);
    co_return static_cast<size_t>(std::min<uint64_t>(size, end - offset));
  }

  // read()'s second half, on the caller's thread: a present chunk is never written again, so its
  // bytes can be read without the executor (keeping the copying off the one tier thread).
  static Result<size_t> readPresent(const Impl& d, uint64_t offset, std::span<char> buf) {
    size_t done = 0;
    while (done < buf.size()) {
      const ssize_t n = ::pread(d.fd, buf.data() + done, buf.size() - done,
                                static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return unexpected(ioError("pread"));
      }
      if (n == 0) {
        return unexpected(Code::kIOError, "fill: the fill file is shorter than the object");
      }
      done += static_cast<size_t>(n);
    }
    return done;
  }
};

Result<std::shared_ptr<ColdFill>> ColdFill::create(asio::any_io_executor executor,
                                                  cold::ColdStore& cold, std::string coldKey,
                                                  cold::ColdObjectInfo info, FillOptions options) {
  options.chunkSize = std::max<uint64_t>(1, options.chunkSize);
  options.maxFetchesPerObject = std::max(1u, options.maxFetchesPerObject);
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return unexpected(Code::kIOError, fmt::format("fill: cannot create {}: {}",
                                                  options.dir.string(), ec.message()));
  }
  std::string name = (options.dir / "fill-XXXXXX").string();
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) {
    return unexpected(ioError(fmt::format("create a file in {}", options.dir.string())));
  }
  if (::ftruncate(fd, static_cast<off_t>(info.size)) != 0) {
    Status s = ioError("ftruncate");
    ::close(fd);
    ::unlink(name.c_str());
    return unexpected(std::move(s));
  }
  auto impl = std::make_unique<Impl>(std::move(executor), cold, std::move(coldKey),
                                     std::move(info), std::move(options),
                                     std::filesystem::path(name), fd);
  return std::shared_ptr<ColdFill>(new ColdFill(std::move(impl)));
}

ColdFill::ColdFill(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ColdFill::~ColdFill() {
  ::close(impl_->fd);
  ::unlink(impl_->path.c_str());  // ENOENT when the ingest moved the file away: fine
}

const cold::ColdObjectInfo& ColdFill::info() const { return impl_->info; }
const std::string& ColdFill::coldKey() const { return impl_->coldKey; }

asio::awaitable<Result<size_t>> ColdFill::read(uint64_t offset, std::span<char> buf,
                                               uint64_t windowEnd) {
  auto self = shared_from_this();
  auto op = Impl::waitReadable(self, offset, buf.size(), windowEnd);
  // Runs on the fill's executor; the completion resumes this coroutine on the caller's.
  auto r = co_await asio::co_spawn(self->impl_->executor, std::move(op), asio::use_awaitable);
  if (!r || *r == 0) {
    co_return r;
  }
  co_return Impl::readPresent(*self->impl_, offset, buf.first(*r));
}

Result<size_t> ColdFill::readBlocking(uint64_t offset, std::span<char> buf, uint64_t windowEnd) {
  auto self = shared_from_this();
  auto op = Impl::waitReadable(self, offset, buf.size(), windowEnd);
  auto fut = asio::co_spawn(impl_->executor, std::move(op), asio::use_future);
  auto r = fut.get();
  if (!r || *r == 0) {
    return r;
  }
  return Impl::readPresent(*impl_, offset, buf.first(*r));
}

bool ColdFill::complete() const { return impl_->complete; }
bool ColdFill::stale() const { return impl_->stale; }

void ColdFill::setOnComplete(std::function<void()> fn) {
  auto self = shared_from_this();
  asio::dispatch(impl_->executor, [self, fn = std::move(fn)]() mutable {
    Impl& d = *self->impl_;
    if (d.onCompleteRan) {
      return;
    }
    d.onComplete = std::move(fn);
    if (d.complete) {
      d.runOnComplete();
    }
  });
}

const std::filesystem::path& ColdFill::path() const { return impl_->path; }
uint64_t ColdFill::presentBytes() const { return impl_->presentBytes; }

FillStats ColdFill::stats() const {
  FillStats s;
  s.chunkFetches = impl_->chunkFetches;
  s.bytesFetched = impl_->bytesFetched;
  return s;
}

// --- the reader a cold GET gets ---

namespace {

class ColdReader final : public core::AsyncObjectReader {
 public:
  ColdReader(std::shared_ptr<ColdFill> fill, core::ObjectRecord record)
      : fill_(std::move(fill)), record_(std::move(record)), windowEnd_(record_.size) {}

  const core::ObjectRecord& record() const override { return record_; }

  void setWindow(uint64_t offset, uint64_t length) override {
    windowEnd_ = offset + std::min(length, std::numeric_limits<uint64_t>::max() - offset);
  }

  Result<size_t> readAt(uint64_t offset, std::span<char> buf) override {
    return fill_->readBlocking(offset, buf, windowEnd_);
  }

  // Not a coroutine: the fill's read() holds the fill alive itself.
  asio::awaitable<Result<size_t>> readAsync(uint64_t offset, std::span<char> buf) override {
    return fill_->read(offset, buf, windowEnd_);
  }

 private:
  std::shared_ptr<ColdFill> fill_;
  core::ObjectRecord record_;
  uint64_t windowEnd_;
};

}  // namespace

std::unique_ptr<core::AsyncObjectReader> makeColdReader(std::shared_ptr<ColdFill> fill,
                                                         core::ObjectRecord record) {
  return std::make_unique<ColdReader>(std::move(fill), std::move(record));
}

// --- registry ---

FillRegistry::FillRegistry(asio::any_io_executor executor, FillOptions options,
                           uint64_t budgetBytes)
    : executor_(std::move(executor)), options_(std::move(options)), budget_(budgetBytes) {}

Result<std::shared_ptr<ColdFill>> FillRegistry::acquire(size_t mapping, cold::ColdStore& cold,
                                                        const std::string& coldKey,
                                                        const cold::ColdObjectInfo& info) {
  Key key{mapping, coldKey};
  auto it = fills_.find(key);
  if (it != fills_.end()) {
    const auto& fill = it->second.fill;
    if (fill->info().etag == info.etag && fill->info().size == info.size && !fill->stale()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return fill;
    }
    erase(it);  // readers still holding the old fill keep it alive
  }
  auto made = ColdFill::create(executor_, cold, coldKey, info, options_);
  EMBER_TRY(made);
  lru_.push_front(key);
  fills_.emplace(std::move(key), Entry{*made, lru_.begin()});
  trim();
  return *made;
}

void FillRegistry::drop(size_t mapping, const std::string& coldKey) {
  auto it = fills_.find(Key{mapping, coldKey});
  if (it != fills_.end()) {
    erase(it);
  }
}

size_t FillRegistry::size() const { return fills_.size(); }

uint64_t FillRegistry::retainedBytes() const {
  uint64_t total = 0;
  for (const auto& [key, entry] : fills_) {
    total += entry.fill->presentBytes();
  }
  return total;
}

void FillRegistry::erase(std::map<Key, Entry>::iterator it) {
  lru_.erase(it->second.lru);
  fills_.erase(it);
}

// Drops idle fills (held by nobody else: no reader, no fetch in flight), stale ones always, the
// others least recently acquired first while the retained bytes exceed the budget.
void FillRegistry::trim() {
  uint64_t total = retainedBytes();
  auto it = lru_.end();
  while (it != lru_.begin()) {
    --it;
    auto found = fills_.find(*it);
    const auto& fill = found->second.fill;
    if (fill.use_count() == 1 && (fill->stale() || total > budget_)) {
      total -= std::min(total, fill->presentBytes());
      auto next = std::next(it);
      fills_.erase(found);
      lru_.erase(it);
      it = next;
    }
  }
}

}  // namespace ember::tier
