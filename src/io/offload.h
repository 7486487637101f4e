#pragma once
// Blocking work (RocksDB, pread/pwrite, fsync) never runs on a network thread. A coroutine hands it
// to the BlockingPool with `co_await offload(pool, fn)` and resumes on its own executor afterwards.

#include <cstddef>
#include <type_traits>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ember {

namespace asio = boost::asio;

class BlockingPool {
 public:
  explicit BlockingPool(size_t threads) : pool_(threads) {}
  ~BlockingPool() { stop(); }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Waits for queued work to finish and joins the threads. Idempotent.
  void stop() {
    pool_.join();
  }
  asio::thread_pool::executor_type executor() { return pool_.get_executor(); }

 private:
  asio::thread_pool pool_;
};

// Runs fn() on the pool and returns its result to the calling coroutine, which resumes on its own
// executor. fn must not throw (errors are values) and must own everything it captures by value or
// refer to state that outlives the co_await.
// offload() is a plain function, not a coroutine: `fn` moves straight into the pool task and no
// extra coroutine frame is allocated per call.
template <typename F>
auto offload(BlockingPool& pool, F&& fn) {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  auto ex = pool.executor();
  if constexpr (std::is_void_v<R>) {
    return asio::async_initiate<const asio::use_awaitable_t<>, void()>(
        [ex](auto handler, Fn f) {
          asio::post(ex, [h = std::move(handler), f = std::move(f)]() mutable {
            f();
            auto hex = asio::get_associated_executor(h);
            asio::dispatch(hex, std::move(h));
          });
        },
        asio::use_awaitable, Fn(std::forward<F>(fn)));
  } else {
    return asio::async_initiate<const asio::use_awaitable_t<>, void(R)>(
        [ex](auto handler, Fn f) {
          asio::post(ex, [h = std::move(handler), f = std::move(f)]() mutable {
            R r = f();
            auto hex = asio::get_associated_executor(h);
            asio::dispatch(hex, [h2 = std::move(h), r2 = std::move(r)]() mutable {
              std::move(h2)(std::move(r2));
            });
          });
        },
        asio::use_awaitable, Fn(std::forward<F>(fn)));
  }
}

}  // namespace ember
