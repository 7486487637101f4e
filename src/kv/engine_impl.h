#pragma once
// The Engine implementation: shards plus the background threads (flushers, expiry sweep, compaction).
// engine.cc holds open/close, reads and maintenance; update.cc holds update() and its Txn.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kv/engine.h"
#include "kv/shard.h"

namespace ember::kv {

class EngineImpl final : public Engine {
 public:
  explicit EngineImpl(const Options& opt, unsigned shardBits);
  ~EngineImpl() override;

  Status start();  // opens (recovers) every shard, then starts the threads

  const Options& options() const override { return shared_.opt; }
  Status read(std::string_view key,
              const std::function<void(std::string_view value, int64_t expireAtMs)>& fn) override;
  Result<int64_t> expiry(std::string_view key) override;
  Status update(std::span<const std::string_view> keys, const std::function<void(Txn&)>& fn,
                WriteSet* ws) override;
  void whenDurable(const WriteSet& ws, std::function<void()> done) override;
  Status sync() override;
  uint64_t size() const override;
  Status clear(WriteSet* ws) override;
  uint64_t scan(uint64_t cursor, size_t count,
                const std::function<void(std::string_view key, uint32_t valueLen, int64_t expireAtMs)>& fn)
      override;
  Result<std::string> randomKey() override;
  Stats stats() const override;

  Shard& shardOf(uint64_t hash) const {
    return *shards_[shared_.shardBits == 0 ? 0 : hash >> (64 - shared_.shardBits)];
  }
  Shared& shared() { return shared_; }

 private:
  struct Waiter {
    std::vector<WriteSet::Mark> marks;
    std::function<void()> done;
  };
  struct Flusher {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Waiter> waiters;
    std::thread thread;
  };

  size_t flusherOf(uint32_t shard) const { return shard % flushers_.size(); }
  bool durable(const WriteSet::Mark& m) const { return shards_[m.shard]->durableSeq() >= m.seq; }
  void flusherLoop(size_t t);
  void sweepLoop();
  void compactLoop();
  void enqueue(size_t t, Waiter w);

  Shared shared_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::unique_ptr<Flusher>> flushers_;
  std::thread sweeper_;
  std::thread compactor_;
  std::mutex stopMu_;
  std::condition_variable stopCv_;
  bool stop_ = false;
};

}  // namespace ember::kv
