#pragma once
// MemColdStore: an in-memory twin of cold::ColdStore for unit tests (never used by emberd).
// Objects live in a map; every call is counted and every get's range recorded, so tests can
// assert "one GET per chunk"; failures, delays, a gate holding gets and object changes can be
// injected. The test-side methods (putObject, failNextGets, counts, ...) are thread-safe; the
// ColdStore methods run on one executor, like the real stores.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "cold/cold_store.h"

namespace ember::tier {

class MemColdStore final : public cold::ColdStore {
 public:
  struct Object {
    std::string bytes;
    std::string etag;
    int64_t mtimeMs = 0;
    std::string contentType = "application/octet-stream";
    std::vector<std::pair<std::string, std::string>> metadata;
  };
  struct Counts {
    uint64_t heads = 0, gets = 0, puts = 0, dels = 0, lists = 0;
  };
  struct GetCall {
    std::string key;
    uint64_t offset = 0;
    std::optional<uint64_t> length;  // as asked (absent: to the end / no range)
  };

  explicit MemColdStore(asio::any_io_executor executor, cold::ColdLocation location = {})
      : executor_(std::move(executor)), location_(std::move(location)),
        gate_(executor_, asio::steady_timer::time_point::max()) {
    if (location_.container.empty()) {
      location_.container = "mem-cold";
    }
  }

  // --- test side (thread-safe) ---

  // Creates or replaces an object; returns its ETag (a fresh one unless `etag` is given).
  std::string putObject(const std::string& key, std::string bytes, std::string etag = {},
                        int64_t mtimeMs = 1'700'000'000'000, std::string contentType = {}) {
    std::lock_guard lock(mu_);
    Object o;
    o.bytes = std::move(bytes);
    o.etag = etag.empty() ? freshEtagLocked() : std::move(etag);
    o.mtimeMs = mtimeMs;
    if (!contentType.empty()) {
      o.contentType = std::move(contentType);
    }
    std::string out = o.etag;
    objects_[key] = std::move(o);
    return out;
  }
  void removeObject(const std::string& key) {
    std::lock_guard lock(mu_);
    objects_.erase(key);
  }
  std::optional<Object> object(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    return it == objects_.end() ? std::nullopt : std::optional<Object>(it->second);
  }
  // The next n gets fail with `error` (before sending a byte).
  void failNextGets(int n, Status error = makeError(Code::kUnavailable, "injected failure")) {
    std::lock_guard lock(mu_);
    failGets_ = n;
    failError_ = std::move(error);
  }
  void setGetDelay(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    getDelay_ = d;
  }
  // While held, gets wait (after being counted) until releaseGets().
  void holdGets() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void releaseGets() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    asio::post(executor_, [this] { gate_.cancel(); });
  }
  // Runs at the start of every get (on the store's executor), after it was counted.
  void onGet(std::function<void(const GetCall&)> fn) {
    std::lock_guard lock(mu_);
    onGet_ = std::move(fn);
  }
  Counts counts() const {
    std::lock_guard lock(mu_);
    return counts_;
  }
  std::vector<GetCall> getCalls() const {
    std::lock_guard lock(mu_);
    return getCalls_;
  }

  // --- cold::ColdStore ---

  asio::awaitable<Result<cold::ColdObjectInfo>> head(std::string key) override {
    std::lock_guard lock(mu_);
    ++counts_.heads;
    auto it = objects_.find(key);
    if (it == objects_.end()) {
      co_return unexpected(Code::kNotFound, fmt::format("mem cold: no object {}", key));
    }
    co_return infoOf(key, it->second);
  }

  asio::awaitable<Result<cold::ColdObjectInfo>> get(std::string key,
                                                    std::optional<cold::ByteRange> range,
                                                    ByteSink& sink) override {
    std::function<void(const GetCall&)> hook;
    GetCall call{key, range ? range->offset : 0, range ? range->length : std::nullopt};
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard lock(mu_);
      ++counts_.gets;
      getCalls_.push_back(call);
      hook = onGet_;
      delay = getDelay_;
    }
    if (hook) {
      hook(call);
    }
    while (isHeld()) {
      auto waited = co_await gate_.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)waited;
    }
    if (delay.count() > 0) {
      auto ex = co_await asio::this_coro::executor;
      asio::steady_timer timer(ex, delay);
      auto waited = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)waited;
    }
    // The object as it is now (after the delay), cut to the range.
    std::string bytes;
    cold::ColdObjectInfo info;
    {
      std::lock_guard lock(mu_);
      if (failGets_ > 0) {
        --failGets_;
        co_return unexpected(failError_);
      }
      auto it = objects_.find(key);
      if (it == objects_.end()) {
        co_return unexpected(Code::kNotFound, fmt::format("mem cold: no object {}", key));
      }
      const std::string& all = it->second.bytes;
      info = infoOf(key, it->second);
      uint64_t begin = 0;
      uint64_t len = all.size();
      if (range) {
        if (range->offset >= all.size() || (range->length && *range->length == 0)) {
          co_return unexpected(Code::kInvalidRange,
                               fmt::format("mem cold: range at {} of a {} byte object",
                                           range->offset, all.size()));
        }
        begin = range->offset;
        len = std::min<uint64_t>(range->length.value_or(UINT64_MAX), all.size() - begin);
      }
      bytes = all.substr(begin, len);
    }
    constexpr size_t kPiece = 64 << 10;
    for (size_t at = 0; at < bytes.size(); at += kPiece) {
      const std::span<const char> piece(bytes.data() + at, std::min(kPiece, bytes.size() - at));
      Status s = co_await sink.write(piece);
      if (!s) {
        co_return unexpected(std::move(s));
      }
      auto ex = co_await asio::this_coro::executor;
      co_await asio::post(ex, asio::use_awaitable);  // let other coroutines run between pieces
    }
    co_return info;
  }

  asio::awaitable<Result<std::string>> put(std::string key, ByteSource& source, uint64_t size,
                                           cold::PutOptions options) override {
    {
      std::lock_guard lock(mu_);
      ++counts_.puts;
    }
    std::string body;
    std::vector<char> buf(64 << 10);
    for (;;) {
      auto n = co_await source.read(std::span<char>(buf));
      if (!n) {
        co_return unexpected(n.error());
      }
      if (*n == 0) {
        break;
      }
      body.append(buf.data(), *n);
    }
    if (body.size() != size) {
      co_return unexpected(body.size() < size ? Code::kIncompleteBody : Code::kInvalidArgument,
                           fmt::format("mem cold: put of {} bytes got {}", size, body.size()));
    }
    std::lock_guard lock(mu_);
    Object o;
    o.bytes = std::move(body);
    o.etag = freshEtagLocked();
    o.mtimeMs = 1'700'000'000'000 + static_cast<int64_t>(etagCounter_);
    o.contentType = std::move(options.contentType);
    o.metadata = std::move(options.metadata);
    std::string etag = o.etag;
    objects_[key] = std::move(o);
    co_return etag;
  }

  // Deleting an absent object is kNotFound (the Azure behaviour).
  asio::awaitable<Status> del(std::string key) override {
    std::lock_guard lock(mu_);
    ++counts_.dels;
    if (objects_.erase(key) == 0) {
      co_return makeError(Code::kNotFound, fmt::format("mem cold: no object {}", key));
    }
    co_return Status::ok();
  }

  // Keys after `marker` starting with `prefix`; with a delimiter, a key holding it after the
  // prefix rolls up to prefix + (up to and including the delimiter), listed once. A page holds
  // at most maxKeys entries (objects + prefixes); nextMarker is its last entry when more follow.
  asio::awaitable<Result<cold::ColdListPage>> list(std::string prefix, std::string marker,
                                                   int maxKeys,
                                                   std::optional<std::string> delimiter) override {
    std::lock_guard lock(mu_);
    ++counts_.lists;
    if (maxKeys < 1 || maxKeys > 5000) {
      co_return unexpected(Code::kInvalidArgument, "mem cold: maxKeys must be 1..5000");
    }
    if (delimiter && delimiter->empty()) {
      delimiter.reset();
    }
    cold::ColdListPage page;
    std::string last;  // the last entry put on the page
    size_t entries = 0;
    for (auto it = objects_.upper_bound(marker); it != objects_.end(); ++it) {
      const std::string& key = it->first;
      if (!key.starts_with(prefix)) {
        if (key > prefix) {
          break;  // keys are sorted: nothing further starts with the prefix
        }
        continue;
      }
      std::optional<std::string> rollup;
      if (delimiter) {
        const size_t at = key.find(*delimiter, prefix.size());
        if (at != std::string::npos) {
          rollup = key.substr(0, at + delimiter->size());
        }
      }
      if (rollup && (*rollup <= marker || (!page.prefixes.empty() && page.prefixes.back() == *rollup))) {
        continue;  // listed on an earlier page or already on this one
      }
      if (entries == static_cast<size_t>(maxKeys)) {
        page.nextMarker = last;
        break;
      }
      ++entries;
      if (rollup) {
        page.prefixes.push_back(*rollup);
        last = *rollup;
      } else {
        page.objects.push_back(infoOf(key, it->second));
        page.objects.back().contentType.clear();  // list entries carry no content type
        last = key;
      }
    }
    co_return page;
  }

  const cold::ColdLocation& location() const override { return location_; }
  cold::ColdStoreStats stats() const override {
    std::lock_guard lock(mu_);
    cold::ColdStoreStats s;
    s.calls = counts_.heads + counts_.gets + counts_.puts + counts_.dels + counts_.lists;
    s.attempts = s.calls;
    return s;
  }
  cold::CircuitBreaker::State breakerState() const override {
    return cold::CircuitBreaker::State::kClosed;
  }

 private:
  static cold::ColdObjectInfo infoOf(const std::string& key, const Object& o) {
    cold::ColdObjectInfo info;
    info.key = key;
    info.size = o.bytes.size();
    info.etag = o.etag;
    info.lastModifiedMs = o.mtimeMs;
    info.contentType = o.contentType;
    return info;
  }
  std::string freshEtagLocked() { return fmt::format("{:032x}", ++etagCounter_); }
  bool isHeld() const {
    std::lock_guard lock(mu_);
    return held_;
  }

  asio::any_io_executor executor_;
  cold::ColdLocation location_;
  asio::steady_timer gate_;  // used on the executor only
  mutable std::mutex mu_;
  std::map<std::string, Object> objects_;
  uint64_t etagCounter_ = 0;
  Counts counts_;
  std::vector<GetCall> getCalls_;
  int failGets_ = 0;
  Status failError_;
  std::chrono::milliseconds getDelay_{0};
  bool held_ = false;
  std::function<void(const GetCall&)> onGet_;
};

}  // namespace ember::tier
