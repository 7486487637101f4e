#pragma once
// Shared by the fill tests: a tier thread and an in-memory cold store, byte patterns, and
// readers that check every read stays inside one chunk.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tier/fill.h"
#include "tier/mem_cold_store.h"

namespace ember::tier {

inline constexpr uint64_t kChunk = 64 << 10;

inline std::string pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

// Reads [from, to) with reads of at most bufSize, checking that no read crosses a chunk.
inline asio::awaitable<Result<std::string>> readAsync(std::shared_ptr<ColdFill> fill,
                                                      uint64_t from, uint64_t to,
                                                      size_t bufSize) {
  std::string out;
  std::vector<char> buf(bufSize);
  for (uint64_t off = from; off < to;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(bufSize, to - off));
    auto op = fill->read(off, std::span<char>(buf.data(), want), to);
    auto n = co_await std::move(op);
    if (!n) {
      co_return unexpected(n.error());
    }
    if (*n == 0 || off / kChunk != (off + *n - 1) / kChunk) {
      co_return unexpected(Code::kInternal, fmt::format("bad read of {} at {}", *n, off));
    }
    out.append(buf.data(), *n);
    off += *n;
  }
  co_return out;
}

// The same through a cold reader's coroutine half (the reader outlives the call).
inline asio::awaitable<Result<std::string>> readWindow(core::AsyncObjectReader* reader,
                                                       uint64_t from, uint64_t to) {
  std::string out;
  std::vector<char> buf(30'000);
  for (uint64_t off = from; off < to;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), to - off));
    auto op = reader->readAsync(off, std::span<char>(buf.data(), want));
    auto n = co_await std::move(op);
    if (!n) {
      co_return unexpected(n.error());
    }
    if (*n == 0) {
      co_return unexpected(Code::kInternal, "early end");
    }
    out.append(buf.data(), *n);
    off += *n;
  }
  co_return out;
}

inline Result<std::string> readBlocking(ColdFill& fill, uint64_t from, uint64_t to,
                                        size_t bufSize) {
  std::string out;
  std::vector<char> buf(bufSize);
  for (uint64_t off = from; off < to;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(bufSize, to - off));
    auto n = fill.readBlocking(off, std::span<char>(buf.data(), want), to);
    if (!n) {
      return unexpected(n.error());
    }
    if (*n == 0 || off / kChunk != (off + *n - 1) / kChunk) {
      return unexpected(Code::kInternal, fmt::format("bad read of {} at {}", *n, off));
    }
    out.append(buf.data(), *n);
    off += *n;
  }
  return out;
}

// Waits (bounded) for a condition another thread makes true; never a pass/fail timing.
template <typename Pred>
bool waitUntil(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::yield();
  }
  return true;
}

// An io_context run by `threads` threads (the network executors of a real server).
struct Pool {
  explicit Pool(int threads) : guard(asio::make_work_guard(io)) {
    for (int i = 0; i < threads; ++i) {
      workers.emplace_back([this] { io.run(); });
    }
  }
  ~Pool() {
    guard.reset();
    for (auto& t : workers) {
      t.join();
    }
  }
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::vector<std::thread> workers;
};

class FillTest : public ::testing::Test {
 protected:
  FillTest() : guard_(asio::make_work_guard(tier_)), cold_(tier_.get_executor()) {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("ember-fill-test-{}-{}", ::getpid(), counter++);
    options_.dir = dir_ / "fill";
    options_.chunkSize = kChunk;
  }
  ~FillTest() override {
    guard_.reset();  // run whatever is left, then stop
    if (thread_.joinable()) {
      thread_.join();
    } else {
      tier_.restart();
      tier_.run();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The tier thread; tests that drive the tier executor by hand (poll) do not start it.
  void startTier() {
    thread_ = std::thread([this] { tier_.run(); });
    tierId_ = thread_.get_id();
  }
  // Polls the hand-driven tier executor until `pred` holds.
  template <typename Pred>
  bool pollUntil(Pred pred) {
    return waitUntil([&] {
      tier_.poll();
      return pred();
    });
  }

  // Polls the hand-driven tier executor until every future in `futures` is ready.
  template <typename Futures>
  bool pollUntilAllReady(Futures& futures) {
    return pollUntil([&] {
      for (auto& f : futures) {
        if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
          return false;
        }
      }
      return true;
    });
  }

  cold::ColdObjectInfo infoOf(const std::string& key) {
    auto o = cold_.object(key);
    EXPECT_TRUE(o.has_value()) << key;
    cold::ColdObjectInfo info;
    info.key = key;
    info.size = o ? o->bytes.size() : 0;
    info.etag = o ? o->etag : "";
    return info;
  }
  std::shared_ptr<ColdFill> makeFill(const std::string& key) {
    auto f = ColdFill::create(tier_.get_executor(), cold_, key, infoOf(key), options_);
    EXPECT_TRUE(f) << f.error().toString();
    return f ? *f : nullptr;
  }
  // The chunk indexes the cold store was asked for, in call order.
  std::vector<uint64_t> chunksAsked() const {
    std::vector<uint64_t> out;
    for (const auto& call : cold_.getCalls()) {
      EXPECT_EQ(call.offset % kChunk, 0u);
      out.push_back(call.offset / kChunk);
    }
    return out;
  }

  asio::io_context tier_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  MemColdStore cold_;
  std::thread thread_;
  std::thread::id tierId_;
  std::filesystem::path dir_;
  FillOptions options_;
};

}  // namespace ember::tier
